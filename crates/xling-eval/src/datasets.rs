//! Parsers for the evaluation data sets: XQuAD-R, Tatoeba and BEIR.
//!
//! They take bytes, not paths, so the core stays free of I/O (it builds for
//! wasm32); the CLI reads the files. Malformed input gives
//! [`Error::InvalidInput`] naming the line (or, for JSON documents, serde's
//! line and column), never a panic.

use std::collections::{HashMap, HashSet};

use serde::Deserialize;

use super::metrics::Judgments;
use xling_model::error::{Error, Result};

fn invalid(msg: impl Into<String>) -> Error {
    Error::InvalidInput(msg.into())
}

/// Splits bytes into lines numbered from 1, without their `\n` or trailing
/// `\r`, each decoded as UTF-8 (errors name the line). A UTF-8 byte-order mark
/// is dropped, and so is the empty piece after a final newline.
fn numbered_lines(bytes: &[u8]) -> impl Iterator<Item = (usize, Result<&str>)> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    // An empty input has no lines, not one empty line.
    let pieces = if bytes.is_empty() {
        None
    } else {
        Some(bytes.split(|&b| b == b'\n'))
    };
    pieces.into_iter().flatten().enumerate().map(|(i, line)| {
        let n = i + 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let text = std::str::from_utf8(line)
            .map_err(|e| invalid(format!("line {n}: not valid UTF-8 ({e})")));
        (n, text)
    })
}

// ---------------------------------------------------------------------------
// XQuAD-R
// ---------------------------------------------------------------------------

/// One language of XQuAD-R: its paragraphs cut into sentences (the retrieval
/// candidates) and its questions, each pointing at its answer sentence.
///
/// Questions with the same `id` in two languages are translations, and the
/// files list the paragraphs in the same order (checked by
/// [`check_xquad_aligned`]), so a question's correct answers across languages
/// are the sentences `(paragraph, sentence)` of each language's own question
/// with that id. Sentence indices differ between languages: each translation
/// was cut into sentences on its own.
#[derive(Debug, Clone, PartialEq)]
pub struct XquadLanguage {
    /// The file's language code (`de` for `xquad.de.json`).
    pub lang: String,
    /// Paragraphs in file order, each as its sentences.
    pub paragraphs: Vec<Vec<String>>,
    /// The questions kept, in file order.
    pub questions: Vec<XquadQuestion>,
    /// Questions whose `answer_start` fell between two sentences (on the
    /// whitespace that separates them) and were given the nearest sentence.
    pub snapped: usize,
    /// Questions dropped because they had no answer, their paragraph no
    /// sentence, or their `answer_start` lies outside the context.
    pub skipped: usize,
}

/// A question and the position of its answer sentence in its language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XquadQuestion {
    /// SQuAD question id, the same in every language: it links translations.
    pub id: String,
    /// The question in this file's language.
    pub text: String,
    /// Index into [`XquadLanguage::paragraphs`].
    pub paragraph: usize,
    /// Index into that paragraph's sentences.
    pub sentence: usize,
}

#[derive(Deserialize)]
struct SquadFile {
    data: Vec<SquadArticle>,
}

#[derive(Deserialize)]
struct SquadArticle {
    paragraphs: Vec<SquadParagraph>,
}

#[derive(Deserialize)]
struct SquadParagraph {
    context: String,
    qas: Vec<SquadQa>,
    sentence_breaks: Vec<(i64, i64)>,
    sentences: Vec<String>,
}

#[derive(Deserialize)]
struct SquadQa {
    id: String,
    question: String,
    answers: Vec<SquadAnswer>,
}

#[derive(Deserialize)]
struct SquadAnswer {
    answer_start: i64,
}

/// Where an answer start falls among the sentence spans.
enum AnswerSentence {
    Inside(usize),
    Nearest(usize),
    None,
}

/// The sentence whose span `[start, end)` contains `answer_start` (offsets in
/// characters, as in the files; on the data `context[start..end]` is exactly
/// the sentence). A start on the whitespace between two spans gets the nearest
/// sentence, the following one on a tie, since an answer starting on a space
/// belongs to the text after it.
fn answer_sentence(spans: &[(i64, i64)], answer_start: i64, context_chars: i64) -> AnswerSentence {
    if answer_start < 0 || answer_start >= context_chars {
        return AnswerSentence::None;
    }
    if let Some(i) = spans
        .iter()
        .position(|&(s, e)| s <= answer_start && answer_start < e)
    {
        return AnswerSentence::Inside(i);
    }
    let distance = |&(s, e): &(i64, i64)| {
        if answer_start < s {
            s - answer_start
        } else {
            answer_start - e + 1
        }
    };
    let mut best: Option<(usize, i64)> = None;
    for (i, span) in spans.iter().enumerate() {
        let d = distance(span);
        // `<=` so that on a tie the later (following) sentence wins.
        if best.is_none_or(|(_, bd)| d <= bd) {
            best = Some((i, d));
        }
    }
    match best {
        Some((i, _)) => AnswerSentence::Nearest(i),
        None => AnswerSentence::None,
    }
}

/// Parses one XQuAD-R file (`xquad-r/<lang>.json`). Only the first answer of
/// each question is used (the files have exactly one).
pub fn parse_xquad(lang: &str, bytes: &[u8]) -> Result<XquadLanguage> {
    let file: SquadFile = serde_json::from_slice(bytes)
        .map_err(|e| invalid(format!("XQuAD-R {lang}: not a SQuAD-layout file: {e}")))?;
    let mut out = XquadLanguage {
        lang: lang.to_string(),
        paragraphs: Vec::new(),
        questions: Vec::new(),
        snapped: 0,
        skipped: 0,
    };
    let paragraphs = file.data.into_iter().flat_map(|a| a.paragraphs);
    for (p, paragraph) in paragraphs.enumerate() {
        if paragraph.sentence_breaks.len() != paragraph.sentences.len() {
            return Err(invalid(format!(
                "XQuAD-R {lang}: paragraph {p} has {} sentence breaks but {} sentences",
                paragraph.sentence_breaks.len(),
                paragraph.sentences.len()
            )));
        }
        if let Some((j, (s, e))) = paragraph
            .sentence_breaks
            .iter()
            .enumerate()
            .find(|(_, &(s, e))| s < 0 || e < s)
        {
            return Err(invalid(format!(
                "XQuAD-R {lang}: paragraph {p}, sentence {j}: [{s}, {e}] is not a span"
            )));
        }
        let context_chars = i64::try_from(paragraph.context.chars().count()).unwrap_or(i64::MAX);
        for qa in paragraph.qas {
            let Some(answer) = qa.answers.first() else {
                out.skipped += 1;
                continue;
            };
            let sentence = match answer_sentence(
                &paragraph.sentence_breaks,
                answer.answer_start,
                context_chars,
            ) {
                AnswerSentence::Inside(s) => s,
                AnswerSentence::Nearest(s) => {
                    out.snapped += 1;
                    s
                }
                AnswerSentence::None => {
                    out.skipped += 1;
                    continue;
                }
            };
            out.questions.push(XquadQuestion {
                id: qa.id,
                text: qa.question,
                paragraph: p,
                sentence,
            });
        }
        out.paragraphs.push(paragraph.sentences);
    }
    Ok(out)
}

/// Checks that parsed XQuAD-R languages can be pooled: the same number of
/// paragraphs, and every question id present in all of them, in the same
/// paragraph. Cross-language answers are identified by paragraph index, so
/// this is what makes them correct.
pub fn check_xquad_aligned(languages: &[XquadLanguage]) -> Result<()> {
    let Some((first, rest)) = languages.split_first() else {
        return Ok(());
    };
    let paragraph_of = |l: &XquadLanguage| -> Result<HashMap<String, usize>> {
        let mut map = HashMap::new();
        for q in &l.questions {
            if map.insert(q.id.clone(), q.paragraph).is_some() {
                return Err(invalid(format!(
                    "XQuAD-R {}: question id {} appears twice",
                    l.lang, q.id
                )));
            }
        }
        Ok(map)
    };
    let reference = paragraph_of(first)?;
    for other in rest {
        if other.paragraphs.len() != first.paragraphs.len() {
            return Err(invalid(format!(
                "XQuAD-R: {} has {} paragraphs but {} has {}",
                first.lang,
                first.paragraphs.len(),
                other.lang,
                other.paragraphs.len()
            )));
        }
        let theirs = paragraph_of(other)?;
        for (id, p) in &reference {
            match theirs.get(id) {
                Some(q) if q == p => {}
                Some(q) => {
                    return Err(invalid(format!(
                        "XQuAD-R: question {id} is in paragraph {p} in {} but {q} in {}",
                        first.lang, other.lang
                    )))
                }
                None => {
                    return Err(invalid(format!(
                        "XQuAD-R: question {id} of {} is missing from {}",
                        first.lang, other.lang
                    )))
                }
            }
        }
        if let Some(id) = theirs.keys().find(|id| !reference.contains_key(*id)) {
            return Err(invalid(format!(
                "XQuAD-R: question {id} of {} is missing from {}",
                other.lang, first.lang
            )));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Tatoeba
// ---------------------------------------------------------------------------

/// One Tatoeba test set: `other[i]` and `english[i]` are translations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TatoebaPair {
    /// The non-English side's code, as in the file names (`deu`).
    pub lang: String,
    /// Sentences in that language, one per line of its file.
    pub other: Vec<String>,
    /// Their English translations, line for line.
    pub english: Vec<String>,
}

/// Lines of a Tatoeba file. Empty lines are kept: alignment is by line number.
fn tatoeba_lines(lang: &str, file: &str, bytes: &[u8]) -> Result<Vec<String>> {
    numbered_lines(bytes)
        .map(|(_, line)| {
            line.map(str::to_string)
                .map_err(|e| invalid(format!("Tatoeba {file} of {lang}: {e}")))
        })
        .collect()
}

/// Parses `tatoeba.<lang>-eng.<lang>` and `tatoeba.<lang>-eng.eng`, which are
/// aligned line by line; a different line count is an error.
pub fn parse_tatoeba(lang: &str, other_bytes: &[u8], eng_bytes: &[u8]) -> Result<TatoebaPair> {
    let other = tatoeba_lines(lang, lang, other_bytes)?;
    let english = tatoeba_lines(lang, "eng", eng_bytes)?;
    if other.len() != english.len() {
        return Err(invalid(format!(
            "Tatoeba {lang}: {} lines in the {lang} file but {} in the English file",
            other.len(),
            english.len()
        )));
    }
    Ok(TatoebaPair {
        lang: lang.to_string(),
        other,
        english,
    })
}

/// The languages of a Tatoeba directory, given its file names: those that
/// have both `tatoeba.<lang>-eng.<lang>` and `tatoeba.<lang>-eng.eng`, sorted.
/// Other names (README, a half pair) are ignored.
pub fn tatoeba_languages(names: &[String]) -> Vec<String> {
    let present: HashSet<&str> = names.iter().map(String::as_str).collect();
    let mut langs: Vec<String> = names
        .iter()
        .filter_map(|name| {
            let rest = name.strip_prefix("tatoeba.")?;
            let (lang, suffix) = rest.split_once("-eng.")?;
            let complete = !lang.is_empty()
                && lang != "eng"
                && suffix == lang
                && present.contains(format!("tatoeba.{lang}-eng.eng").as_str());
            complete.then(|| lang.to_string())
        })
        .collect();
    langs.sort_unstable();
    langs.dedup();
    langs
}

// ---------------------------------------------------------------------------
// BEIR
// ---------------------------------------------------------------------------

/// A BEIR corpus document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BeirDoc {
    /// `_id`, the key the qrels refer to.
    pub id: String,
    /// Empty when the corpus has no titles.
    pub title: String,
    /// The document body.
    pub text: String,
}

/// A BEIR query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BeirQuery {
    /// `_id`, the key of the qrels' first column.
    pub id: String,
    /// The query text.
    pub text: String,
}

/// BEIR relevance judgments: query id → document id → relevance.
pub type Qrels = HashMap<String, Judgments>;

#[derive(Deserialize)]
struct DocLine {
    #[serde(rename = "_id")]
    id: String,
    #[serde(default)]
    title: Option<String>,
    text: String,
}

#[derive(Deserialize)]
struct QueryLine {
    #[serde(rename = "_id")]
    id: String,
    text: String,
}

/// Parses a JSON-lines file, one `T` per non-blank line, checking that ids
/// are non-empty and unique. Blank lines are skipped: they carry no record.
fn parse_jsonl<T: serde::de::DeserializeOwned>(
    what: &str,
    bytes: &[u8],
    id: impl Fn(&T) -> &str,
) -> Result<Vec<T>> {
    let mut out = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for (n, line) in numbered_lines(bytes) {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let record: T =
            serde_json::from_str(line).map_err(|e| invalid(format!("line {n}: {what}: {e}")))?;
        let record_id = id(&record);
        if record_id.is_empty() {
            return Err(invalid(format!("line {n}: {what}: empty `_id`")));
        }
        if !seen.insert(record_id.to_string()) {
            return Err(invalid(format!(
                "line {n}: {what}: duplicate id {record_id:?}"
            )));
        }
        out.push(record);
    }
    Ok(out)
}

/// Parses a BEIR `corpus.jsonl`: one `{"_id", "title", "text"}` object per
/// line, in file order. `title` may be missing or null. Ids are strings and
/// must be unique.
pub fn parse_beir_corpus(bytes: &[u8]) -> Result<Vec<BeirDoc>> {
    let lines = parse_jsonl("corpus document", bytes, |d: &DocLine| &d.id)?;
    Ok(lines
        .into_iter()
        .map(|d| BeirDoc {
            id: d.id,
            title: d.title.unwrap_or_default(),
            text: d.text,
        })
        .collect())
}

/// Parses a BEIR `queries.jsonl`: one `{"_id", "text"}` object per line, in
/// file order. Ids are strings and must be unique.
pub fn parse_beir_queries(bytes: &[u8]) -> Result<Vec<BeirQuery>> {
    let lines = parse_jsonl("query", bytes, |q: &QueryLine| &q.id)?;
    Ok(lines
        .into_iter()
        .map(|q| BeirQuery {
            id: q.id,
            text: q.text,
        })
        .collect())
}

/// Parses BEIR `qrels/<split>.tsv`: `query-id<TAB>corpus-id<TAB>score` per
/// line, after an optional header line. Lines without a tab are split on
/// whitespace. Scores are integers; negative ones (TREC's "junk") are stored
/// as 0, not relevant. A pair judged twice with different scores is an error.
pub fn parse_qrels(bytes: &[u8]) -> Result<Qrels> {
    let mut qrels = Qrels::new();
    let mut first = true;
    for (n, line) in numbered_lines(bytes) {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = if line.contains('\t') {
            line.split('\t').map(str::trim).collect()
        } else {
            line.split_whitespace().collect()
        };
        let is_header = first
            && fields
                .iter()
                .map(|f| f.to_ascii_lowercase())
                .eq(["query-id", "corpus-id", "score"]);
        first = false;
        if is_header {
            continue;
        }
        let [query, doc, score] = fields[..] else {
            return Err(invalid(format!(
                "line {n}: expected 3 fields (query-id, corpus-id, score), found {}",
                fields.len()
            )));
        };
        if query.is_empty() || doc.is_empty() {
            return Err(invalid(format!("line {n}: empty query or corpus id")));
        }
        let score: i64 = score
            .parse()
            .map_err(|_| invalid(format!("line {n}: score {score:?} is not an integer")))?;
        let relevance = u32::try_from(score.max(0)).unwrap_or(u32::MAX);
        let judged = qrels.entry(query.to_string()).or_default();
        match judged.insert(doc.to_string(), relevance) {
            Some(previous) if previous != relevance => {
                return Err(invalid(format!(
                    "line {n}: query {query:?}, document {doc:?} judged {previous} before and {relevance} here"
                )));
            }
            _ => {}
        }
    }
    Ok(qrels)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err_text<T: std::fmt::Debug>(r: Result<T>) -> String {
        match r {
            Err(Error::InvalidInput(m)) => m,
            other => panic!("expected InvalidInput, got {other:?}"),
        }
    }

    // -- XQuAD-R ------------------------------------------------------------

    /// Two paragraphs; offsets are in characters ("é" is one), spans are
    /// `[start, end)` with one space between sentences.
    const XQUAD: &str = r#"{"version": "1.1", "data": [{"paragraphs": [
      {"context": "Café one. Two is here.",
       "sentence_breaks": [[0, 9], [10, 22]],
       "sentences": ["Café one.", "Two is here."],
       "qas": [
         {"id": "q1", "question": "First?", "answers": [{"answer_start": 5, "text": "one"}]},
         {"id": "q2", "question": "Second?", "answers": [{"answer_start": 10, "text": "Two"}]},
         {"id": "q3", "question": "Gap?", "answers": [{"answer_start": 9, "text": " Two"}]},
         {"id": "q4", "question": "Outside?", "answers": [{"answer_start": 40, "text": "x"}]},
         {"id": "q5", "question": "None?", "answers": []}
       ]}]},
      {"paragraphs": [
      {"context": "Alone.",
       "sentence_breaks": [[0, 6]],
       "sentences": ["Alone."],
       "qas": [{"id": "q6", "question": "Last?", "answers": [{"answer_start": 0, "text": "Alone"}]}]}
    ]}]}"#;

    #[test]
    fn xquad_answer_sentences() {
        let x = parse_xquad("en", XQUAD.as_bytes()).expect("parses");
        assert_eq!(x.lang, "en");
        assert_eq!(
            x.paragraphs,
            vec![
                vec!["Café one.".to_string(), "Two is here.".to_string()],
                vec!["Alone.".to_string()]
            ]
        );
        let found: Vec<(&str, usize, usize)> = x
            .questions
            .iter()
            .map(|q| (q.id.as_str(), q.paragraph, q.sentence))
            .collect();
        // q3 starts on the separating space: the following sentence.
        assert_eq!(
            found,
            [("q1", 0, 0), ("q2", 0, 1), ("q3", 0, 1), ("q6", 1, 0)]
        );
        assert_eq!(x.questions[0].text, "First?");
        assert_eq!(x.snapped, 1);
        assert_eq!(x.skipped, 2);
    }

    #[test]
    fn xquad_malformed() {
        assert!(err_text(parse_xquad("de", b"{\"data\": [")).contains("XQuAD-R de"));
        assert!(parse_xquad("de", b"[]").is_err());
        let mismatch = r#"{"data": [{"paragraphs": [{"context": "A.", "qas": [],
            "sentence_breaks": [[0, 2]], "sentences": []}]}]}"#;
        assert!(err_text(parse_xquad("de", mismatch.as_bytes())).contains("paragraph 0"));
        let backwards = r#"{"data": [{"paragraphs": [{"context": "A.", "qas": [],
            "sentence_breaks": [[2, 0]], "sentences": ["A."]}]}]}"#;
        assert!(err_text(parse_xquad("de", backwards.as_bytes())).contains("not a span"));
    }

    #[test]
    fn xquad_alignment_check() {
        let en = parse_xquad("en", XQUAD.as_bytes()).expect("parses");
        let mut de = en.clone();
        de.lang = "de".into();
        check_xquad_aligned(&[en.clone(), de.clone()]).expect("aligned");
        let mut moved = de.clone();
        moved.questions[0].paragraph = 1;
        assert!(err_text(check_xquad_aligned(&[en.clone(), moved])).contains("q1"));
        let mut missing = de.clone();
        missing.questions.pop();
        assert!(err_text(check_xquad_aligned(&[en.clone(), missing])).contains("q6"));
        let mut extra = de;
        extra.questions.push(XquadQuestion {
            id: "new".into(),
            text: String::new(),
            paragraph: 0,
            sentence: 0,
        });
        assert!(err_text(check_xquad_aligned(&[en, extra])).contains("new"));
        check_xquad_aligned(&[]).expect("nothing to compare");
    }

    /// The real files, when `XLING_DATA_DIR` points at the shared data.
    /// `XLING_REQUIRE_MODEL=1` (as `cargo xtask test` sets) turns a missing
    /// directory into a failure.
    #[test]
    fn real_xquad_r_files() {
        let Some(dir) = std::env::var_os("XLING_DATA_DIR") else {
            assert!(
                std::env::var("XLING_REQUIRE_MODEL").map_or(true, |v| v != "1"),
                "XLING_REQUIRE_MODEL=1 but XLING_DATA_DIR is not set"
            );
            eprintln!("SKIPPED real_xquad_r_files: set XLING_DATA_DIR to the shared data");
            return;
        };
        let dir = std::path::PathBuf::from(dir).join("xquad-r");
        let mut languages = Vec::new();
        for lang in [
            "en", "ar", "de", "el", "es", "hi", "ru", "th", "tr", "vi", "zh",
        ] {
            let path = dir.join(format!("{lang}.json"));
            let bytes = match std::fs::read(&path) {
                Ok(b) => b,
                // en and ar are required; the others are checked when present.
                Err(e) if lang == "en" || lang == "ar" => panic!("{}: {e}", path.display()),
                Err(_) => continue,
            };
            let x = parse_xquad(lang, &bytes).expect("parses");
            assert_eq!(x.paragraphs.len(), 240, "{lang} paragraphs");
            assert_eq!(x.questions.len(), 1190, "{lang} questions");
            assert_eq!((x.snapped, x.skipped), (0, 0), "{lang}");
            assert!(x.paragraphs.iter().all(|p| !p.is_empty()));
            for q in &x.questions {
                assert!(q.sentence < x.paragraphs[q.paragraph].len());
            }
            languages.push(x);
        }
        check_xquad_aligned(&languages).expect("same paragraphs and questions in every language");
        let en = &languages[0];
        assert_eq!(en.paragraphs.iter().map(Vec::len).sum::<usize>(), 1180);
        assert_eq!(en.questions[0].id, "56beb4343aeaaa14008c925b");
        assert_eq!(
            (en.questions[0].paragraph, en.questions[0].sentence),
            (0, 0)
        );
        assert_eq!(
            languages[1].paragraphs.iter().map(Vec::len).sum::<usize>(),
            1222
        );
    }

    // -- Tatoeba -------------------------------------------------------------

    #[test]
    fn tatoeba_pairs() {
        let t = parse_tatoeba(
            "deu",
            "Hallo.\r\n\nTschüss.\n".as_bytes(),
            b"Hello.\nEmpty.\nBye.",
        )
        .expect("parses");
        assert_eq!(t.lang, "deu");
        assert_eq!(t.other, ["Hallo.", "", "Tschüss."]);
        assert_eq!(t.english, ["Hello.", "Empty.", "Bye."]);
        let empty = parse_tatoeba("deu", b"", b"").expect("parses");
        assert!(empty.other.is_empty() && empty.english.is_empty());
    }

    #[test]
    fn tatoeba_malformed() {
        let m = err_text(parse_tatoeba("deu", b"a\nb\n", b"a\n"));
        assert!(
            m.contains("deu") && m.contains('2') && m.contains('1'),
            "{m}"
        );
        let m = err_text(parse_tatoeba("deu", b"a\n\xFF\n", b"a\nb\n"));
        assert!(m.contains("line 2") && m.contains("UTF-8"), "{m}");
    }

    #[test]
    fn tatoeba_language_listing() {
        let names: Vec<String> = [
            "README.md",
            "tatoeba.deu-eng.eng",
            "tatoeba.afr-eng.eng",
            "tatoeba.deu-eng.deu",
            "tatoeba.afr-eng.afr",
            "tatoeba.xho-eng.xho", // no English side
            "tatoeba.kab-eng.eng", // no other side
            "tatoeba.deu-eng.deu.bak",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(tatoeba_languages(&names), ["afr", "deu"]);
        assert!(tatoeba_languages(&[]).is_empty());
    }

    // -- BEIR ----------------------------------------------------------------

    #[test]
    fn beir_corpus() {
        let jsonl = concat!(
            "\u{feff}{\"_id\": \"d1\", \"title\": \"T\", \"text\": \"one\", \"metadata\": {}}\n",
            "{\"_id\": \"d2\", \"text\": \"two\"}\r\n",
            "\n",
            "{\"_id\": \"3\", \"title\": null, \"text\": \"three\"}\n"
        );
        let docs = parse_beir_corpus(jsonl.as_bytes()).expect("parses");
        assert_eq!(
            docs,
            [
                BeirDoc {
                    id: "d1".into(),
                    title: "T".into(),
                    text: "one".into()
                },
                BeirDoc {
                    id: "d2".into(),
                    title: String::new(),
                    text: "two".into()
                },
                BeirDoc {
                    id: "3".into(),
                    title: String::new(),
                    text: "three".into()
                },
            ]
        );
    }

    #[test]
    fn beir_corpus_malformed() {
        let cases: [(&str, &str); 6] = [
            (
                "{\"_id\": \"a\", \"text\": \"x\"}\n{\"_id\": \"b\"\n",
                "line 2",
            ),
            (
                "{\"_id\": \"a\", \"text\": \"x\"}\n{\"_id\": \"b\"}\n",
                "line 2",
            ),
            ("{\"_id\": 7, \"text\": \"x\"}\n", "line 1"),
            ("{\"_id\": \"\", \"text\": \"x\"}\n", "line 1"),
            ("\n\n[1, 2]\n", "line 3"),
            (
                "{\"_id\": \"a\", \"text\": \"x\"}\n{\"_id\": \"a\", \"text\": \"y\"}\n",
                "\"a\"",
            ),
        ];
        for (input, expect) in cases {
            let m = err_text(parse_beir_corpus(input.as_bytes()));
            assert!(m.contains(expect), "{input:?}: {m}");
        }
        let m = err_text(parse_beir_corpus(b"{\"_id\": \"a\", \"text\": \"\xFF\"}"));
        assert!(m.contains("line 1"), "{m}");
    }

    #[test]
    fn beir_queries() {
        let q = parse_beir_queries(b"{\"_id\": \"q1\", \"text\": \"what?\"}\n").expect("parses");
        assert_eq!(
            q,
            [BeirQuery {
                id: "q1".into(),
                text: "what?".into()
            }]
        );
        let m = err_text(parse_beir_queries(
            b"{\"_id\": \"q1\", \"text\": \"a\"}\n{\"_id\": \"q1\", \"text\": \"b\"}\n",
        ));
        assert!(m.contains("line 2") && m.contains("q1"), "{m}");
        assert!(err_text(parse_beir_queries(b"{\"text\": \"a\"}")).contains("line 1"));
    }

    #[test]
    fn qrels_with_and_without_header() {
        let with = parse_qrels(b"query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td2\t2\nq2\td1\t0\n")
            .expect("parses");
        let without = parse_qrels(b"q1\td1\t1\r\nq1 d2 2\n\nq2\td1\t0").expect("parses");
        assert_eq!(with, without);
        assert_eq!(with["q1"]["d2"], 2);
        assert_eq!(with["q2"]["d1"], 0);
        assert_eq!(with.len(), 2);
        // Negative (junk) judgments are not relevant; exact repeats are fine.
        let junk = parse_qrels(b"q\td\t-1\nq\td\t-1\n").expect("parses");
        assert_eq!(junk["q"]["d"], 0);
        assert!(parse_qrels(b"").expect("parses").is_empty());
    }

    #[test]
    fn qrels_malformed() {
        let cases: [(&[u8], &str); 6] = [
            (b"query-id\tcorpus-id\tscore\nq1\td1\n", "line 2"),
            (b"q1\td1\tyes\n", "line 1"),
            (b"q1\td1\t1.5\n", "line 1"),
            (b"q1\td1\t1\tx\n", "line 1"),
            (b"q1\td1\t1\n\t\td1\t1\n", "line 2"),
            (b"q1\td1\t1\nq1\td1\t2\n", "line 2"),
        ];
        for (input, expect) in cases {
            let m = err_text(parse_qrels(input));
            assert!(
                m.contains(expect),
                "{:?}: {m}",
                String::from_utf8_lossy(input)
            );
        }
        // A header is only a header on the first line.
        assert!(err_text(parse_qrels(b"q\td\t1\nquery-id\tcorpus-id\tscore\n")).contains("line 2"));
    }
}
