//! Bytes of an HTML file → text: a byte-order mark, else the `<meta
//! charset>` (or `http-equiv` content type) in the first 1024 bytes, else
//! UTF-8, the way browsers sniff a page served without a charset header.
//! Malformed bytes become U+FFFD; decoding never fails.

use encoding_rs::{Encoding, UTF_8};

/// How far browsers look for a `<meta charset>` (the HTML standard's prescan).
const PRESCAN: usize = 1024;

/// The page's text and the name of the encoding it was read in.
pub fn decode_html(bytes: &[u8]) -> (String, &'static str) {
    let encoding = Encoding::for_bom(bytes)
        .map(|(e, _)| e)
        .or_else(|| declared_charset(&bytes[..bytes.len().min(PRESCAN)]))
        .unwrap_or(UTF_8);
    // `decode` strips a BOM of any UTF and replaces malformed sequences.
    let (text, used, _) = encoding.decode(bytes);
    (text.into_owned(), used.name())
}

/// The encoding a `charset=` in `head` names, if it names one.
fn declared_charset(head: &[u8]) -> Option<&'static Encoding> {
    let lower = head.to_ascii_lowercase();
    let mut at = 0;
    while let Some(i) = find(&lower[at..], b"charset") {
        let mut j = at + i + b"charset".len();
        while lower.get(j).is_some_and(|b| b.is_ascii_whitespace()) {
            j += 1;
        }
        if lower.get(j) == Some(&b'=') {
            j += 1;
            while lower
                .get(j)
                .is_some_and(|b| b.is_ascii_whitespace() || *b == b'"' || *b == b'\'')
            {
                j += 1;
            }
            let end = lower[j..]
                .iter()
                .position(|b| {
                    !(b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':' | b'.'))
                })
                .map_or(lower.len(), |e| j + e);
            // UTF-16 declared in a byte stream that parsed as ASCII is UTF-8 (the standard's rule).
            return Encoding::for_label(&lower[j..end]).map(|e| {
                if e.name().starts_with("UTF-16") {
                    UTF_8
                } else {
                    e
                }
            });
        }
        at = j;
    }
    None
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_encodings_are_read_from_meta_charset_or_bom() {
        // "café" in windows-1252, declared two ways.
        let latin = b"<html><head><meta charset=\"windows-1252\"></head><p>caf\xe9</p>";
        assert!(decode_html(latin).0.contains("café"));
        let http_equiv =
            b"<meta http-equiv=Content-Type content='text/html; charset=ISO-8859-1'><p>caf\xe9";
        assert!(decode_html(http_equiv).0.contains("café"));
        // Shift_JIS "日本".
        let sjis = b"<meta charset=shift_jis><p>\x93\xfa\x96\x7b</p>";
        assert!(decode_html(sjis).0.contains("日本"));
        // A UTF-8 BOM wins over a wrong declaration, and is not part of the text.
        let bom = b"\xef\xbb\xbf<meta charset=windows-1252><p>caf\xc3\xa9";
        let (text, name) = decode_html(bom);
        assert!(text.contains("café") && !text.starts_with('\u{feff}'));
        assert_eq!(name, "UTF-8");
        // No declaration: UTF-8, malformed bytes replaced, never an error.
        let (text, name) = decode_html(b"<p>ok \xff\xfe end");
        assert_eq!(name, "UTF-8");
        assert!(text.contains("ok \u{fffd}\u{fffd} end"));
        // An unknown label falls back to UTF-8.
        assert_eq!(decode_html(b"<meta charset=klingon><p>x").1, "UTF-8");
    }
}
