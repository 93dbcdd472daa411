//! The tables `xling eval` prints, its `--json` reports and `--plot` series.

use std::path::Path;

use xling_eval::runners::{BeirReport, LangidReport, TatoebaReport, XquadReport};
use xling_index::SearchMode;

/// A chart: title and named series of (language, value).
pub(super) type Plot = (String, Vec<(String, Vec<(String, f64)>)>);

/// Prints the XQuAD-R table; `exact` only labels it.
pub(super) fn xquad(r: &XquadReport, exact: bool) -> anyhow::Result<(serde_json::Value, Plot)> {
    println!(
        "XQuAD-R ({} mode, {} engine{}): {} questions, {} candidates",
        r.mode,
        r.engine,
        if exact { ", exact" } else { "" },
        r.questions,
        r.candidates
    );
    println!(
        "{:<6} {:>8} {:>8} {:>14}",
        "lang", "X-Y mAP", "X-X mAP", "own lang top11"
    );
    for lang in &r.languages {
        if let Some(l) = r.per_language.get(lang) {
            println!(
                "{lang:<6} {:>8.4} {:>8.4} {:>14.3}",
                l.map_xy, l.map_xx, l.same_language_top11
            );
        }
    }
    println!(
        "{:<6} {:>8.4} {:>8.4}   (En-En {:.4})",
        "all", r.map_xy, r.map_xx, r.map_en_en
    );
    let series = |f: fn(&xling_eval::runners::XquadLanguageReport) -> f64| -> Vec<(String, f64)> {
        r.languages
            .iter()
            .filter_map(|l| r.per_language.get(l).map(|x| (l.clone(), f(x))))
            .collect()
    };
    let plot = (
        format!("XQuAD-R mAP per query language ({} mode)", r.mode),
        vec![
            ("X-Y".to_string(), series(|x| x.map_xy)),
            ("X-X".to_string(), series(|x| x.map_xx)),
        ],
    );
    Ok((serde_json::to_value(r)?, plot))
}

/// Prints the Tatoeba table.
pub(super) fn tatoeba(r: &TatoebaReport) -> anyhow::Result<(serde_json::Value, Plot)> {
    println!(
        "Tatoeba ({} mode, {} engine): {} languages",
        r.mode,
        r.engine,
        r.per_language.len()
    );
    println!("{:<6} {:>8} {:>8} {:>8}", "lang", "→eng", "eng→", "mean");
    for (lang, l) in &r.per_language {
        println!(
            "{lang:<6} {:>8.3} {:>8.3} {:>8.3}",
            l.to_english, l.from_english, l.accuracy
        );
    }
    println!("{:<6} {:>26.4}", "all", r.accuracy);
    let plot = (
        format!("Tatoeba accuracy per language ({} mode)", r.mode),
        vec![
            (
                "→ eng".to_string(),
                r.per_language
                    .iter()
                    .map(|(l, x)| (l.clone(), x.to_english))
                    .collect(),
            ),
            (
                "eng →".to_string(),
                r.per_language
                    .iter()
                    .map(|(l, x)| (l.clone(), x.from_english))
                    .collect(),
            ),
        ],
    );
    Ok((serde_json::to_value(r)?, plot))
}

/// Prints the language identification table.
pub(super) fn langid(r: &LangidReport) -> anyhow::Result<(serde_json::Value, Plot)> {
    println!(
        "Language identification on Tatoeba ({} languages, first {} sentences each)",
        r.per_language.len(),
        r.limit
    );
    println!(
        "{:<6} {:>8} {:>10} {:>9} {:>8}",
        "lang", "text", "embedding", "combined", "text und"
    );
    for (l, s) in &r.per_language {
        println!(
            "{l:<6} {:>8.3} {:>10.3} {:>9.3} {:>8.3}",
            s.text, s.embedding, s.combined, s.text_undetermined
        );
    }
    println!(
        "all    text {:.4}  embedding {:.4}  combined {:.4}   (on whatlang's languages: {:.4} / {:.4} / {:.4})",
        r.text,
        r.embedding,
        r.combined,
        r.text_on_whatlang_languages,
        r.embedding_on_whatlang_languages,
        r.combined_on_whatlang_languages,
    );
    let plot = (
        "Language identification accuracy on Tatoeba".to_string(),
        vec![
            (
                "text".to_string(),
                r.per_language
                    .iter()
                    .map(|(l, s)| (l.clone(), s.text))
                    .collect(),
            ),
            (
                "combined".to_string(),
                r.per_language
                    .iter()
                    .map(|(l, s)| (l.clone(), s.combined))
                    .collect(),
            ),
        ],
    );
    Ok((serde_json::to_value(r)?, plot))
}

/// Prints the BEIR metrics of the collection in `data`.
pub(super) fn beir(
    r: &BeirReport,
    data: &Path,
    mode: SearchMode,
) -> anyhow::Result<(serde_json::Value, Plot)> {
    println!(
        "BEIR {} ({} mode): {} queries, {} documents",
        data.display(),
        mode,
        r.queries,
        r.documents
    );
    println!("{}", serde_json::to_string_pretty(&r.metrics)?);
    let values = serde_json::to_value(r.metrics)?;
    let plot = (
        format!("BEIR {} ({} mode)", data.display(), mode),
        vec![(
            mode.to_string(),
            values
                .as_object()
                .map(|o| {
                    o.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_f64()?)))
                        .collect()
                })
                .unwrap_or_default(),
        )],
    );
    Ok((values, plot))
}
