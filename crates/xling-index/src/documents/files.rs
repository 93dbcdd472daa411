//! Reading inputs from the file system: files, directory walks, and the
//! checks across all inputs (valid documents, unique ids).

use std::collections::HashMap;
use std::fs;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use super::json::{read_json_array, read_json_lines};
use super::{document_from_text, Format, InputError};
use crate::Document;

type Result<T> = std::result::Result<T, InputError>;

fn is_json_lines(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("jsonl") || e.eq_ignore_ascii_case("json"))
}

/// Reads every input, validates every document and refuses duplicate ids, so
/// that indexing never starts on input it would have to reject halfway.
pub fn read_inputs(paths: &[PathBuf]) -> Result<Vec<Document>> {
    let mut docs = Vec::new();
    // id → where it was first seen, to name both places in a duplicate error.
    let mut seen: HashMap<String, String> = HashMap::new();
    for path in paths {
        let found = read_input(path)?;
        if found.is_empty() {
            return Err(InputError::Invalid(format!(
                "{}: no documents found (directories are searched for .txt, .md, .markdown, .html and .htm files)",
                path.display()
            )));
        }
        for (doc, source) in found {
            if let Err(e) = doc.validate() {
                return Err(InputError::Invalid(format!("{source}: {e}")));
            }
            if let Some(first) = seen.get(&doc.id) {
                return Err(InputError::Invalid(format!(
                    "duplicate document id {:?}: in {first} and in {source}",
                    doc.id
                )));
            }
            seen.insert(doc.id.clone(), source);
            docs.push(doc);
        }
    }
    Ok(docs)
}

/// One input's documents, each with where it came from ("file" or "file:line").
fn read_input(path: &Path) -> Result<Vec<(Document, String)>> {
    let meta = fs::metadata(path)
        .map_err(|e| InputError::io(format!("cannot read input {}", path.display()), e))?;
    if meta.is_dir() {
        return read_directory(path);
    }
    if is_json_lines(path) {
        return read_json_file(path);
    }
    let Some(format) = Format::of_path(path) else {
        return Err(InputError::Invalid(format!(
            "{}: unsupported input; pass a directory, a .jsonl or .json file, or a .txt, .md, .markdown, .html or .htm file",
            path.display()
        )));
    };
    let id = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| not_utf8_name(path))?;
    let text = read_utf8(path)?;
    Ok(vec![(
        document_from_text(id.to_string(), &text, format),
        path.display().to_string(),
    )])
}

fn not_utf8_name(path: &Path) -> InputError {
    InputError::Invalid(format!("{}: file name is not valid UTF-8", path.display()))
}

fn cannot_read(path: &Path, e: std::io::Error) -> InputError {
    InputError::io(format!("cannot read {}", path.display()), e)
}

/// A whole file as UTF-8 text, without a byte-order mark.
fn read_utf8(path: &Path) -> Result<String> {
    let bytes = fs::read(path).map_err(|e| cannot_read(path, e))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        InputError::Invalid(format!(
            "{}: not valid UTF-8 (at byte {}); convert it first, e.g. with iconv",
            path.display(),
            e.utf8_error().valid_up_to()
        ))
    })?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    })
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.as_encoded_bytes().first() == Some(&b'.')
}

fn read_directory(root: &Path) -> Result<Vec<(Document, String)>> {
    let mut files = Vec::new();
    collect_files(root, &mut files)?;
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = Vec::with_capacity(files.len());
    for (path, format) in files {
        let id = relative_id(root, &path)?;
        let text = read_utf8(&path)?;
        out.push((
            document_from_text(id, &text, format),
            path.display().to_string(),
        ));
    }
    Ok(out)
}

/// Adds the supported, non-hidden files under `dir` to `files`.
fn collect_files(dir: &Path, files: &mut Vec<(PathBuf, Format)>) -> Result<()> {
    let cannot_list = |e| InputError::io(format!("cannot list directory {}", dir.display()), e);
    let entries = fs::read_dir(dir).map_err(cannot_list)?;
    for entry in entries {
        let entry = entry.map_err(cannot_list)?;
        if is_hidden(&entry.file_name()) {
            continue;
        }
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| cannot_read(&path, e))?;
        if kind.is_dir() {
            collect_files(&path, files)?;
        } else if kind.is_file() || (kind.is_symlink() && path.is_file()) {
            if let Some(format) = Format::of_path(&path) {
                files.push((path, format));
            }
        }
    }
    Ok(())
}

/// `root/a/b.md` → `a/b.md`, the same on every platform.
fn relative_id(root: &Path, path: &Path) -> Result<String> {
    let rel = path.strip_prefix(root).map_err(|e| {
        InputError::Invalid(format!(
            "{} is not under {}: {e}",
            path.display(),
            root.display()
        ))
    })?;
    let mut parts = Vec::new();
    for part in rel.components() {
        let part = part
            .as_os_str()
            .to_str()
            .ok_or_else(|| not_utf8_name(path))?;
        parts.push(part);
    }
    Ok(parts.join("/"))
}

/// A `.jsonl` file, or a `.json` file of lines or of one array.
fn read_json_file(path: &Path) -> Result<Vec<(Document, String)>> {
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if is_json {
        let bytes = fs::read(path).map_err(|e| cannot_read(path, e))?;
        let body = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&bytes);
        if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
            return read_json_array(path, body);
        }
        return read_json_lines(path, body);
    }
    // Streamed: a BEIR corpus can be gigabytes, and its documents are held
    // in memory anyway.
    let file = fs::File::open(path).map_err(|e| cannot_read(path, e))?;
    read_json_lines(path, BufReader::new(file))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::test_dir::{error_of, TempDir};

    #[test]
    fn directory_walk_is_sorted_recursive_and_skips_hidden() -> Result<()> {
        let t = TempDir::new();
        let root = t.0.join("docs");
        t.write("docs/b.txt", "\n  Second file  \nbody");
        t.write("docs/a.md", "# Alpha\n\ntext");
        t.write("docs/sub/c.HTML", "<title>Gamma</title><p>c</p>");
        t.write("docs/sub/deeper/d.htm", "<p>delta</p>");
        t.write("docs/sub/e.markdown", "e");
        t.write("docs/.hidden.txt", "no");
        t.write("docs/.git/config.txt", "no");
        t.write("docs/image.png", [0xff, 0xd8, 0xff]);
        t.write("docs/notes.jsonl", "{}");
        let docs = read_inputs(&[root])?;
        let ids: Vec<&str> = docs.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "a.md",
                "b.txt",
                "sub/c.HTML",
                "sub/deeper/d.htm",
                "sub/e.markdown"
            ]
        );
        let titles: Vec<Option<&str>> = docs.iter().map(|d| d.title.as_deref()).collect();
        assert_eq!(
            titles,
            [
                Some("Alpha"),
                Some("Second file"),
                Some("Gamma"),
                Some("delta"),
                Some("e")
            ]
        );
        assert_eq!(docs[0].text, "Alpha\n\ntext");
        assert_eq!(docs[1].text, "\n  Second file  \nbody");
        Ok(())
    }

    #[test]
    fn empty_directory_is_an_error() {
        let t = TempDir::new();
        t.write("d/.hidden.txt", "x");
        let msg = error_of(&[t.0.join("d")]);
        assert!(msg.contains("no documents found"), "{msg}");
    }

    #[test]
    fn single_files_use_their_name_as_id() -> Result<()> {
        let t = TempDir::new();
        let md = t.write(
            "x/Guide.md",
            "---\ntitle: \"From front matter\"\n---\n# Heading\nbody",
        );
        let txt = t.write("y/plain.txt", "\u{feff}Line one\nline two");
        let docs = read_inputs(&[md, txt])?;
        assert_eq!(docs[0].id, "Guide.md");
        assert_eq!(docs[0].title.as_deref(), Some("From front matter"));
        assert_eq!(docs[0].text, "Heading\nbody");
        assert_eq!(docs[1].id, "plain.txt");
        assert_eq!(docs[1].text, "Line one\nline two");
        assert_eq!(docs[1].title.as_deref(), Some("Line one"));
        Ok(())
    }

    #[test]
    fn unsupported_and_missing_inputs_are_errors() {
        let t = TempDir::new();
        let pdf = t.write("a.pdf", "%PDF");
        assert!(error_of(&[pdf]).contains("unsupported input"));
        let msg = error_of(&[t.0.join("nope.txt")]);
        assert!(msg.contains("nope.txt"), "{msg}");
    }

    #[test]
    fn duplicate_ids_name_both_sources() {
        let t = TempDir::new();
        let a = t.write(
            "a.jsonl",
            "{\"id\":\"x\",\"text\":\"1\"}\n{\"id\":\"y\",\"text\":\"2\"}",
        );
        let b = t.write("b.jsonl", "\n{\"_id\":\"y\",\"text\":\"3\"}");
        let msg = error_of(&[a, b]);
        assert!(msg.contains("duplicate document id \"y\""), "{msg}");
        assert!(
            msg.contains("a.jsonl:2") && msg.contains("b.jsonl:2"),
            "{msg}"
        );

        // A file named like a directory entry's id.
        t.write("dir/n.txt", "one");
        let single = t.write("other/n.txt", "two");
        let msg = error_of(&[t.0.join("dir"), single]);
        assert!(msg.contains("\"n.txt\""), "{msg}");
    }

    #[test]
    fn non_utf8_files_are_named() {
        let t = TempDir::new();
        t.write("d/good.txt", "ok");
        t.write("d/latin1.txt", b"caf\xe9");
        let msg = error_of(&[t.0.join("d")]);
        assert!(
            msg.contains("latin1.txt") && msg.contains("not valid UTF-8"),
            "{msg}"
        );
    }
}
