//! The tables `xling eval` prints, its `--json` reports and `--plot` series.

use std::path::Path;

use xling_eval::runners::{BeirReport, BeirSuiteReport, LangidReport, TatoebaReport, XquadReport};
use xling_eval::{Comparison, Figures};
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
        "{:<6} {:>8} {:>10} {:>9} {:>8} {:>6} {:>7} {:>8}",
        "lang", "text", "embedding", "combined", "text und", "short", "as pass", "as query"
    );
    for (l, s) in &r.per_language {
        println!(
            "{l:<6} {:>8.3} {:>10.3} {:>9.3} {:>8.3} {:>6} {:>7.3} {:>8.3}",
            s.text,
            s.embedding,
            s.combined,
            s.text_undetermined,
            s.short,
            s.short_combined,
            s.short_query
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
    println!(
        "short texts (≤ {} words): as passages {:.4}, as queries {:.4}",
        xling_eval::runners::SHORT_WORDS,
        r.short_combined,
        r.short_query
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

/// Prints the BEIR figures of every collection of a folder.
pub(super) fn beir_suite(
    r: &BeirSuiteReport,
    figures: &Figures,
) -> anyhow::Result<(serde_json::Value, Plot)> {
    println!("{}: {} collections", figures.title, r.sets.len());
    print!("{:<16} {:>8} {:>8}", "collection", "queries", "docs");
    for c in &figures.columns {
        print!(" {c:>8}");
    }
    println!();
    for ((name, set), (_, values)) in r.sets.iter().zip(&figures.rows) {
        print!("{name:<16} {:>8} {:>8}", set.queries, set.documents);
        for v in values {
            print!(" {v:>8.4}");
        }
        println!();
    }
    let json = serde_json::json!({
        "mode": r.mode,
        "collections": r.sets.iter().map(|(n, s)| (n.clone(), serde_json::json!({
            "queries": s.queries,
            "documents": s.documents,
            "metrics": s.metrics,
        }))).collect::<serde_json::Map<_, _>>(),
    });
    let plot = (
        figures.title.clone(),
        vec![(
            figures.columns[0].clone(),
            figures
                .rows
                .iter()
                .map(|(n, v)| (n.clone(), v[0]))
                .collect(),
        )],
    );
    Ok((json, plot))
}

/// Prints each measure's mean with its worst row beside it.
pub(super) fn worst(f: &Figures) {
    if f.rows.len() < 2 {
        return;
    }
    let parts: Vec<String> = (0..f.columns.len())
        .filter_map(|c| {
            let s = f.summary(c);
            let (row, value) = s.worst?;
            Some(format!(
                "{} mean {:.4}, worst {row} {value:.4}",
                f.columns[c], s.mean
            ))
        })
        .collect();
    println!("worst: {}", parts.join("; "));
}

/// Losses smaller than this count as ties (one query in a thousand on Tatoeba).
const TIE: f64 = 0.0005;

/// Prints two runs side by side with their deltas, and per measure the row
/// that lost most.
pub(super) fn comparison(c: &Comparison, flags: &str) {
    println!("compare: A = the flags given, B = A + {flags:?} (Δ = B − A)");
    print!("{:<16}", "");
    for col in &c.columns {
        print!(" {:>8} {:>8} {:>8}", format!("{col} A"), "B", "Δ");
    }
    println!();
    for (name, values) in &c.rows {
        print!("{name:<16}");
        for (a, b) in values {
            print!(" {a:>8.4} {b:>8.4} {:>+8.4}", b - a);
        }
        println!();
    }
    for (i, col) in c.columns.iter().enumerate() {
        let ch = c.change(i, TIE);
        let worst = ch
            .worst
            .map(|(n, d)| format!("worst {n} {d:+.4}"))
            .unwrap_or_default();
        let best = ch
            .best
            .map(|(n, d)| format!("best {n} {d:+.4}"))
            .unwrap_or_default();
        println!(
            "{col}: mean {:.4} → {:.4} ({:+.4}); {worst}; {best}; B lower on {} of {}",
            ch.mean.0,
            ch.mean.1,
            ch.mean.1 - ch.mean.0,
            ch.losses,
            ch.rows
        );
    }
    for (name, a, b) in &c.headline {
        println!("{name}: {a:.4} → {b:.4} ({:+.4})", b - a);
    }
}

/// The comparison as JSON: per measure, the means, the worst and best rows, the losses.
pub(super) fn comparison_json(c: &Comparison) -> serde_json::Value {
    let measures: serde_json::Map<String, serde_json::Value> = c
        .columns
        .iter()
        .enumerate()
        .map(|(i, col)| {
            let ch = c.change(i, TIE);
            (
                col.clone(),
                serde_json::json!({
                    "mean_a": ch.mean.0,
                    "mean_b": ch.mean.1,
                    "worst": ch.worst,
                    "best": ch.best,
                    "losses": ch.losses,
                    "rows": ch.rows,
                    "per_row": c.rows.iter().map(|(n, v)| (n.clone(), serde_json::json!(v[i]))).collect::<serde_json::Map<_, _>>(),
                }),
            )
        })
        .collect();
    serde_json::json!({ "measures": measures, "headline": c.headline })
}
