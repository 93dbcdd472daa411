//! Long documents → passages: sentence-aware, bounded in tokens, overlapping,
//! and kept as byte ranges of the text so a result can show its passage and
//! highlight the sentence that matched.
//!
//! Sentences come from UAX#29, which already ends a sentence at every line
//! break and at the terminators of most scripts (`. ! ?`, `。！？`, `। ॥`,
//! `؟ ۔`, `። ፧`, `။`, `។`, `։` …); we add the few it lacks (Tibetan shad,
//! Sinhala kunddaliya, Coptic full stop, page breaks). Passages pack whole
//! sentences; a sentence too long for one passage is cut at word bounds, a word
//! too long at grapheme bounds, a grapheme too long at char bounds.

use std::ops::Range;

use unicode_segmentation::UnicodeSegmentation;

use xling_model::error::{Error, Result};

/// Byte range into the document text.
pub type Span = Range<usize>;

/// How documents are cut into passages.
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkConfig {
    /// Max tokens per passage (counted by the caller's counter, without prefix/specials). Default 192.
    pub max_tokens: usize,
    /// Tokens of trailing context from the previous passage repeated at the start of the next (whole sentences only, at most this many tokens). Default 48.
    pub overlap_tokens: usize,
}

impl Default for ChunkConfig {
    fn default() -> Self {
        Self {
            max_tokens: 192,
            overlap_tokens: 48,
        }
    }
}

impl ChunkConfig {
    /// Refuses a config that cannot make progress: an empty passage budget, or an
    /// overlap that would fill the whole passage.
    pub fn validate(&self) -> Result<()> {
        if self.max_tokens == 0 {
            return Err(Error::InvalidInput(
                "chunk max_tokens must be at least 1".to_string(),
            ));
        }
        if self.overlap_tokens >= self.max_tokens {
            return Err(Error::InvalidInput(format!(
                "chunk overlap_tokens ({}) must be smaller than max_tokens ({})",
                self.overlap_tokens, self.max_tokens
            )));
        }
        Ok(())
    }
}

/// One passage of a document.
#[derive(Debug, Clone, PartialEq)]
pub struct Chunk {
    /// The passage: a byte range of the document text (trimmed of surrounding whitespace).
    pub span: Span,
    /// The sentences inside `span`, in order (byte ranges into the document text, trimmed), used to highlight the best-matching sentence.
    /// A sentence too long for one passage appears as the piece of it that this passage holds.
    pub sentences: Vec<Span>,
}

/// Sentence terminators that UAX#29 (Unicode 16, unicode-segmentation 1.13)
/// does not know, plus vertical tab and form feed (page breaks in .txt files),
/// which it treats as spaces.
const EXTRA_TERMINATORS: &[char] = &[
    '\u{0F0D}', // ། TIBETAN MARK SHAD
    '\u{0F0E}', // ༎ TIBETAN MARK NYIS SHAD
    '\u{0F0F}', // ༏ TIBETAN MARK TSHEG SHAD
    '\u{0F10}', // ༐ TIBETAN MARK NYIS TSHEG SHAD
    '\u{0F11}', // ༑ TIBETAN MARK RIN CHEN SPUNGS SHAD
    '\u{0DF4}', // ෴ SINHALA PUNCTUATION KUNDDALIYA
    '\u{2CFE}', // ⳾ COPTIC FULL STOP
    '\u{0B}', '\u{0C}',
];

/// Closing punctuation that stays with the sentence it ends (`།」`, `།)`).
const CLOSERS: &[char] = &[
    ')', ']', '}', '"', '\'', '»', '›', '’', '”', '」', '』', '）', '］', '｝', '》', '〉', '】',
    '〕', '〗', '〙', '〛',
];

/// Line and paragraph separators: a sentence never continues across one.
fn is_line_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

/// `span` without its leading and trailing whitespace; `None` if nothing is left.
fn trimmed(text: &str, span: Span) -> Option<Span> {
    let s = &text[span.clone()];
    let rest = s.trim_start();
    let start = span.start + (s.len() - rest.len());
    let len = rest.trim_end().len();
    (len > 0).then_some(start..start + len)
}

/// Cuts the UAX#29 sentence `segment` after each of [`EXTRA_TERMINATORS`]
/// (with the closers and spaces that follow it) and pushes the pieces.
fn push_extra_splits(text: &str, segment: Span, out: &mut Vec<Span>) {
    let s = &text[segment.clone()];
    let mut piece_start = 0;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if !EXTRA_TERMINATORS.contains(&c) {
            continue;
        }
        let mut end = i + c.len_utf8();
        while let Some(&(j, d)) = chars.peek() {
            if !(EXTRA_TERMINATORS.contains(&d) || CLOSERS.contains(&d)) {
                break;
            }
            end = j + d.len_utf8();
            chars.next();
        }
        while let Some(&(j, d)) = chars.peek() {
            if !d.is_whitespace() {
                break;
            }
            end = j + d.len_utf8();
            chars.next();
        }
        if end < s.len() {
            out.push(segment.start + piece_start..segment.start + end);
            piece_start = end;
        }
    }
    out.push(segment.start + piece_start..segment.end);
}

/// Sentence spans of `text` (trimmed, non-empty; whitespace-only text gives
/// none), in order. Splits at UAX#29 sentence boundaries, which cover line
/// breaks and the terminators of most scripts (。！？ । ॥ ؟ ۔ ። ...), and after
/// the few terminators UAX#29 lacks (see the module doc).
///
/// Every line break ends a sentence (UAX#29 treats it as a paragraph
/// separator): headings, list items and table rows stay apart, and hard-wrapped
/// prose only gets shorter "sentences", which passages pack together anyway.
/// A fragment with no letters (the `1.` of a numbered list, a lone dash or
/// emoji) joins the sentence that follows it on the same line.
/// Known UAX#29 limits kept as they are: abbreviations such as `Dr. Smith`
/// end a sentence, and a `.` followed by a lowercase word does not.
pub fn split_sentences(text: &str) -> Vec<Span> {
    let mut pieces = Vec::new();
    for (offset, segment) in text.split_sentence_bound_indices() {
        push_extra_splits(text, offset..offset + segment.len(), &mut pieces);
    }

    let mut sentences = Vec::new();
    // A letterless fragment waiting for the next sentence on its line.
    let mut pending: Option<Span> = None;
    for piece in pieces {
        let Some(span) = trimmed(text, piece.clone()) else {
            if text[piece].contains(is_line_break) {
                sentences.extend(pending.take());
            }
            continue;
        };
        let start = pending.take().map_or(span.start, |p| p.start);
        let ends_line = text[span.end..piece.end].contains(is_line_break);
        let has_letter = text[span.clone()].chars().any(char::is_alphabetic);
        if has_letter || ends_line {
            sentences.push(start..span.end);
        } else {
            pending = Some(start..span.end);
        }
    }
    sentences.extend(pending);
    sentences
}

/// Cuts `text` into passages of at most `config.max_tokens` tokens as counted by `count_tokens` (called on sub-slices of `text`; it returns the token count or an error, which is propagated). Sentences are packed greedily; a sentence longer than the limit is cut at word boundaries (UAX#29 word bounds), and a single "word" longer than the limit (e.g. Chinese/Thai runs or a huge token) is cut at char boundaries, so that every passage respects the limit whenever a single char fits. Consecutive passages overlap by whole trailing sentences of the previous passage (up to `overlap_tokens`), never so much that no progress is made. Empty/whitespace-only text gives no chunks. Offsets are always on char boundaries.
///
/// Cost: each sentence is counted once, and a passage's count is the sum of
/// its sentences' counts. With a SentencePiece counter that sum approximates
/// the count of the joined text (a token or so apart per sentence boundary),
/// so the caller's limit should leave headroom below the model's window.
/// Only a sentence over the limit is counted further: the longest prefix that
/// fits is found by galloping and bisection over its word (then grapheme, then
/// char) bounds, starting from the previous piece's length. That is a few
/// calls per piece on slices about the piece's size, and the pieces' counts
/// are exact, which matters for scripts without spaces, whose "words" are
/// single characters that tokenize differently alone than in context.
pub fn chunk_text(
    text: &str,
    config: &ChunkConfig,
    mut count_tokens: impl FnMut(&str) -> Result<usize>,
) -> Result<Vec<Chunk>> {
    config.validate()?;
    let units = units(text, config.max_tokens, &mut count_tokens)?;
    Ok(pack(&units, config))
}

/// A building block of passages: a whole sentence, or a piece of a sentence too
/// long for one passage.
struct Unit {
    span: Span,
    tokens: usize,
    /// Index of the sentence it belongs to, so pieces of one sentence are listed once.
    sentence: usize,
    /// Whole sentences may be repeated as overlap; pieces may not.
    whole: bool,
}

type Counter<'a> = dyn FnMut(&str) -> Result<usize> + 'a;

/// The sentences of `text`, each counted once, those over `max` cut into pieces.
fn units(text: &str, max: usize, count: &mut Counter) -> Result<Vec<Unit>> {
    let mut units = Vec::new();
    let mut pieces = Vec::new();
    for (sentence, span) in split_sentences(text).into_iter().enumerate() {
        let tokens = count(&text[span.clone()])?;
        if tokens <= max {
            units.push(Unit {
                span,
                tokens,
                sentence,
                whole: true,
            });
            continue;
        }
        pieces.clear();
        cut(text, span, tokens, Level::Word, max, count, &mut pieces)?;
        units.extend(pieces.drain(..).map(|(span, tokens)| Unit {
            span,
            tokens,
            sentence,
            whole: false,
        }));
    }
    Ok(units)
}

/// The bounds a too-long span is cut at, coarsest first.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Level {
    Word,
    Grapheme,
    Char,
}

impl Level {
    fn finer(self) -> Option<Level> {
        match self {
            Level::Word => Some(Level::Grapheme),
            Level::Grapheme => Some(Level::Char),
            Level::Char => None,
        }
    }

    /// The parts of `span` at this level, trimmed, whitespace-only ones dropped.
    fn parts(self, text: &str, span: Span) -> Vec<Span> {
        let s = &text[span.clone()];
        let at =
            |(i, part): (usize, &str)| trimmed(text, span.start + i..span.start + i + part.len());
        match self {
            Level::Word => s.split_word_bound_indices().filter_map(at).collect(),
            Level::Grapheme => s.grapheme_indices(true).filter_map(at).collect(),
            Level::Char => s
                .char_indices()
                .map(|(i, c)| (i, &s[i..i + c.len_utf8()]))
                .filter_map(at)
                .collect(),
        }
    }
}

/// Cuts `span`, which counts `tokens` > `max`, into consecutive pieces of at
/// most `max` tokens at bounds of `level`, pushing `(piece, tokens)`. A part
/// too long on its own is cut at the next finer level; a single char too long
/// is pushed as it is (nothing smaller to cut at).
fn cut(
    text: &str,
    span: Span,
    tokens: usize,
    level: Level,
    max: usize,
    count: &mut Counter,
    out: &mut Vec<(Span, usize)>,
) -> Result<()> {
    let parts = level.parts(text, span.clone());
    if parts.len() <= 1 {
        // One part is the whole (trimmed) span: already known to be too long.
        return match level.finer() {
            Some(finer) => cut(text, span, tokens, finer, max, count, out),
            None => {
                out.push((span, tokens));
                Ok(())
            }
        };
    }
    // First guess: the share of the parts that the limit allows.
    let mut hint = parts.len().saturating_mul(max) / tokens.max(1);
    // Prefix length known to exceed: the whole span, for the first piece.
    let mut too_long = parts.len();
    let mut i = 0;
    while i < parts.len() {
        let rest = &parts[i..];
        match longest_fit(text, rest, hint, too_long.min(rest.len() + 1), max, count)? {
            Fit::Prefix { parts: n, tokens } => {
                out.push((rest[0].start..rest[n - 1].end, tokens));
                i += n;
                hint = n;
            }
            Fit::TooLong { tokens } => {
                match level.finer() {
                    Some(finer) => cut(text, rest[0].clone(), tokens, finer, max, count, out)?,
                    None => out.push((rest[0].clone(), tokens)),
                }
                i += 1;
            }
        }
        too_long = usize::MAX;
    }
    Ok(())
}

/// The answer of [`longest_fit`].
enum Fit {
    /// The first `parts` parts fit, as one slice, in `tokens` tokens.
    Prefix { parts: usize, tokens: usize },
    /// Even the first part alone is over the limit, at `tokens` tokens.
    TooLong { tokens: usize },
}

/// The longest prefix of `parts` (taken as one slice of `text`) that fits in
/// `max` tokens. Gallops from `hint`, then bisects: O(log) counter calls on
/// slices at most about twice the answer, and two or three when `hint` is
/// close. `too_long` is a prefix length known to exceed (`parts.len() + 1` if
/// none), at least 2. Only measured prefixes are returned, so the limit holds
/// even for a counter that does not grow with the text.
fn longest_fit(
    text: &str,
    parts: &[Span],
    hint: usize,
    too_long: usize,
    max: usize,
    count: &mut Counter,
) -> Result<Fit> {
    let n = parts.len();
    let start = parts[0].start;
    // Invariant: prefix `lo` fits (0: none known), prefix `hi` exceeds (n + 1: none known).
    let (mut lo, mut lo_tokens, mut hi) = (0, 0, too_long.clamp(2, n + 1));
    // Until a probe exceeds, `hi` is only a cap: gallop up rather than bisect.
    let mut hi_measured = false;
    let mut probe = hint.clamp(1, hi - 1);
    let mut step = 1usize;
    loop {
        let tokens = count(&text[start..parts[probe - 1].end])?;
        if tokens <= max {
            (lo, lo_tokens) = (probe, tokens);
        } else if probe == 1 {
            return Ok(Fit::TooLong { tokens });
        } else {
            (hi, hi_measured) = (probe, true);
        }
        if hi - lo <= 1 {
            return Ok(Fit::Prefix {
                parts: lo,
                tokens: lo_tokens,
            });
        }
        probe = if !hi_measured {
            lo.saturating_add(step).min(hi - 1)
        } else if lo == 0 {
            hi.saturating_sub(step).max(1)
        } else {
            lo + (hi - lo) / 2
        };
        step = step.saturating_mul(2);
    }
}

/// Packs units greedily into passages, each followed by one that starts with
/// the previous passage's trailing whole sentences.
fn pack(units: &[Unit], config: &ChunkConfig) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    let mut start = 0;
    while start < units.len() {
        // At least one unit, so a unit over the limit (a lone char) still moves on.
        let mut end = start + 1;
        let mut total = units[start].tokens;
        while end < units.len() && total.saturating_add(units[end].tokens) <= config.max_tokens {
            total += units[end].tokens;
            end += 1;
        }
        chunks.push(chunk_of(&units[start..end]));
        if end == units.len() {
            break;
        }
        start = overlap_start(units, start, end, config);
    }
    chunks
}

/// Where the passage after `units[start..end]` starts: back over trailing whole
/// sentences worth at most `overlap_tokens`, leaving room for the first new
/// unit, and never back to `start` itself, so every passage moves forward.
fn overlap_start(units: &[Unit], start: usize, end: usize, config: &ChunkConfig) -> usize {
    if config.overlap_tokens == 0 {
        return end;
    }
    let budget = config
        .overlap_tokens
        .min(config.max_tokens.saturating_sub(units[end].tokens));
    let mut next = end;
    let mut used = 0usize;
    while next > start + 1 {
        let unit = &units[next - 1];
        if !unit.whole || used.saturating_add(unit.tokens) > budget {
            break;
        }
        used += unit.tokens;
        next -= 1;
    }
    next
}

/// The passage made of `units` (at least one), with its pieces of one sentence
/// listed as one span.
fn chunk_of(units: &[Unit]) -> Chunk {
    let mut sentences: Vec<Span> = Vec::new();
    let mut last_sentence = None;
    for unit in units {
        match sentences.last_mut() {
            Some(span) if last_sentence == Some(unit.sentence) => span.end = unit.span.end,
            _ => sentences.push(unit.span.clone()),
        }
        last_sentence = Some(unit.sentence);
    }
    let start = units.first().map_or(0, |u| u.span.start);
    let end = units.last().map_or(start, |u| u.span.end);
    Chunk {
        span: start..end,
        sentences,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whitespace-separated words: never more for a joined text than the sum
    /// of its parts, so passage limits can be checked on the passage text.
    fn words(s: &str) -> Result<usize> {
        Ok(s.split_whitespace().count())
    }

    /// Non-whitespace chars: exactly additive over whitespace-joined parts.
    fn chars(s: &str) -> Result<usize> {
        Ok(s.chars().filter(|c| !c.is_whitespace()).count())
    }

    fn config(max_tokens: usize, overlap_tokens: usize) -> ChunkConfig {
        ChunkConfig {
            max_tokens,
            overlap_tokens,
        }
    }

    fn sentence_texts(text: &str) -> Vec<&str> {
        split_sentences(text)
            .into_iter()
            .map(|s| &text[s])
            .collect()
    }

    /// Checks everything `chunk_text` promises for `text`, with a counter that is
    /// sub-additive over whitespace (`words`, `chars`), and returns the chunks.
    fn check_chunks(text: &str, cfg: &ChunkConfig, count: fn(&str) -> Result<usize>) -> Vec<Chunk> {
        let chunks = chunk_text(text, cfg, count).expect("chunk_text");
        let sentences = split_sentences(text);
        assert_eq!(chunks.is_empty(), sentences.is_empty(), "{text:?}");
        for (i, chunk) in chunks.iter().enumerate() {
            let passage = text
                .get(chunk.span.clone())
                .expect("span on char boundaries");
            assert!(
                !passage.is_empty() && passage.trim() == passage,
                "{passage:?}"
            );
            let tokens = count(passage).unwrap();
            assert!(
                tokens <= cfg.max_tokens || passage.chars().count() == 1,
                "chunk {i} has {tokens} > {} tokens: {passage:?}",
                cfg.max_tokens
            );
            // Sentences: ordered, disjoint, trimmed, inside and spanning the passage.
            assert_eq!(
                chunk.sentences.first().map(|s| s.start),
                Some(chunk.span.start)
            );
            assert_eq!(chunk.sentences.last().map(|s| s.end), Some(chunk.span.end));
            for pair in chunk.sentences.windows(2) {
                assert!(pair[0].end <= pair[1].start, "{:?}", chunk.sentences);
            }
            for s in &chunk.sentences {
                let sentence = text.get(s.clone()).expect("sentence on char boundaries");
                assert!(!sentence.is_empty() && sentence.trim() == sentence);
            }
            if let Some(next) = chunks.get(i + 1) {
                assert!(next.span.start > chunk.span.start, "no progress");
                assert!(next.span.end > chunk.span.end, "no progress");
                if next.span.start < chunk.span.end {
                    // Overlap: whole trailing sentences, within the budget.
                    assert!(cfg.overlap_tokens > 0);
                    assert!(sentences.iter().any(|s| s.start == next.span.start));
                    assert!(chunk.sentences.iter().any(|s| s.start == next.span.start));
                    let overlap = count(&text[next.span.start..chunk.span.end]).unwrap();
                    assert!(overlap <= cfg.overlap_tokens, "overlap {overlap}");
                }
            }
        }
        // Coverage: every sentence is in the chunks, whole when it fits, in order.
        let mut from = 0;
        for s in &sentences {
            if count(&text[s.clone()]).unwrap() <= cfg.max_tokens {
                let at = chunks[from..]
                    .iter()
                    .position(|c| c.sentences.contains(s))
                    .unwrap_or_else(|| panic!("sentence {:?} not in a chunk", &text[s.clone()]));
                from += at;
            }
        }
        for (i, c) in text.char_indices() {
            if !c.is_whitespace() {
                assert!(
                    chunks.iter().any(|ch| ch.span.contains(&i)),
                    "char {c:?} at {i} not covered"
                );
            }
        }
        chunks
    }

    #[test]
    fn english_sentences() {
        let text = "  Hello world. How are you?  I'm fine, thanks!\tBye. ";
        assert_eq!(
            sentence_texts(text),
            ["Hello world.", "How are you?", "I'm fine, thanks!", "Bye."]
        );
    }

    #[test]
    fn chinese_sentences() {
        let text = "今天天气很好。我们去公园吧！你来吗？他说：“好。”然后走了";
        assert_eq!(
            sentence_texts(text),
            [
                "今天天气很好。",
                "我们去公园吧！",
                "你来吗？",
                "他说：“好。”",
                "然后走了"
            ]
        );
    }

    #[test]
    fn hindi_arabic_urdu_amharic_sentences() {
        assert_eq!(
            sentence_texts("भारत एक देश है। यह बड़ा है॥ ठीक है"),
            ["भारत एक देश है।", "यह बड़ा है॥", "ठीक है"]
        );
        assert_eq!(
            sentence_texts("كيف حالك؟ أنا بخير. شكرا"),
            ["كيف حالك؟", "أنا بخير.", "شكرا"]
        );
        assert_eq!(
            sentence_texts("یہ کتاب ہے۔ وہ قلم ہے۔"),
            ["یہ کتاب ہے۔", "وہ قلم ہے۔"]
        );
        assert_eq!(sentence_texts("ሰላም ነው። ደህና ነህ፧"), ["ሰላም ነው።", "ደህና ነህ፧"]);
    }

    #[test]
    fn terminators_uax29_misses() {
        assert_eq!(
            sentence_texts("བཀྲ་ཤིས་བདེ་ལེགས། ཁྱེད་རང་ག་འདྲ་ཡོད།"),
            ["བཀྲ་ཤིས་བདེ་ལེགས།", "ཁྱེད་རང་ག་འདྲ་ཡོད།"]
        );
        assert_eq!(
            sentence_texts("page one\u{0C}page two"),
            ["page one", "page two"]
        );
    }

    #[test]
    fn thai_splits_only_at_line_breaks() {
        let line = "สวัสดีครับ ผมชื่อสมชาย วันนี้อากาศดีมาก";
        assert_eq!(sentence_texts(line), [line]);
        let text = format!("{line}\nขอบคุณครับ");
        assert_eq!(sentence_texts(&text), [line, "ขอบคุณครับ"]);
    }

    #[test]
    fn line_breaks_and_paragraphs() {
        let text =
            "# Title\n\nFirst line\nsecond line. Next.\r\n\r\n- item one\n- item two\u{2028}end";
        assert_eq!(
            sentence_texts(text),
            [
                "# Title",
                "First line",
                "second line.",
                "Next.",
                "- item one",
                "- item two",
                "end"
            ]
        );
    }

    #[test]
    fn letterless_fragments_join_the_next_sentence() {
        assert_eq!(
            sentence_texts("1. Buy milk. 2. Call Bob."),
            ["1. Buy milk.", "2. Call Bob."]
        );
        // Not across a line break, and kept at the end.
        assert_eq!(
            sentence_texts("1.\nBuy milk. 🎉"),
            ["1.", "Buy milk.", "🎉"]
        );
    }

    #[test]
    fn odd_texts_give_sane_sentences() {
        assert!(split_sentences("").is_empty());
        assert!(split_sentences(" \t ").is_empty());
        assert!(split_sentences("\n\n\r\n\u{0C}\n").is_empty());
        assert_eq!(sentence_texts("...!!!???"), ["...!!!???"]);
        assert_eq!(sentence_texts("\n🎉🎉\n"), ["🎉🎉"]);
        assert_eq!(sentence_texts("a\r\nb"), ["a", "b"]);
        // A combining mark after a space stays valid UTF-8 boundaries.
        assert_eq!(sentence_texts(" \u{301}x. y"), ["\u{301}x. y"]);
    }

    #[test]
    fn sentences_are_packed_within_the_limit() {
        let text = "One two three. Four five six seven. Eight nine. Ten eleven twelve thirteen. \
                    Fourteen. Fifteen sixteen seventeen.";
        let chunks = check_chunks(text, &config(6, 0), words);
        let passages: Vec<&str> = chunks.iter().map(|c| &text[c.span.clone()]).collect();
        assert_eq!(
            passages,
            [
                "One two three.",
                "Four five six seven. Eight nine.",
                "Ten eleven twelve thirteen. Fourteen.",
                "Fifteen sixteen seventeen."
            ]
        );
        assert_eq!(
            chunks[1].sentences,
            [
                text.find("Four").unwrap()..text.find(" Eight").unwrap(),
                text.find("Eight").unwrap()..text.find(" Ten").unwrap()
            ]
        );
    }

    #[test]
    fn consecutive_chunks_overlap_by_whole_sentences() {
        let text = "A b c. D e. F g h. I j. K l m n. O p. Q r s.";
        let chunks = check_chunks(text, &config(7, 3), words);
        let passages: Vec<&str> = chunks.iter().map(|c| &text[c.span.clone()]).collect();
        assert_eq!(
            passages,
            [
                "A b c. D e.",
                "D e. F g h. I j.",
                "I j. K l m n.",
                "O p. Q r s."
            ]
        );
        // The overlap never swallows the whole previous passage.
        let text = "A b c. D e f. G h i.";
        let passages: Vec<String> = check_chunks(text, &config(4, 3), words)
            .iter()
            .map(|c| text[c.span.clone()].to_string())
            .collect();
        assert_eq!(passages, ["A b c.", "D e f.", "G h i."]);
    }

    #[test]
    fn long_sentence_is_cut_at_word_bounds() {
        let text: String = (0..100).map(|i| format!("word{i} ")).collect::<String>() + "end.";
        let chunks = check_chunks(&text, &config(10, 4), words);
        assert_eq!(chunks.len(), 11);
        for chunk in &chunks[..10] {
            let passage = &text[chunk.span.clone()];
            assert_eq!(words(passage).unwrap(), 10, "pieces are as long as fit");
            assert_eq!(chunk.sentences.len(), 1);
            assert_eq!(chunk.sentences[0], chunk.span);
        }
        // Pieces of one sentence never overlap.
        for pair in chunks.windows(2) {
            assert!(pair[0].span.end < pair[1].span.start);
        }
        assert_eq!(&text[chunks[10].span.clone()], "end.");
    }

    #[test]
    fn huge_word_is_cut_at_chars_with_few_counts() {
        let text = "a".repeat(100_000);
        let mut calls = 0usize;
        let mut counted = 0usize;
        let chunks = chunk_text(&text, &ChunkConfig::default(), |s| {
            calls += 1;
            counted += s.len();
            Ok(s.len())
        })
        .unwrap();
        assert_eq!(chunks.len(), 100_000_usize.div_ceil(192));
        for (i, chunk) in chunks.iter().enumerate() {
            assert_eq!(chunk.span.start, i * 192);
            assert!(chunk.span.len() <= 192);
        }
        assert_eq!(chunks.last().map(|c| c.span.end), Some(100_000));
        assert!(calls < 4 * chunks.len(), "{calls} counter calls");
        assert!(counted < 4 * text.len(), "{counted} bytes counted");
        check_chunks(&text, &ChunkConfig::default(), chars);
    }

    #[test]
    fn unspaced_scripts_are_cut_at_grapheme_bounds() {
        let thai = "สวัสดีครับผมชื่อสมชายวันนี้อากาศดีมากขอบคุณครับ".repeat(3);
        let chinese = "我们今天去公园散步然后回家吃饭晚上看书".repeat(3);
        for text in [thai.as_str(), chinese.as_str()] {
            let bounds: Vec<usize> = text.grapheme_indices(true).map(|(i, _)| i).collect();
            let chunks = check_chunks(text, &config(7, 2), chars);
            assert!(chunks.len() > 3);
            for chunk in &chunks {
                assert!(bounds.contains(&chunk.span.start), "{chunk:?}");
            }
        }
    }

    #[test]
    fn graphemes_over_the_limit_are_cut_at_chars() {
        // e + 3 combining marks = one grapheme of 4 chars; a ZWJ family emoji = 5 chars.
        let text = "e\u{301}\u{302}\u{303} 👨\u{200D}👩\u{200D}👧";
        let chunks = check_chunks(text, &config(3, 1), chars);
        let passages: Vec<&str> = chunks.iter().map(|c| &text[c.span.clone()]).collect();
        assert_eq!(
            passages,
            ["e\u{301}\u{302}", "\u{303}", "👨\u{200D}👩", "\u{200D}👧"]
        );
    }

    #[test]
    fn chars_over_the_limit_still_make_progress() {
        let text = "ab cd. 中文";
        let chunks = chunk_text(text, &config(1, 0), |s| Ok(2 * s.chars().count())).unwrap();
        let passages: Vec<&str> = chunks.iter().map(|c| &text[c.span.clone()]).collect();
        assert_eq!(passages, ["a", "b", "c", "d", ".", "中", "文"]);
    }

    #[test]
    fn empty_text_gives_no_chunks_and_no_counts() {
        for text in ["", "   ", "\n\r\n\t"] {
            let chunks = chunk_text(text, &ChunkConfig::default(), |_| {
                Err(Error::InvalidInput("not called".into()))
            })
            .unwrap();
            assert!(chunks.is_empty());
        }
    }

    #[test]
    fn counter_errors_are_propagated() {
        let text = "First sentence. Second sentence. ".repeat(20);
        let mut calls = 0;
        let result = chunk_text(&text, &ChunkConfig::default(), |s| {
            calls += 1;
            if calls == 5 {
                return Err(Error::InvalidInput("counter failed".into()));
            }
            words(s)
        });
        assert!(matches!(result, Err(Error::InvalidInput(m)) if m == "counter failed"));
        // Also from inside the cutting of a long sentence.
        let long = "x".repeat(1000);
        let mut calls = 0;
        let result = chunk_text(&long, &config(10, 0), |s| {
            calls += 1;
            if calls == 3 {
                return Err(Error::InvalidInput("counter failed".into()));
            }
            chars(s)
        });
        assert!(matches!(result, Err(Error::InvalidInput(m)) if m == "counter failed"));
    }

    #[test]
    fn config_is_validated() {
        let default = ChunkConfig::default();
        assert_eq!(default, config(192, 48));
        assert!(default.validate().is_ok());
        for bad in [config(0, 0), config(10, 10), config(10, 11)] {
            let err = chunk_text("Some text.", &bad, words).unwrap_err();
            let Error::InvalidInput(message) = err else {
                panic!("expected InvalidInput, got {err:?}");
            };
            assert!(message.contains("max_tokens"), "{message}");
        }
        assert!(chunk_text("Some text.", &config(1, 0), words).is_ok());
    }

    #[test]
    fn spans_point_at_the_text_in_mixed_scripts() {
        let text = "Café crème.\r\n東京は大きい。 Москва — столица!  مرحبا بكم؟\n\nनमस्ते। 🎉 Done";
        let chunks = check_chunks(text, &config(12, 5), chars);
        let all: Vec<&str> = chunks
            .iter()
            .flat_map(|c| c.sentences.iter().map(|s| &text[s.clone()]))
            .collect();
        for expected in [
            "Café crème.",
            "東京は大きい。",
            "مرحبا بكم؟",
            "नमस्ते।",
            "🎉 Done",
        ] {
            assert!(all.contains(&expected), "{expected:?} not in {all:?}");
        }
    }

    /// Deterministic xorshift generator: no dependency, same texts every run.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    const FRAGMENTS: &[&str] = &[
        "word",
        "Hello",
        "the",
        "quick",
        "brown",
        "fox",
        " ",
        " ",
        " ",
        "  ",
        "\t",
        ". ",
        ".",
        "!",
        "? ",
        ",",
        "\n",
        "\n\n",
        "\r\n",
        "1. ",
        "- ",
        "我们",
        "去公园",
        "。",
        "！",
        "สวัสดี",
        "ครับ",
        "नमस्ते",
        "। ",
        "॥",
        "مرحبا",
        "؟ ",
        "۔",
        "།",
        "e\u{301}",
        "\u{301}",
        "🎉",
        "👨\u{200D}👩\u{200D}👧",
        "\u{200D}",
        "\u{0C}",
        "»",
        "”",
        "(",
        ")",
        "U.S.A.",
        "3.14",
        "\u{2028}",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    ];

    #[test]
    fn random_texts_keep_every_invariant() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        // So the loop is known to exercise what it checks.
        let (mut overlaps, mut cut_sentences, mut worst_ratio) = (0, 0, 0.0f64);
        for round in 0..1000 {
            let len = rng.below(200);
            let text: String = (0..len)
                .map(|_| FRAGMENTS[rng.below(FRAGMENTS.len())])
                .collect();
            let max = 1 + rng.below(30);
            let cfg = config(max, rng.below(max));
            for count in [words as fn(&str) -> Result<usize>, chars] {
                let mut calls = 0usize;
                let mut counted = 0usize;
                let chunks = chunk_text(&text, &cfg, |s| {
                    calls += 1;
                    counted += s.len();
                    count(s)
                })
                .unwrap();
                assert!(
                    calls <= 16 * (text.len() + 1),
                    "round {round}: {calls} counter calls for {} bytes",
                    text.len()
                );
                worst_ratio = worst_ratio.max(counted as f64 / (text.len() + 1) as f64);
                assert_eq!(chunks, check_chunks(&text, &cfg, count), "deterministic");
                overlaps += chunks
                    .windows(2)
                    .filter(|p| p[1].span.start < p[0].span.end)
                    .count();
                let sentences = split_sentences(&text);
                cut_sentences += chunks
                    .iter()
                    .flat_map(|c| &c.sentences)
                    .filter(|s| !sentences.contains(s))
                    .count();
            }
            // A counter that is neither monotonic nor additive: no panic, and
            // every char still lands in a passage.
            let odd = |s: &str| Ok((s.len() * 7 + s.chars().count()) % 11);
            let chunks = chunk_text(&text, &cfg, odd).unwrap();
            for (i, c) in text.char_indices() {
                if !c.is_whitespace() {
                    assert!(
                        chunks.iter().any(|ch| ch.span.contains(&i)),
                        "round {round}"
                    );
                }
            }
            for chunk in &chunks {
                assert!(text.get(chunk.span.clone()).is_some());
            }
        }
        eprintln!(
            "overlaps {overlaps}, cut pieces {cut_sentences}, worst counted/text {worst_ratio:.1}"
        );
        assert!(overlaps > 1000 && cut_sentences > 1000);
        // Bytes handed to the counter stay linear in the text (here the
        // limits are tiny, so pieces are short and galloping costs most).
        assert!(worst_ratio < 8.0, "{worst_ratio}");
    }
}
