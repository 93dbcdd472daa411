//! The HTML files of a built site and the URL each is served at.

use std::path::{Path, PathBuf};

use globset::{Glob, GlobMatcher};
use walkdir::WalkDir;

use crate::error::{SiteError, SiteResult};

/// Default pattern of the pages to index, relative to the site root.
pub const DEFAULT_GLOB: &str = "**/*.{html,htm}";

/// One HTML file of the site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteFile {
    /// Where it is on disk.
    pub path: PathBuf,
    /// Its URL relative to the site root, as a visitor requests it:
    /// `docs/a.html`, `docs/` for `docs/index.html`, `./` for the home page
    /// (never empty: it is also the page's id).
    pub url: String,
}

/// A file left out, and why (the build reports these).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The file, relative to the site root.
    pub path: PathBuf,
    /// Why it was not indexed.
    pub reason: String,
}

/// The site's HTML files matching `glob`, sorted by URL, excluding the
/// output directory `skip_dir` (a previous build) and anything a symlink
/// leads to outside the site.
pub fn site_files(
    site: &Path,
    glob: &str,
    skip_dir: Option<&Path>,
) -> SiteResult<(Vec<SiteFile>, Vec<Skipped>)> {
    let root = site
        .canonicalize()
        .map_err(|e| SiteError::io(format!("cannot open the site {}", site.display()), e))?;
    if !root.is_dir() {
        return Err(SiteError::Invalid(format!(
            "{} is not a directory",
            site.display()
        )));
    }
    let matcher: GlobMatcher = Glob::new(glob)
        .map_err(|e| SiteError::Invalid(format!("bad --glob {glob:?}: {e}")))?
        .compile_matcher();
    let skip_dir = skip_dir.and_then(|d| d.canonicalize().ok());
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    let walker = WalkDir::new(&root).follow_links(true).sort_by_file_name();
    let mut it = walker.into_iter();
    while let Some(entry) = it.next() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                // A symlink loop or an unreadable directory: report, go on.
                let path = e.path().map(|p| rel(&root, p)).unwrap_or_default();
                skipped.push(Skipped {
                    path,
                    reason: format!("cannot read: {e}"),
                });
                continue;
            }
        };
        let relative = rel(&root, entry.path());
        let real = entry.path().canonicalize().ok();
        let inside = real.as_deref().is_some_and(|r| r.starts_with(&root));
        if entry.file_type().is_dir() {
            let is_output = real.is_some() && real == skip_dir;
            if entry.depth() > 0 && (!inside || is_output) {
                if !inside {
                    skipped.push(Skipped {
                        path: relative,
                        reason: "a symlink to outside the site".into(),
                    });
                }
                it.skip_current_dir();
            }
            continue;
        }
        if !matcher.is_match(&relative) {
            continue;
        }
        if !inside {
            skipped.push(Skipped {
                path: relative,
                reason: "a symlink to outside the site".into(),
            });
            continue;
        }
        files.push(SiteFile {
            url: url_of(&relative),
            path: entry.path().to_path_buf(),
        });
    }
    // Two files at one URL (`a/index.html` and `a/index.htm`): `.html` wins.
    let htm = |f: &SiteFile| f.path.extension().is_some_and(|e| e == "htm");
    files.sort_by(|a, b| {
        a.url
            .cmp(&b.url)
            .then(htm(a).cmp(&htm(b)))
            .then(a.path.cmp(&b.path))
    });
    let mut unique: Vec<SiteFile> = Vec::with_capacity(files.len());
    for f in files {
        if unique.last().is_some_and(|u| u.url == f.url) {
            skipped.push(Skipped {
                path: rel(&root, &f.path),
                reason: format!("another file is served at /{}", f.url),
            });
        } else {
            unique.push(f);
        }
    }
    Ok((unique, skipped))
}

fn rel(root: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(root).unwrap_or(path).to_path_buf()
}

/// The URL a static host serves `relative` at: `index.html` files at their
/// directory, separators as `/`, each segment percent-encoded where needed.
pub fn url_of(relative: &Path) -> String {
    let segments: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let (last, dirs) = match segments.split_last() {
        Some(x) => x,
        None => return HOME.to_string(),
    };
    let mut url: String = dirs.iter().map(|d| format!("{}/", encode(d))).collect();
    if last != "index.html" && last != "index.htm" {
        url.push_str(&encode(last));
    }
    if url.is_empty() {
        url.push_str(HOME);
    }
    url
}

/// The home page's relative URL.
pub const HOME: &str = "./";

/// Percent-encoding of one path segment (RFC 3986 unreserved kept).
fn encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
