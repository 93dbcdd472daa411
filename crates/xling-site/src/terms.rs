//! The keyword tier's terms: lower-cased Unicode words, and character
//! bigrams for scripts written without spaces (Han, kana, Thai, Lao, Khmer,
//! Myanmar).
//!
//! The browser runtime (`runtime/xling.js`) splits queries with the same
//! rules, so the two must change together. Bigrams rather than a dictionary
//! segmenter (`Intl.Segmenter`) because they give the same terms on both
//! sides whatever the browser's ICU data, and need no dictionary.

use regex::Regex;
use std::sync::LazyLock;

/// Words longer than this (in chars) are not indexed: hashes, base64, URLs.
pub const MAX_TERM_CHARS: usize = 48;

static WORD: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::unwrap_used)] // a constant pattern
    Regex::new(r"[\p{L}\p{M}\p{N}]+").unwrap()
});

/// Whether `c` belongs to a script written without spaces between words.
/// Same table as `SPACELESS` in `runtime/xling.js`.
pub fn is_spaceless(c: char) -> bool {
    matches!(c as u32,
        0x0E00..=0x0EFF // Thai, Lao
        | 0x1000..=0x109F // Myanmar
        | 0x1780..=0x17FF // Khmer
        | 0x2E80..=0x2FDF // CJK radicals
        | 0x3005 | 0x3007 | 0x3021..=0x3029 | 0x3038..=0x303B
        | 0x3040..=0x30FF // Hiragana, Katakana
        | 0x31F0..=0x31FF
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xF900..=0xFAFF
        | 0xFF66..=0xFF9F
        | 0x20000..=0x2FA1F)
}

/// The terms of `text`, in order, repeats kept.
pub fn terms(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    let mut out = Vec::new();
    for run in WORD.find_iter(&lower) {
        let chars: Vec<char> = run.as_str().chars().collect();
        let mut start = 0;
        while start < chars.len() {
            let spaceless = is_spaceless(chars[start]);
            let mut end = start + 1;
            while end < chars.len() && is_spaceless(chars[end]) == spaceless {
                end += 1;
            }
            let seg = &chars[start..end];
            if spaceless {
                if seg.len() == 1 {
                    out.push(seg[0].to_string());
                }
                for pair in seg.windows(2) {
                    out.push(pair.iter().collect());
                }
            } else if seg.len() <= MAX_TERM_CHARS {
                out.push(seg.iter().collect());
            }
            start = end;
        }
    }
    out
}

/// Sort key that matches JavaScript's string comparison (UTF-16 code units),
/// so the runtime's binary search over shard boundaries agrees with ours.
pub fn js_order(a: &str, b: &str) -> std::cmp::Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_lowercased_and_split_at_punctuation() {
        assert_eq!(terms("Hello, Wörld! 42x"), ["hello", "wörld", "42x"]);
    }

    #[test]
    fn combining_marks_stay_in_the_word() {
        // Devanagari vowel signs are marks (Mn/Mc), not letters.
        assert_eq!(terms("नेपाली भाषा"), ["नेपाली", "भाषा"]);
    }

    #[test]
    fn spaceless_scripts_become_bigrams() {
        assert_eq!(terms("東京都"), ["東京", "京都"]);
        assert_eq!(terms("猫"), ["猫"]);
        assert_eq!(terms("abc東京"), ["abc", "東京"]);
    }

    #[test]
    fn overlong_words_are_dropped() {
        let long = "a".repeat(MAX_TERM_CHARS + 1);
        assert_eq!(terms(&format!("{long} ok")), ["ok"]);
    }

    #[test]
    fn order_is_utf16_order() {
        // U+FF5E (one unit 0xFF5E) sorts after U+1F600 (units 0xD83D…) in
        // UTF-16 but before it in UTF-8.
        assert_eq!(js_order("\u{1F600}", "\u{FF5E}"), std::cmp::Ordering::Less);
    }
}
