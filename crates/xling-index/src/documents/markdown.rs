//! Markdown kept as text: the few marks that would disturb search go.
/// A Markdown file's text and title.
pub struct MarkdownText {
    /// The text without heading marks, fences and front matter.
    pub text: String,
    /// From `title:` in YAML front matter, else the first `# heading`.
    pub title: Option<String>,
}

/// Markdown kept as text: heading `#`s, code fence lines and YAML front
/// matter are removed, everything else (emphasis marks, links) stays, which is
/// harmless for search.
pub fn markdown_to_text(md: &str) -> MarkdownText {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
