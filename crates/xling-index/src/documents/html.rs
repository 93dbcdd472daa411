//! HTML to plain text: a small, forgiving extractor for indexing.
/// An HTML page's text, title and declared language.
#[derive(Debug)]
pub struct HtmlText {
    /// The visible text, one paragraph per blank-line-separated block.
    pub text: String,
    /// `<title>`, entities decoded.
    pub title: Option<String>,
    /// `<html lang>`, when it is a plausible language tag.
    pub lang: Option<String>,
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
pub fn html_to_text(html: &str) -> HtmlText {
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
    if !raw.is_empty() {
        push_collapsed(out, &decode_entities(raw), pre);
    }
}

/// Appends text, collapsing whitespace runs to one space and dropping
/// leading whitespace (newlines kept when `pre`). Shared with the site
/// extractor, whose parser has decoded entities already.
pub fn push_collapsed(out: &mut String, text: &str, pre: bool) {
    for c in text.chars() {
        if pre && c == '\n' {
            out.push('\n');
        } else if c.is_whitespace() {
            if !out.is_empty() && !out.ends_with(|p: char| p.is_whitespace()) {
                out.push(' ');
            }
        } else {
            out.push(c);
        }
    }
}

/// Ends non-empty text with at least `newlines` newlines (block boundaries
/// do not add up).
pub fn end_line(out: &mut String, newlines: usize) {
    if out.is_empty() {
        return;
    }
    let have = out.len() - out.trim_end_matches('\n').len();
    for _ in have..newlines {
        out.push('\n');
    }
}

/// Lines trimmed, runs of blank lines reduced to one, none at either end.
pub fn tidy_lines(s: &str) -> String {
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

/// A plausible BCP 47 tag ("en", "pt-BR", "x-default"), or `None`.
pub fn clean_lang(raw: &str) -> Option<String> {
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
pub fn decode_entities(s: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
