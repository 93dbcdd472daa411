//! BEIR-layout retrieval sets built from Tatoeba, for the users a mixed
//! benchmark hides: queries in a low-resource language over English
//! passages (one language in the collection), the reverse, and small mixed
//! pools of English answers beside passages in another South Asian script
//! (a few pasted documents, as a new user has).
//!
//! `xling prior` estimates the shipped prior on the last 100 lines of each
//! Tatoeba file, so the sets use only the lines before them (at most 900).

use std::path::Path;

use super::{read_tatoeba_pair, tatoeba_set};
use crate::error::{RunError, RunResult};

/// Low-resource languages of the default sets, in several scripts.
pub const LOW_RESOURCE: [&str; 14] = [
    "amh", "ben", "kab", "khm", "mal", "mar", "swh", "tam", "tel", "tuk", "uig", "urd", "xho",
    "yid",
];

/// Default small pools: (query language, language of the other 30 passages).
pub const SMALL_POOLS: [(&str, &str); 6] = [
    ("mar", "tam"),
    ("hin", "ben"),
    ("tam", "mal"),
    ("tel", "ben"),
    ("urd", "mar"),
    ("ben", "hin"),
];

/// Most lines of a Tatoeba file a set uses.
const MAX_LINES: usize = 900;
/// Lines at the end of each file that estimated the prior.
const PRIOR_LINES: usize = 100;
/// Queries (and English answers) of a small pool.
const POOL_SIZE: usize = 30;

/// Lines of a file of `n` the sets may use.
fn held_out(n: usize) -> usize {
    n.saturating_sub(PRIOR_LINES).min(MAX_LINES)
}

/// One retrieval set in BEIR's layout.
#[derive(Debug, Clone, PartialEq)]
pub struct BeirSet {
    /// Folder name: `swh-eng`, `eng-swh`, `pool-mar-tam`.
    pub name: String,
    /// Corpus documents: id and text.
    pub corpus: Vec<(String, String)>,
    /// Queries: id and text.
    pub queries: Vec<(String, String)>,
    /// Judged pairs: query id, relevant document id.
    pub qrels: Vec<(String, String)>,
}

/// Both directions for each of `languages` and the `pools`, from the
/// Tatoeba folder under `data`.
pub fn tatoeba_sets(
    data: &Path,
    languages: &[String],
    pools: &[(String, String)],
) -> RunResult<Vec<BeirSet>> {
    let (dir, _) = tatoeba_set(data, &[])?;
    let mut sets = Vec::new();
    for lang in languages {
        let pair = read_tatoeba_pair(&dir, lang)?;
        let n = held_out(pair.other.len());
        let other = &pair.other[..n];
        let english = &pair.english[..n];
        sets.push(aligned(&format!("{lang}-eng"), other, english));
        sets.push(aligned(&format!("eng-{lang}"), english, other));
    }
    for (query_lang, other_lang) in pools {
        let pair = read_tatoeba_pair(&dir, query_lang)?;
        let other = read_tatoeba_pair(&dir, other_lang)?.other;
        // The other language's last held-out lines: other sentences than
        // the queries' translations.
        let end = held_out(other.len());
        if held_out(pair.other.len()) < POOL_SIZE || end < POOL_SIZE {
            return Err(RunError::Invalid(format!(
                "Tatoeba {query_lang} or {other_lang} is too short for a pool of {POOL_SIZE}"
            )));
        }
        let mut set = aligned(
            &format!("pool-{query_lang}-{other_lang}"),
            &pair.other[..POOL_SIZE],
            &pair.english[..POOL_SIZE],
        );
        set.corpus.extend(
            other[end - POOL_SIZE..end]
                .iter()
                .enumerate()
                .map(|(i, t)| (format!("o{i}"), t.clone())),
        );
        sets.push(set);
    }
    Ok(sets)
}

/// Query `i` is `queries[i]`; its one relevant document is `targets[i]`.
fn aligned(name: &str, queries: &[String], targets: &[String]) -> BeirSet {
    BeirSet {
        name: name.to_string(),
        corpus: targets
            .iter()
            .enumerate()
            .map(|(i, t)| (format!("d{i}"), t.clone()))
            .collect(),
        queries: queries
            .iter()
            .enumerate()
            .map(|(i, t)| (format!("q{i}"), t.clone()))
            .collect(),
        qrels: (0..queries.len())
            .map(|i| (format!("q{i}"), format!("d{i}")))
            .collect(),
    }
}

/// Writes `set` as `out/<name>/{corpus.jsonl, queries.jsonl, qrels/test.tsv}`.
pub fn write_beir(set: &BeirSet, out: &Path) -> RunResult<()> {
    let dir = out.join(&set.name);
    let io = |what: &Path| {
        let what = what.display().to_string();
        move |e| RunError::io(format!("cannot write {what}"), e)
    };
    std::fs::create_dir_all(dir.join("qrels")).map_err(io(&dir))?;
    let jsonl = |rows: &[(String, String)], corpus: bool| -> String {
        rows.iter()
            .map(|(id, text)| {
                let line = if corpus {
                    serde_json::json!({"_id": id, "title": "", "text": text})
                } else {
                    serde_json::json!({"_id": id, "text": text})
                };
                line.to_string() + "\n"
            })
            .collect()
    };
    let mut qrels = String::from("query-id\tcorpus-id\tscore\n");
    for (q, d) in &set.qrels {
        qrels.push_str(&format!("{q}\t{d}\t1\n"));
    }
    for (name, text) in [
        ("corpus.jsonl", jsonl(&set.corpus, true)),
        ("queries.jsonl", jsonl(&set.queries, false)),
        ("qrels/test.tsv", qrels),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(io(&path))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{parse_beir_corpus, parse_beir_queries, parse_qrels};

    fn lines(prefix: &str, n: usize) -> String {
        (0..n).map(|i| format!("{prefix} {i}\n")).collect()
    }

    #[test]
    fn sets_pair_each_query_with_its_translation_and_round_trip() {
        let tmp = std::env::temp_dir().join(format!("xling-sets-{}", std::process::id()));
        let data = tmp.join("tatoeba");
        std::fs::create_dir_all(&data).unwrap();
        for (lang, n) in [("mar", 1000), ("tam", 1000)] {
            std::fs::write(
                data.join(format!("tatoeba.{lang}-eng.{lang}")),
                lines(lang, n),
            )
            .unwrap();
            std::fs::write(data.join(format!("tatoeba.{lang}-eng.eng")), lines("en", n)).unwrap();
        }
        let sets = tatoeba_sets(
            &data,
            &["mar".to_string()],
            &[("mar".to_string(), "tam".to_string())],
        )
        .unwrap();
        let names: Vec<&str> = sets.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["mar-eng", "eng-mar", "pool-mar-tam"]);
        assert_eq!(sets[0].queries.len(), 900);
        assert_eq!(sets[0].queries[7].1, "mar 7");
        assert_eq!(sets[0].corpus[7].1, "en 7");
        assert_eq!(sets[1].queries[7].1, "en 7");
        let pool = &sets[2];
        assert_eq!((pool.queries.len(), pool.corpus.len()), (30, 60));
        assert_eq!(pool.corpus[30].1, "tam 870");
        let out = tmp.join("out");
        write_beir(pool, &out).unwrap();
        let dir = out.join("pool-mar-tam");
        let corpus = parse_beir_corpus(&std::fs::read(dir.join("corpus.jsonl")).unwrap()).unwrap();
        let queries =
            parse_beir_queries(&std::fs::read(dir.join("queries.jsonl")).unwrap()).unwrap();
        let qrels = parse_qrels(&std::fs::read(dir.join("qrels/test.tsv")).unwrap()).unwrap();
        assert_eq!((corpus.len(), queries.len(), qrels.len()), (60, 30, 30));
        assert_eq!(queries[3].text, "mar 3");
        assert!(qrels.get("q3").is_some_and(|j| j.get("d3") == Some(&1)));
        std::fs::remove_dir_all(&tmp).unwrap();
    }
}
