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

use std::path::Path;

use crate::Document;

pub mod html;
pub mod json;
pub mod markdown;

#[cfg(not(target_arch = "wasm32"))]
mod files;
#[cfg(all(test, not(target_arch = "wasm32")))]
mod test_dir;

#[cfg(not(target_arch = "wasm32"))]
pub use files::read_inputs;
pub use html::{html_to_text, HtmlText};
pub use markdown::{markdown_to_text, MarkdownText};

/// Why an input could not be read. The Display text is the whole message
/// (an io error's cause is part of it, and not repeated as `source()`), so
/// `{e:#}` prints each part once.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// A file or directory could not be read.
    #[error("{context}: {cause}")]
    Io {
        /// What was being read ("cannot read docs/a.md").
        context: String,
        /// The operating system's error.
        cause: std::io::Error,
    },
    /// The input is not something xling indexes, or a document in it is invalid.
    #[error("{0}")]
    Invalid(String),
}

impl InputError {
    /// An io error with what was being done, e.g. "cannot read FILE".
    pub fn io(context: impl Into<String>, cause: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            cause,
        }
    }
}

/// Titles derived from content are cut to this many characters: a title is a
/// label in a result list, not a paragraph.
pub const MAX_TITLE_CHARS: usize = 200;

/// How a text file is turned into a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Plain text, kept as it is.
    Text,
    /// Markdown: see [`markdown_to_text`].
    Markdown,
    /// HTML: see [`html_to_text`].
    Html,
}

impl Format {
    /// The format of a file the directory walk picks up, by extension.
    pub fn of_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "txt" => Some(Self::Text),
            "md" | "markdown" => Some(Self::Markdown),
            "html" | "htm" => Some(Self::Html),
            _ => None,
        }
    }
}

/// A document from a text file's contents: markup becomes text, and the
/// title comes from the markup or else the first non-blank line.
pub fn document_from_text(id: String, text: &str, format: Format) -> Document {
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

#[cfg(test)]
mod tests {
    use super::html::decode_entities;
    use super::*;

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
    fn long_titles_are_cut() {
        let doc = document_from_text("x".into(), &"é".repeat(500), Format::Text);
        assert_eq!(doc.title.map(|t| t.chars().count()), Some(MAX_TITLE_CHARS));
    }
}
