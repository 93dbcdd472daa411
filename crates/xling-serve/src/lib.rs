//! A static file server: what `cargo xtask up` serves and the e2e tests and
//! browser benchmark load, and what `xling serve` runs to preview a built
//! site. Any static server works for xling's files (`docs/web.md`,
//! `docs/site.md`); this one needs nothing installed.
//!
//! It answers GET and HEAD with files inside its root only: no `..`, and a
//! path that leads outside the root through a symlink is refused like a
//! missing file. Directories give their `index.html`, never a listing.
//! Request lines and headers are bounded, so a client cannot make it buffer
//! without end.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::path::{Component, Path, PathBuf};
use std::thread;
use std::time::Duration;

/// The app's policy (the same as its meta tag), sent as a header by
/// [`Server::with_app_policy`].
pub const APP_CSP: &str =
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; \
connect-src 'self'; img-src 'self' data:; style-src 'self'; object-src 'none'; base-uri 'none'; \
form-action 'none'; require-trusted-types-for 'script'; trusted-types default xling-inert-html";

/// Longest request line or header line accepted.
pub const MAX_LINE_BYTES: usize = 8 * 1024;
/// Most header lines accepted.
pub const MAX_HEADERS: usize = 100;

/// A static server's settings.
#[derive(Debug, Clone)]
pub struct Server {
    root: PathBuf,
    csp: Option<String>,
}

impl Server {
    /// Serves `root` (which must exist) with no extra headers.
    pub fn new(root: &Path) -> std::io::Result<Self> {
        Ok(Self {
            root: root.canonicalize()?,
            csp: None,
        })
    }

    /// Also sends [`APP_CSP`] with every answer.
    pub fn with_app_policy(mut self) -> Self {
        self.csp = Some(APP_CSP.to_string());
        self
    }

    /// Starts listening on `addr` (port 0: any free port) in background
    /// threads and returns the bound address.
    pub fn start(self, addr: impl ToSocketAddrs) -> std::io::Result<SocketAddr> {
        let listener = TcpListener::bind(addr)?;
        let bound = listener.local_addr()?;
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let server = self.clone();
                thread::spawn(move || {
                    let _ = server.handle(stream);
                });
            }
        });
        Ok(bound)
    }

    fn handle(&self, mut stream: TcpStream) -> std::io::Result<()> {
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        let mut reader = BufReader::new(stream.try_clone()?);
        let Some(request_line) = read_line(&mut reader)? else {
            return self.too_large(&mut stream);
        };
        // Read the headers (bounded); nothing in them changes the answer.
        let mut headers = 0;
        loop {
            match read_line(&mut reader)? {
                Some(line) if line.trim().is_empty() => break,
                Some(_) if headers < MAX_HEADERS => headers += 1,
                _ => return self.too_large(&mut stream),
            }
        }
        let mut parts = request_line.split_whitespace();
        let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
        if method != "GET" && method != "HEAD" {
            return self.respond(
                &mut stream,
                "405 Method Not Allowed",
                "text/plain",
                b"",
                method,
            );
        }
        match resolve(&self.root, target).map(|p| (std::fs::read(&p), p)) {
            Some((Ok(body), path)) => {
                self.respond(&mut stream, "200 OK", content_type(&path), &body, method)
            }
            _ => self.respond(
                &mut stream,
                "404 Not Found",
                "text/plain",
                b"not found",
                method,
            ),
        }
    }

    /// The answer to a request line or headers over the bounds.
    fn too_large(&self, stream: &mut TcpStream) -> std::io::Result<()> {
        self.respond(
            stream,
            "431 Request Header Fields Too Large",
            "text/plain",
            b"request too large",
            "GET",
        )
    }

    fn respond(
        &self,
        stream: &mut TcpStream,
        status: &str,
        content_type: &str,
        body: &[u8],
        method: &str,
    ) -> std::io::Result<()> {
        let csp = self
            .csp
            .as_deref()
            .map(|p| format!("Content-Security-Policy: {p}\r\n"))
            .unwrap_or_default();
        let head = format!(
            "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
             Cache-Control: no-cache\r\nX-Content-Type-Options: nosniff\r\n{csp}Connection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes())?;
        if method != "HEAD" {
            stream.write_all(body)?;
        }
        stream.flush()
    }
}

/// One line of at most [`MAX_LINE_BYTES`]; `None` when longer.
fn read_line(reader: &mut impl BufRead) -> std::io::Result<Option<String>> {
    let mut line = Vec::new();
    reader
        .take(MAX_LINE_BYTES as u64 + 1)
        .read_until(b'\n', &mut line)?;
    if line.len() > MAX_LINE_BYTES {
        return Ok(None);
    }
    Ok(Some(String::from_utf8_lossy(&line).into_owned()))
}

/// The file for a request target: no query, no `..`, directories give their
/// `index.html`, and the file's real path (symlinks resolved) must lie
/// inside `root` (itself canonical).
pub fn resolve(root: &Path, target: &str) -> Option<PathBuf> {
    let path = target.split(['?', '#']).next()?;
    let path = percent_decode(path)?;
    let mut file = root.to_path_buf();
    for component in Path::new(path.trim_start_matches('/')).components() {
        match component {
            Component::Normal(part) => file.push(part),
            Component::CurDir => {}
            _ => return None,
        }
    }
    if file.is_dir() {
        file.push("index.html");
    }
    let real = file.canonicalize().ok()?;
    (real.starts_with(root) && real.is_file()).then_some(real)
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "wasm" => "application/wasm",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        "txt" | "md" | "ts" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_app_policy_header_is_the_apps_meta_tag() {
        let page = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/index.html");
        let html = std::fs::read_to_string(&page).expect("web/index.html is readable");
        let meta = format!("<meta http-equiv=\"Content-Security-Policy\" content=\"{APP_CSP}\">");
        assert!(
            html.contains(&meta),
            "web/index.html's policy differs from APP_CSP"
        );
        assert!(APP_CSP.contains("require-trusted-types-for 'script'"));
    }

    #[test]
    fn requests_map_to_files_inside_the_root_only() -> std::io::Result<()> {
        let base = std::env::temp_dir().join(format!("xling-serve-test-{}", std::process::id()));
        let root = base.join("site");
        std::fs::create_dir_all(&root)?;
        let root = root.canonicalize()?;
        std::fs::create_dir_all(root.join("model"))?;

        std::fs::write(root.join("index.html"), "<!doctype html>")?;
        std::fs::write(root.join("model").join("a b.json"), "{}")?;
        assert_eq!(resolve(&root, "/"), Some(root.join("index.html")));
        assert_eq!(resolve(&root, "/?x=1"), Some(root.join("index.html")));
        assert_eq!(
            resolve(&root, "/model/a%20b.json#top"),
            Some(root.join("model").join("a b.json"))
        );
        assert_eq!(resolve(&root, "/model/../index.html"), None);
        assert_eq!(resolve(&root, "/%2e%2e/etc/passwd"), None);
        assert_eq!(resolve(&root, "/missing.js"), None);
        assert_eq!(resolve(&root, "/%zz"), None);
        assert_eq!(content_type(Path::new("x_bg.wasm")), "application/wasm");
        // A symlink inside the root that leads out of it is refused; one
        // that stays inside is followed.
        std::fs::write(base.join("secret.txt"), "secret")?;
        std::os::unix::fs::symlink(base.join("secret.txt"), root.join("out.txt"))?;
        std::os::unix::fs::symlink(root.join("index.html"), root.join("in.html"))?;
        assert_eq!(resolve(&root, "/out.txt"), None);
        assert_eq!(resolve(&root, "/in.html"), Some(root.join("index.html")));
        std::fs::remove_dir_all(&base)?;
        Ok(())
    }

    #[test]
    fn oversized_request_lines_are_refused() -> std::io::Result<()> {
        let long = format!("GET /{} HTTP/1.1\r\n", "a".repeat(MAX_LINE_BYTES + 10));
        let mut reader = std::io::Cursor::new(long.into_bytes());
        assert_eq!(read_line(&mut reader)?, None);
        let mut ok = std::io::Cursor::new(b"GET / HTTP/1.1\r\nHost: x\r\n".to_vec());
        assert_eq!(read_line(&mut ok)?.as_deref(), Some("GET / HTTP/1.1\r\n"));
        Ok(())
    }

    #[test]
    fn a_real_request_gets_the_file_and_no_listing() -> std::io::Result<()> {
        let root = std::env::temp_dir().join(format!("xling-serve-live-{}", std::process::id()));
        std::fs::create_dir_all(root.join("empty"))?;
        std::fs::write(root.join("a.wasm"), b"\0asm")?;
        let addr = Server::new(&root)?.start("127.0.0.1:0")?;
        let get = |path: &str| -> std::io::Result<String> {
            let mut s = TcpStream::connect(addr)?;
            s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())?;
            let mut out = String::new();
            s.read_to_string(&mut out)?;
            Ok(out)
        };
        let wasm = get("/a.wasm")?;
        assert!(wasm.starts_with("HTTP/1.1 200 OK"), "{wasm}");
        assert!(wasm.contains("Content-Type: application/wasm"));
        assert!(get("/empty/")?.starts_with("HTTP/1.1 404"));
        assert!(get("/../etc/passwd")?.starts_with("HTTP/1.1 404"));
        std::fs::remove_dir_all(&root)?;
        Ok(())
    }
}
