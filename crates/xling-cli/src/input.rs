//! Reading the documents that `xling index INPUT...` indexes.
//!
//! Each INPUT is one of:
//! - a directory: every `.txt`, `.md`, `.markdown`, `.html` and `.htm` file
//!   under it, recursively, in path order; hidden files and directories
//!   (names starting with `.`) are skipped, other files are ignored, symbolic
//!   links to files are followed and links to directories are not (no cycles).
//!   The id is the path relative to the directory, with `/` separators.
//! - a `.jsonl` or `.json` file of one JSON object per line, either xling's
//!   `{"id","text","title"?,"url"?,"lang"?}` or a BEIR `corpus.jsonl` line
//!   `{"_id","title","text"}`, told apart per line by `_id`. A `.json` file
//!   whose first character is `[` is read as one array of such objects.
//! - a single `.txt`/`.md`/`.markdown`/`.html`/`.htm` file, whose id is its
//!   file name.
//!
//! HTML and Markdown become plain text here; nothing downstream sees markup.
//! Tags are dropped with their attributes (`<img src=x onerror=…>` leaves no
//! trace), while escaped markup (`&lt;img …&gt;`) decodes to literal text that
//! is then just text: whoever displays document text must escape it, as for
//! any untrusted string. Markdown is kept almost verbatim, so raw HTML inside
//! a Markdown file stays in its text.

use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{Map, Value};
use xling_index::Document;

/// Titles derived from content are cut to this many characters: a title is a
/// label in a result list, not a paragraph.
const MAX_TITLE_CHARS: usize = 200;

/// How a text file is turned into a document.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Format {
    Text,
    Markdown,
    Html,
}

/// The format of a file the directory walk picks up, by extension.
fn text_format(path: &Path) -> Option<Format> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "txt" => Some(Format::Text),
        "md" | "markdown" => Some(Format::Markdown),
        "html" | "htm" => Some(Format::Html),
        _ => None,
    }
}

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
            bail!(
                "{}: no documents found (directories are searched for .txt, .md, .markdown, .html and .htm files)",
                path.display()
            );
        }
        for (doc, source) in found {
            if let Err(e) = doc.validate() {
                bail!("{source}: {e}");
            }
            if let Some(first) = seen.get(&doc.id) {
                bail!(
                    "duplicate document id {:?}: in {first} and in {source}",
                    doc.id
                );
            }
            seen.insert(doc.id.clone(), source);
            docs.push(doc);
        }
    }
    Ok(docs)
}

/// One input's documents, each with where it came from ("file" or "file:line").
fn read_input(path: &Path) -> Result<Vec<(Document, String)>> {
    let meta =
        fs::metadata(path).with_context(|| format!("cannot read input {}", path.display()))?;
    if meta.is_dir() {
        return read_directory(path);
    }
    if is_json_lines(path) {
        return read_json_file(path);
    }
    let Some(format) = text_format(path) else {
        bail!(
            "{}: unsupported input; pass a directory, a .jsonl or .json file, or a .txt, .md, .markdown, .html or .htm file",
            path.display()
        );
    };
    let id = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| anyhow!("{}: file name is not valid UTF-8", path.display()))?;
    let text = read_utf8(path)?;
    Ok(vec![(
        document_from_text(id.to_string(), &text, format),
        path.display().to_string(),
    )])
}

/// A whole file as UTF-8 text, without a byte-order mark.
fn read_utf8(path: &Path) -> Result<String> {
    let bytes = fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        anyhow!(
            "{}: not valid UTF-8 (at byte {}); convert it first, e.g. with iconv",
            path.display(),
            e.utf8_error().valid_up_to()
        )
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
    let entries =
        fs::read_dir(dir).with_context(|| format!("cannot list directory {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list directory {}", dir.display()))?;
        if is_hidden(&entry.file_name()) {
            continue;
        }
        let path = entry.path();
        let kind = entry
            .file_type()
            .with_context(|| format!("cannot read {}", path.display()))?;
        if kind.is_dir() {
            collect_files(&path, files)?;
        } else if kind.is_file() || (kind.is_symlink() && path.is_file()) {
            if let Some(format) = text_format(&path) {
                files.push((path, format));
            }
        }
    }
    Ok(())
}

/// `root/a/b.md` → `a/b.md`, the same on every platform.
fn relative_id(root: &Path, path: &Path) -> Result<String> {
    let rel = path
        .strip_prefix(root)
        .with_context(|| format!("{} is not under {}", path.display(), root.display()))?;
    let mut parts = Vec::new();
    for part in rel.components() {
        let part = part
            .as_os_str()
            .to_str()
            .ok_or_else(|| anyhow!("{}: file name is not valid UTF-8", path.display()))?;
        parts.push(part);
    }
    Ok(parts.join("/"))
}

fn document_from_text(id: String, text: &str, format: Format) -> Document {
    let (text, title, lang) = match format {
        Format::Text => (text.to_string(), None, None),
        Format::Markdown => {
            let md = markdown_to_text(text);
            (md.text, md.title, None)
        }
        Format::Html => {
            let html = html_to_text(text);
            (html.text, html.title, html.lang)
        }
    };
    let title = title
        .and_then(|t| clean_title(&t))
        .or_else(|| text.lines().find_map(clean_title));
    Document {
        id,
        text,
        title,
        url: None,
        lang,
    }
}

/// Whitespace collapsed, cut to [`MAX_TITLE_CHARS`]; `None` if nothing is left.
fn clean_title(raw: &str) -> Option<String> {
    let collapsed = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    let title: String = collapsed.chars().take(MAX_TITLE_CHARS).collect();
    let title = title.trim_end().to_string();
    (!title.is_empty()).then_some(title)
}

// ---------------------------------------------------------------- Markdown

struct MarkdownText {
    text: String,
    /// From `title:` in YAML front matter, else the first `# heading`.
    title: Option<String>,
}

/// Markdown kept as text: heading `#`s, code fence lines and YAML front
/// matter are removed, everything else (emphasis marks, links) stays, which is
/// harmless for search.
fn markdown_to_text(md: &str) -> MarkdownText {
    let (mut title, body) = split_front_matter(md);
    let mut lines = Vec::new();
    // The open fence's character and length; a closing fence must match it.
    let mut fence: Option<(char, usize)> = None;
    for line in body.lines() {
        if let Some((ch, len, rest)) = fence_marker(line) {
            match fence {
                None => {
                    fence = Some((ch, len));
                    continue;
                }
                Some((open_ch, open_len))
                    if ch == open_ch && len >= open_len && rest.trim().is_empty() =>
                {
                    fence = None;
                    continue;
                }
                Some(_) => {}
            }
        }
        if fence.is_none() {
            if let Some((level, heading)) = atx_heading(line) {
                if level == 1 && title.is_none() {
                    title = Some(heading.to_string());
                }
                lines.push(heading);
                continue;
            }
        }
        lines.push(line);
    }
    MarkdownText {
        text: lines.join("\n").trim().to_string(),
        title,
    }
}

/// Splits `---` … `---` front matter off the top, returning its `title:`.
fn split_front_matter(md: &str) -> (Option<String>, &str) {
    let Some(rest) = md
        .strip_prefix("---\n")
        .or_else(|| md.strip_prefix("---\r\n"))
    else {
        return (None, md);
    };
    let mut title = None;
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        offset += line.len();
        let trimmed = line.trim_end();
        if trimmed == "---" || trimmed == "..." {
            return (title, &rest[offset..]);
        }
        if let Some(value) = trimmed.strip_prefix("title:") {
            let value = value.trim();
            let unquoted = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                .unwrap_or(value);
            title = Some(unquoted.to_string());
        }
    }
    // No closing line: not front matter after all.
    (None, md)
}

/// Up to three spaces of indentation, then the line's leading run of spaces
/// and tabs removed: what CommonMark allows before block markers.
fn strip_indent(line: &str) -> Option<&str> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    (indent <= 3).then(|| &line[indent..])
}

/// A ```` ``` ```` or `~~~` fence line: (character, run length, rest of line).
fn fence_marker(line: &str) -> Option<(char, usize, &str)> {
    let s = strip_indent(line)?;
    let ch = s.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let len = s.len() - s.trim_start_matches(ch).len();
    (len >= 3).then(|| (ch, len, &s[len..]))
}

/// An ATX heading (`## Title ##`): its level and text.
fn atx_heading(line: &str) -> Option<(usize, &str)> {
    let s = strip_indent(line)?;
    let level = s.len() - s.trim_start_matches('#').len();
    if !(1..=6).contains(&level) {
        return None;
    }
    let rest = &s[level..];
    if !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
        return None; // "#hashtag" is not a heading
    }
    let mut text = rest.trim();
    // An optional closing run of #s, when separated by a space.
    let without = text.trim_end_matches('#');
    if without.is_empty() || without.ends_with([' ', '\t']) {
        text = without.trim_end();
    }
    Some((level, text))
}

// -------------------------------------------------------------------- HTML

#[derive(Debug)]
struct HtmlText {
    text: String,
    title: Option<String>,
    lang: Option<String>,
}

/// Elements whose content is never text to index.
const SKIPPED: &[&str] = &["script", "style", "noscript", "template"];

/// Elements that stand apart as paragraphs: a blank line before and after.
const PARAGRAPHS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "body",
    "details",
    "dl",
    "fieldset",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "ul",
];

/// Elements that start a new line.
const LINES: &[&str] = &[
    "caption",
    "center",
    "dd",
    "div",
    "dt",
    "figcaption",
    "li",
    "option",
    "summary",
    "tbody",
    "tfoot",
    "thead",
    "tr",
];

/// Elements that may appear in `<head>`; any other start tag ends it, as in browsers.
const HEAD_CONTENT: &[&str] = &[
    "base", "link", "meta", "noscript", "script", "style", "template", "title",
];

/// A parsed start or end tag.
struct Tag<'a> {
    /// Lower-case.
    name: String,
    closing: bool,
    attrs: Vec<(String, &'a str)>,
    /// Byte just after the `>` (or the end of the input).
    end: usize,
}

/// Plain text of an HTML page: a small, forgiving extractor, not a full HTML5
/// parser. It never fails: unclosed tags or comments just end the text.
fn html_to_text(html: &str) -> HtmlText {
    let bytes = html.as_bytes();
    let mut out = String::with_capacity(html.len() / 2);
    let mut title = None;
    let mut lang = None;
    let mut in_head = false;
    let mut pre_depth = 0usize;
    let mut pos = 0;
    // Every search below is for ASCII bytes, so each index is a char boundary.
    while pos < html.len() {
        let lt = find_byte(bytes, pos, b'<').unwrap_or(html.len());
        let text = &html[pos..lt];
        // Text, like a body element, ends `<head>` (as in browsers).
        if in_head && !text.trim().is_empty() {
            in_head = false;
        }
        if !in_head {
            push_text(&mut out, text, pre_depth > 0);
        }
        if lt == html.len() {
            break;
        }
        let rest = &html[lt..];
        if rest.starts_with("<!--") {
            pos = find_str(html, lt + 4, "-->").map_or(html.len(), |i| i + 3);
            continue;
        }
        if rest.starts_with("<!") || rest.starts_with("<?") || rest.starts_with("</>") {
            pos = find_byte(bytes, lt, b'>').map_or(html.len(), |i| i + 1);
            continue;
        }
        let Some(tag) = parse_tag(html, lt) else {
            // "a < b": a literal less-than sign.
            in_head = false;
            push_text(&mut out, "<", pre_depth > 0);
            pos = lt + 1;
            continue;
        };
        pos = tag.end;
        let name = tag.name.as_str();
        if !tag.closing && (SKIPPED.contains(&name) || name == "title") {
            // Raw text up to the matching end tag.
            let (content_end, after) = find_end_tag(html, pos, name);
            if name == "title" && title.is_none() {
                title = Some(decode_entities(&html[pos..content_end]));
            }
            pos = after;
            continue;
        }
        match (name, tag.closing) {
            ("html", false) => {
                if let Some((_, value)) = tag.attrs.iter().find(|(k, _)| k == "lang") {
                    lang = clean_lang(&decode_entities(value));
                }
            }
            ("head", false) => in_head = true,
            ("head", true) | ("body", false) => in_head = false,
            ("pre", false) => pre_depth += 1,
            ("pre", true) => pre_depth = pre_depth.saturating_sub(1),
            (other, false) if in_head && !HEAD_CONTENT.contains(&other) => in_head = false,
            _ => {}
        }
        if name == "br" {
            out.push('\n');
        } else if PARAGRAPHS.contains(&name) {
            end_line(&mut out, 2);
        } else if LINES.contains(&name) {
            end_line(&mut out, 1);
        } else if name == "td" || name == "th" {
            push_text(&mut out, " ", false);
        }
    }
    HtmlText {
        text: tidy_lines(&out),
        title,
        lang,
    }
}

fn find_byte(bytes: &[u8], from: usize, b: u8) -> Option<usize> {
    bytes
        .get(from..)?
        .iter()
        .position(|x| *x == b)
        .map(|i| from + i)
}

fn find_str(s: &str, from: usize, needle: &str) -> Option<usize> {
    s.get(from..)?.find(needle).map(|i| from + i)
}

/// Parses the tag starting at the `<` at `lt`, or `None` if no tag starts
/// there (then the `<` is text).
fn parse_tag(html: &str, lt: usize) -> Option<Tag<'_>> {
    let bytes = html.as_bytes();
    let mut i = lt + 1;
    let closing = bytes.get(i) == Some(&b'/');
    if closing {
        i += 1;
    }
    if !bytes.get(i)?.is_ascii_alphabetic() {
        return None;
    }
    let name_start = i;
    while bytes
        .get(i)
        .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b':')
    {
        i += 1;
    }
    let name = html[name_start..i].to_ascii_lowercase();
    let mut attrs = Vec::new();
    // Attributes: name, name=value, name="value", name='value'. Every branch
    // advances `i`, so the loop ends.
    loop {
        while bytes
            .get(i)
            .is_some_and(|b| b.is_ascii_whitespace() || *b == b'/')
        {
            i += 1;
        }
        match bytes.get(i) {
            None => break,
            Some(b'>') => {
                i += 1;
                break;
            }
            Some(_) => {}
        }
        let attr_start = i;
        i += 1;
        while bytes
            .get(i)
            .is_some_and(|b| !b.is_ascii_whitespace() && !matches!(b, b'=' | b'>' | b'/'))
        {
            i += 1;
        }
        let attr = html[attr_start..i].to_ascii_lowercase();
        while bytes.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
            i += 1;
        }
        let mut value = "";
        if bytes.get(i) == Some(&b'=') {
            i += 1;
            while bytes.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
                i += 1;
            }
            match bytes.get(i) {
                Some(&q) if q == b'"' || q == b'\'' => {
                    let end = find_byte(bytes, i + 1, q).unwrap_or(html.len());
                    value = &html[i + 1..end];
                    i = (end + 1).min(html.len());
                }
                _ => {
                    let start = i;
                    while bytes
                        .get(i)
                        .is_some_and(|b| !b.is_ascii_whitespace() && *b != b'>')
                    {
                        i += 1;
                    }
                    value = &html[start..i];
                }
            }
        }
        attrs.push((attr, value));
    }
    Some(Tag {
        name,
        closing,
        attrs,
        end: i.min(html.len()),
    })
}

/// For raw-text elements (`<script>`…): where the content ends, and where the
/// end tag ends. Unclosed: both are the end of the input.
fn find_end_tag(html: &str, from: usize, name: &str) -> (usize, usize) {
    let bytes = html.as_bytes();
    let mut at = from;
    while let Some(i) = find_str(html, at, "</") {
        let name_end = i + 2 + name.len();
        let matches = bytes
            .get(i + 2..name_end)
            .is_some_and(|n| n.eq_ignore_ascii_case(name.as_bytes()));
        let delimited = bytes
            .get(name_end)
            .is_none_or(|b| b.is_ascii_whitespace() || *b == b'>' || *b == b'/');
        if matches && delimited {
            let after = find_byte(bytes, name_end, b'>').map_or(html.len(), |g| g + 1);
            return (i, after);
        }
        at = i + 2;
    }
    (html.len(), html.len())
}

/// Appends decoded text, collapsing whitespace runs to one space (newlines
/// kept inside `<pre>`).
fn push_text(out: &mut String, raw: &str, pre: bool) {
    if raw.is_empty() {
        return;
    }
    for c in decode_entities(raw).chars() {
        if pre && c == '\n' {
            out.push('\n');
        } else if c.is_whitespace() {
            if !out.ends_with(|p: char| p.is_whitespace()) {
                out.push(' ');
            }
        } else {
            out.push(c);
        }
    }
}

/// Ends the text with at least `newlines` newlines (block boundaries do not add up).
fn end_line(out: &mut String, newlines: usize) {
    let have = out.len() - out.trim_end_matches('\n').len();
    for _ in have..newlines {
        out.push('\n');
    }
}

/// Lines trimmed, runs of blank lines reduced to one, none at either end.
fn tidy_lines(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut blank = false;
    for line in s.lines().map(str::trim) {
        if line.is_empty() {
            blank = !out.is_empty();
            continue;
        }
        if blank {
            out.push('\n');
            blank = false;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(line);
    }
    out
}

/// A plausible BCP 47 tag ("en", "pt-BR"), or `None`.
fn clean_lang(raw: &str) -> Option<String> {
    let lang = raw.trim();
    let ok = !lang.is_empty()
        && lang.len() <= 35
        && lang
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then(|| lang.to_string())
}

/// Named entities decoded; unknown ones are left as written.
const ENTITIES: &[(&str, char)] = &[
    ("amp", '&'),
    ("lt", '<'),
    ("gt", '>'),
    ("quot", '"'),
    ("apos", '\''),
    // A plain space: for search a non-breaking space is a space.
    ("nbsp", ' '),
    ("ndash", '–'),
    ("mdash", '—'),
    ("hellip", '…'),
    ("lsquo", '‘'),
    ("rsquo", '’'),
    ("ldquo", '“'),
    ("rdquo", '”'),
    ("laquo", '«'),
    ("raquo", '»'),
    ("copy", '©'),
    ("reg", '®'),
    ("euro", '€'),
];

/// Decodes `&name;`, `&#NNN;` and `&#xHH;`. Malformed references stay as
/// written; numeric ones naming no character become U+FFFD.
fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        // The reference is at most ~10 bytes; look no further for the ';'.
        let decoded = rest
            .get(1..)
            .and_then(|r| r.find(';').filter(|semi| *semi <= 10).map(|semi| (r, semi)))
            .and_then(|(r, semi)| decode_reference(&r[..semi]).map(|c| (c, semi + 2)));
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The character of a reference body (`amp`, `#39`, `#x27`).
fn decode_reference(body: &str) -> Option<char> {
    if let Some(num) = body.strip_prefix('#') {
        let (digits, radix) = match num.strip_prefix(['x', 'X']) {
            Some(hex) => (hex, 16),
            None => (num, 10),
        };
        if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
            return None;
        }
        let code = u32::from_str_radix(digits, radix).ok();
        return Some(
            code.filter(|c| *c != 0)
                .and_then(char::from_u32)
                .unwrap_or('\u{fffd}'),
        );
    }
    ENTITIES
        .iter()
        .find(|(name, _)| *name == body)
        .map(|(_, c)| *c)
}

// -------------------------------------------------------------- JSON lines

fn read_json_file(path: &Path) -> Result<Vec<(Document, String)>> {
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if is_json {
        let bytes = fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let body = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&bytes);
        if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
            return read_json_array(path, body);
        }
        return read_json_lines(path, body);
    }
    // Streamed: a BEIR corpus can be gigabytes, and its documents are held
    // in memory anyway.
    let file = fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    read_json_lines(path, BufReader::new(file))
}

/// One JSON object per line; blank lines are skipped.
fn read_json_lines(path: &Path, mut reader: impl BufRead) -> Result<Vec<(Document, String)>> {
    let mut out = Vec::new();
    let mut buf = Vec::new();
    let mut line_no = 0usize;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let here = || format!("{}:{line_no}", path.display());
        let mut line = buf.strip_suffix(b"\n").unwrap_or(&buf);
        line = line.strip_suffix(b"\r").unwrap_or(line);
        if line_no == 1 {
            line = line.strip_prefix(b"\xef\xbb\xbf").unwrap_or(line);
        }
        let line = std::str::from_utf8(line).map_err(|e| {
            anyhow!(
                "{}: not valid UTF-8 (at byte {} of the line)",
                here(),
                e.valid_up_to()
            )
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(line).map_err(|e| {
            anyhow!(
                "{}:{}: invalid JSON: {}",
                here(),
                e.column(),
                json_error_message(&e)
            )
        })?;
        let doc = document_from_json(&value).map_err(|msg| anyhow!("{}: {msg}", here()))?;
        out.push((doc, here()));
    }
    Ok(out)
}

/// A `.json` file holding one array of document objects.
fn read_json_array(path: &Path, bytes: &[u8]) -> Result<Vec<(Document, String)>> {
    let values: Vec<Value> = serde_json::from_slice(bytes).map_err(|e| {
        anyhow!(
            "{}:{}:{}: invalid JSON: {}",
            path.display(),
            e.line(),
            e.column(),
            json_error_message(&e)
        )
    })?;
    let mut out = Vec::with_capacity(values.len());
    for (i, value) in values.iter().enumerate() {
        let here = format!("{} (array element {})", path.display(), i + 1);
        let doc = document_from_json(value).map_err(|msg| anyhow!("{here}: {msg}"))?;
        out.push((doc, here));
    }
    Ok(out)
}

/// serde_json's message without its " at line L column C" (we give our own position).
fn json_error_message(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg,
    }
}

/// One object in xling's format or BEIR's (`_id` present).
fn document_from_json(value: &Value) -> Result<Document, String> {
    let obj = value
        .as_object()
        .ok_or_else(|| format!("expected a JSON object, found {}", json_type(value)))?;
    if obj.contains_key("_id") {
        return Ok(Document {
            id: required_str(obj, "_id")?,
            text: required_str(obj, "text")?,
            title: optional_str(obj, "title")?,
            url: None,
            lang: None,
        });
    }
    Ok(Document {
        id: required_str(obj, "id")?,
        text: required_str(obj, "text")?,
        title: optional_str(obj, "title")?,
        url: optional_str(obj, "url")?,
        lang: optional_str(obj, "lang")?,
    })
}

fn required_str(obj: &Map<String, Value>, key: &str) -> Result<String, String> {
    match obj.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(format!(
            "\"{key}\" must be a string, found {}",
            json_type(other)
        )),
        None => Err(format!("missing \"{key}\"")),
    }
}

/// A string field that may be absent or null; empty or blank counts as absent
/// (BEIR writes `"title": ""` for untitled documents).
fn optional_str(obj: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!(
            "\"{key}\" must be a string or null, found {}",
            json_type(other)
        )),
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A fresh directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> Self {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let dir = std::env::temp_dir().join(format!(
                "xling-input-test-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            Self(dir)
        }

        fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
            let path = self.0.join(rel);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, contents).unwrap();
            path
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn error_of(paths: &[PathBuf]) -> String {
        match read_inputs(paths) {
            Ok(docs) => panic!("expected an error, got {docs:?}"),
            Err(e) => format!("{e:#}"),
        }
    }

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
    fn html_drops_scripts_styles_comments_and_head() {
        let html = r#"<!DOCTYPE html>
<html lang="pt-BR"><head><meta charset="utf-8"><title>Caf&eacute; &amp; &quot;Bar&quot;</title>
<style>p { color: red }</style><script>var x = "</p>"; if (a < b) alert(1)</script></head>
<body><!-- a <p>comment</p> --><h1>Hello&nbsp;world</h1>
<p>Tom &amp; Jerry &lt;3 &#39;x&#39; &#233;t&#xE9; &#x1F600; &#0; &#xD800; &bogus; AT&T</p>
<noscript>enable js</noscript><SCRIPT type="text/javascript">evil()</SCRIPT >
<ul><li>one</li><li>two</li></ul>a < b<br>next<table><tr><td>c1</td><td>c2</td></tr></table>
</body></html>"#;
        let out = html_to_text(html);
        assert_eq!(out.title.as_deref(), Some("Caf&eacute; & \"Bar\""));
        assert_eq!(out.lang.as_deref(), Some("pt-BR"));
        assert_eq!(
            out.text,
            "Hello world\n\nTom & Jerry <3 'x' été 😀 \u{fffd} \u{fffd} &bogus; AT&T\n\none\ntwo\n\na < b\nnext\n\nc1 c2"
        );
        for gone in ["color", "alert", "comment", "enable js", "evil", "charset"] {
            assert!(!out.text.contains(gone), "{gone} leaked");
        }
    }

    #[test]
    fn hostile_markup_never_survives_as_markup() {
        // A real tag is dropped with its attributes; escaped markup decodes to
        // literal text, which is data like any other text (displays escape it).
        let out = html_to_text(
            "<p>Click <img src=x onerror=alert(1)> here &lt;img src=x onerror=alert(1)&gt;</p>\
             <a href='javascript:alert(2)' title=\"a>b\">link</a><div",
        );
        assert_eq!(out.text, "Click here <img src=x onerror=alert(1)>\n\nlink");
        // Unclosed script and comment swallow the rest instead of leaking it.
        assert_eq!(html_to_text("a<script>b").text, "a");
        assert_eq!(html_to_text("a<!-- b").text, "a");
        assert_eq!(html_to_text("<title>t").title.as_deref(), Some("t"));
        // Script end tags are matched by name, not by any "</".
        assert_eq!(
            html_to_text("<script>x='</b>'</scriptx></script>ok").text,
            "ok"
        );
    }

    #[test]
    fn html_without_head_end_and_odd_lang() {
        let out = html_to_text("<html lang=\"<script>\"><head><title>T</title><p>body text");
        assert_eq!(out.lang, None);
        assert_eq!(out.title.as_deref(), Some("T"));
        assert_eq!(out.text, "body text");
        let out = html_to_text("<head><title>T</title>\n Stray text<p>more");
        assert_eq!(out.text, "Stray text\n\nmore");
        let out = html_to_text("<pre>line 1\n  line 2</pre>after");
        assert_eq!(out.text, "line 1\nline 2\n\nafter");
    }

    #[test]
    fn extractors_never_panic_on_fragments() {
        // Random concatenations of the pieces the parsers look for, with
        // multi-byte characters next to every delimiter.
        let pieces = [
            "<",
            ">",
            "</",
            "<!--",
            "-->",
            "<!",
            "<?",
            "<script>",
            "</script",
            "<title>",
            "</title>",
            "&",
            "&#",
            "&#x",
            ";",
            "\"",
            "'",
            "=",
            "é",
            "😀",
            "<p",
            "<html lang=",
            "<head>",
            "</head>",
            "<pre>",
            "#",
            "```",
            "~~~",
            "---\n",
            "\n",
            "\r\n",
            " ",
            "a",
            "&amp;",
            "&#1114112;",
            "<br/>",
            "<td>",
            "title:",
        ];
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as usize
        };
        for _ in 0..5_000 {
            let mut s = String::new();
            for _ in 0..next() % 24 {
                s.push_str(pieces[next() % pieces.len()]);
            }
            for format in [Format::Text, Format::Markdown, Format::Html] {
                let doc = document_from_text("x".into(), &s, format);
                assert!(doc
                    .title
                    .is_none_or(|t| t.chars().count() <= MAX_TITLE_CHARS));
            }
            let _ = decode_entities(&s);
        }
    }

    #[test]
    fn markdown_strips_heading_marks_and_fences() {
        let md = "Intro line\n\n## Section ##\n```rust\n# not a heading\nlet x = 1;\n```\n#hashtag\n  # Title later\n~~~\ncode\n~~~";
        let out = markdown_to_text(md);
        assert_eq!(
            out.text,
            "Intro line\n\nSection\n# not a heading\nlet x = 1;\n#hashtag\nTitle later\ncode"
        );
        assert_eq!(out.title.as_deref(), Some("Title later"));
        // Unclosed front matter is text.
        let out = markdown_to_text("---\nnot: closed\nbody");
        assert_eq!(out.title, None);
        assert!(out.text.starts_with("---"));
    }

    #[test]
    fn long_titles_are_cut() {
        let doc = document_from_text("x".into(), &"é".repeat(500), Format::Text);
        assert_eq!(doc.title.map(|t| t.chars().count()), Some(MAX_TITLE_CHARS));
    }

    #[test]
    fn jsonl_reads_both_flavours() -> Result<()> {
        let t = TempDir::new();
        let path = t.write(
            "corpus.jsonl",
            concat!(
                "{\"id\":\"a\",\"text\":\"alpha\",\"title\":\"A\",\"url\":\"https://a.example\",\"lang\":\"en\"}\n",
                "\n",
                "  \r\n",
                "{\"_id\":\"b\",\"title\":\"\",\"text\":\"beta\",\"metadata\":{}}\r\n",
                "{\"_id\":\"c\",\"title\":\"Gamma\",\"text\":\"gamma\"}\n",
                "{\"id\":\"d\",\"text\":\"delta\",\"title\":null,\"extra\":1}",
            ),
        );
        let docs = read_inputs(&[path])?;
        assert_eq!(docs.len(), 4);
        assert_eq!(
            docs[0],
            Document {
                id: "a".into(),
                text: "alpha".into(),
                title: Some("A".into()),
                url: Some("https://a.example".into()),
                lang: Some("en".into()),
            }
        );
        assert_eq!((docs[1].id.as_str(), docs[1].title.as_deref()), ("b", None));
        assert_eq!(docs[2].title.as_deref(), Some("Gamma"));
        assert_eq!((docs[3].id.as_str(), docs[3].title.as_deref()), ("d", None));
        Ok(())
    }

    #[test]
    fn json_array_files_are_read() -> Result<()> {
        let t = TempDir::new();
        let path = t.write(
            "docs.json",
            "[\n {\"id\": \"1\", \"text\": \"one\"},\n {\"_id\": \"2\", \"text\": \"two\"}\n]\n",
        );
        let docs = read_inputs(&[path])?;
        assert_eq!(docs.len(), 2);
        let bad = t.write("bad.json", "[{\"id\": \"1\", \"text\": 5}]");
        let msg = error_of(&[bad]);
        assert!(msg.contains("array element 1") && msg.contains("\"text\" must be a string"));
        Ok(())
    }

    #[test]
    fn jsonl_errors_name_file_and_line() {
        let t = TempDir::new();
        let cases: &[(&[u8], &str)] = &[
            (
                b"{\"id\":\"a\",\"text\":\"x\"}\n\n{\"id\": \"b\", \"text\": }",
                ":3:",
            ),
            (b"{\"id\":\"a\"}", ":1: missing \"text\""),
            (b"\n{\"_id\":\"a\",\"title\":\"t\"}", ":2: missing \"text\""),
            (
                b"{\"id\":7,\"text\":\"x\"}",
                ":1: \"id\" must be a string, found a number",
            ),
            (
                b"{\"id\":\"a\",\"text\":\"x\",\"url\":[]}",
                "\"url\" must be a string or null",
            ),
            (b"[1]", ":1: expected a JSON object, found an array"),
            (
                b"{\"id\":\"a\",\"text\":\"x\"}\n{\"id\":\"b\",\"text\":\"\xff\"}",
                ":2: not valid UTF-8",
            ),
            (b"{\"id\":\"  \",\"text\":\"x\"}", ":1: document id"),
        ];
        for (i, (contents, expected)) in cases.iter().enumerate() {
            let path = t.write(&format!("case{i}.jsonl"), contents);
            let msg = error_of(&[path]);
            assert!(
                msg.contains(&format!("case{i}.jsonl")) && msg.contains(expected),
                "case {i}: {msg}"
            );
        }
        let empty = t.write("empty.jsonl", "\n\n");
        assert!(error_of(&[empty]).contains("no documents found"));
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
