//! `xling prune`: a smaller model directory for a deployment's languages and
//! documents. The selection rule is `xling_index::prune`, the mechanics
//! `xling_model::model::prune`; this file reads and writes the files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use xling_index::chunk::ChunkConfig;
use xling_index::lang::normalize_language;
use xling_index::prune::{parse_languages, select_pieces, PruneRequest, Selection};
use xling_index::{LanguagePrior, PRIOR_FILE};
use xling_model::model::prune::{prune_model, PruneInfo, PrunedModel};
use xling_model::model::{COMPACT_TOKENIZER_FILE, MODEL_FILE, TOKENIZER_FILE};
use xling_model::{ModelFiles, Tokenizer};

/// Default `--max-pieces` for one or two languages: one Latin-script language
/// plus English stays under 25 MB (13 MB of layers plus 216 bytes per kept
/// piece).
pub const DEFAULT_MAX_PIECES: usize = 50_000;
/// Default `--max-pieces` per language beyond that: on Tatoeba five
/// languages at 50,000 pieces lost up to 13 points (Swahili), at 100,000 at
/// most 2.3 (README, "Pruning a model").
pub const DEFAULT_PIECES_PER_LANGUAGE: usize = 20_000;

/// The default `--max-pieces` for `languages` languages.
pub fn default_max_pieces(languages: usize) -> usize {
    DEFAULT_MAX_PIECES.max(DEFAULT_PIECES_PER_LANGUAGE * languages)
}

/// Arguments of `xling prune`.
#[derive(clap::Args)]
pub struct Args {
    /// The full model directory to prune.
    #[arg(long, default_value = crate::DEFAULT_MODEL_DIR)]
    model: PathBuf,
    /// The directory to write the pruned model into (created; not --model).
    #[arg(long)]
    out: PathBuf,
    /// The deployment's languages, comma-separated ISO 639-1 codes (en,de).
    #[arg(long, value_delimiter = ',', required = true)]
    languages: Vec<String>,
    /// Documents to keep every piece of, read like `xling index` inputs: they
    /// tokenize to exactly the same pieces with the pruned model.
    #[arg(long, num_args = 1..)]
    corpus: Vec<PathBuf>,
    /// The most pieces to keep (the corpus, control and script pieces are
    /// kept whatever the limit; an error says when they need more). Default:
    /// 20,000 per language, at least 50,000.
    #[arg(long)]
    max_pieces: Option<usize>,
    /// Tatoeba directory: its sentences of the languages rank the query-side
    /// pieces first. Optional; it biases Tatoeba figures of the pruned model.
    #[arg(long)]
    samples: Option<PathBuf>,
    /// Tatoeba directory: recompute the language prior with the pruned model
    /// (instead of re-stamping the parent's means of the kept languages).
    #[arg(long)]
    prior_data: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let corpus = if args.corpus.is_empty() {
        None
    } else {
        Some(xling_index::documents::read_inputs(&args.corpus)?)
    };
    let request = PruneDir {
        model: &args.model,
        out: &args.out,
        languages: &args.languages,
        corpus: corpus.as_deref(),
        max_pieces: args.max_pieces,
        samples: args.samples.as_deref(),
        prior_data: args.prior_data.as_deref(),
    };
    let (pruned, selection, prior) = prune_dir(&request)?;
    report(&args.out, &pruned, &selection, prior.as_ref());
    Ok(())
}

/// What [`prune_dir`] prunes (`xling prune`'s arguments, also used by `xling site`).
pub struct PruneDir<'a> {
    /// The full model directory.
    pub model: &'a Path,
    /// Where the pruned model goes (created).
    pub out: &'a Path,
    /// Language codes to keep.
    pub languages: &'a [String],
    /// Documents whose every piece is kept.
    pub corpus: Option<&'a [xling_index::Document]>,
    /// Limit on kept pieces (default by language count).
    pub max_pieces: Option<usize>,
    /// Tatoeba directory ranking the query-side pieces.
    pub samples: Option<&'a Path>,
    /// Tatoeba directory to recompute the prior from.
    pub prior_data: Option<&'a Path>,
}

/// Writes the pruned model directory `request.out`; returns the model, the
/// selection and the prior it wrote.
pub fn prune_dir(
    request: &PruneDir,
) -> anyhow::Result<(PrunedModel, Selection, Option<LanguagePrior>)> {
    let (languages, scripts) = parse_languages(request.languages)?;
    if request.out.exists() && same_dir(request.out, request.model) {
        bail!("--out must not be the --model directory");
    }
    let files = read_json_model(request.model)?;
    let config = xling_model::model::gguf::read_model_config(&files.gguf)?;
    let tokenizer = Tokenizer::from_json(&files.tokenizer_json, &config)?;
    let samples = match request.samples {
        Some(dir) => samples(dir, &languages)?,
        None => Vec::new(),
    };
    let chunk = ChunkConfig::default();
    let selection = select_pieces(
        &tokenizer,
        &files.tokenizer_json,
        &config,
        &PruneRequest {
            language_scripts: &scripts,
            corpus: request.corpus,
            chunk: &chunk,
            samples: &samples,
            max_pieces: request
                .max_pieces
                .unwrap_or_else(|| default_max_pieces(languages.len())),
        },
    )?;
    drop(tokenizer);
    let info = PruneInfo {
        languages: languages.clone(),
    };
    let pruned = prune_model(&files, &selection.keep, &info)?;
    write_model(request.out, &pruned)?;
    let prior = match request.prior_data {
        Some(data) => recomputed_prior(request.out, data, &languages)?,
        None => restamped_prior(request.model, &pruned, &languages)?,
    };
    if let Some(prior) = &prior {
        crate::fsutil::write_atomic(&request.out.join(PRIOR_FILE), &prior.to_bytes())?;
    }
    Ok((pruned, selection, prior))
}

/// Whether two paths name the same directory.
fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// `model.gguf` and the JSON tokenizer (pruning edits the JSON, whatever
/// tokenizer file the directory prefers at load time).
fn read_json_model(dir: &Path) -> anyhow::Result<ModelFiles> {
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))
    };
    Ok(ModelFiles {
        gguf: read(MODEL_FILE)?,
        tokenizer_json: read(TOKENIZER_FILE)?,
    })
}

fn write_model(out: &Path, pruned: &PrunedModel) -> anyhow::Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    crate::fsutil::write_atomic(&out.join(MODEL_FILE), &pruned.gguf)?;
    crate::fsutil::write_atomic(&out.join(TOKENIZER_FILE), &pruned.tokenizer_json)?;
    let compact = xling_model::model::compact::build_compact_tokenizer(&pruned.tokenizer_json)?;
    crate::fsutil::write_atomic(&out.join(COMPACT_TOKENIZER_FILE), &compact)?;
    Ok(())
}

/// The parent's prior means of the kept languages, stamped with the pruned
/// model's fingerprint. Text of the kept languages tokenizes (nearly) as
/// before, so its mean vectors barely move; the left-out languages are
/// dropped, since their text no longer embeds like the means.
fn restamped_prior(
    model: &Path,
    pruned: &PrunedModel,
    languages: &[String],
) -> anyhow::Result<Option<LanguagePrior>> {
    let Some(parent) = LanguagePrior::read_model_dir(model)? else {
        eprintln!(
            "xling prune: no {PRIOR_FILE} in {}: the pruned model has no prior either",
            model.display()
        );
        return Ok(None);
    };
    let kept = parent
        .languages()
        .iter()
        .filter(|l| languages.contains(&l.code))
        .cloned()
        .collect();
    Ok(Some(LanguagePrior::new(
        pruned.config.fingerprint(),
        parent.dim(),
        kept,
    )?))
}

/// The prior estimated with the pruned model, like `xling prior` on the kept
/// languages (100 sentences each, a few seconds per language).
fn recomputed_prior(
    out: &Path,
    data: &Path,
    languages: &[String],
) -> anyhow::Result<Option<LanguagePrior>> {
    let model = crate::ModelArgs {
        model: out.to_path_buf(),
        weights: xling_model::WeightFormat::default(),
        device: xling_gpu::Device::Cpu,
    };
    Ok(Some(crate::prior::compute(
        &model,
        data,
        100,
        Some(languages),
        None,
    )?))
}

/// Tatoeba sentences of `languages` (all 1,000 lines of each file).
fn samples(dir: &Path, languages: &[String]) -> anyhow::Result<Vec<String>> {
    let (dir, langs) = xling_eval::runners::tatoeba_set(dir, &[])?;
    let chosen: Vec<String> = langs
        .into_iter()
        .filter(|l| normalize_language(l).is_some_and(|c| languages.contains(&c)))
        .collect();
    let texts: BTreeMap<String, Vec<String>> =
        xling_eval::runners::prior_sentences(&dir, &chosen, usize::MAX / 2)?;
    Ok(texts
        .into_iter()
        .filter(|(code, _)| languages.contains(code))
        .flat_map(|(_, lines)| lines)
        .collect())
}

pub(crate) fn report(
    out: &Path,
    pruned: &PrunedModel,
    s: &Selection,
    prior: Option<&LanguagePrior>,
) {
    let size = |name: &str| std::fs::metadata(out.join(name)).map_or(0, |m| m.len());
    // What a browser downloads: tokenizer.json stays for tools that edit it.
    let served: u64 = [MODEL_FILE, COMPACT_TOKENIZER_FILE, PRIOR_FILE]
        .iter()
        .map(|n| size(n))
        .sum();
    eprintln!(
        "xling prune: kept {} of {} pieces ({} control and prefix, {} corpus, {} script characters, {} query-side)",
        s.keep.len(),
        pruned.parent.vocab_pieces,
        s.control,
        s.corpus,
        s.characters,
        s.query
    );
    eprintln!(
        "xling prune: wrote {} ({}): model.gguf {} bytes ({:.1} MB), tokenizer.xlt {:.1} MB, {} languages in the prior; {:.1} MB served (tokenizer.json, {:.1} MB, is not needed by the browser)",
        out.display(),
        pruned.config.name,
        size(MODEL_FILE),
        size(MODEL_FILE) as f64 / 1e6,
        size(COMPACT_TOKENIZER_FILE) as f64 / 1e6,
        prior.map_or(0, |p| p.languages().len()),
        served as f64 / 1e6,
        size(TOKENIZER_FILE) as f64 / 1e6
    );
}
