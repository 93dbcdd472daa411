//! `xling beir-sets`: writes the BEIR-layout sets of `xling_eval::runners::sets`
//! (low-resource languages to and from English, small mixed pools) for
//! `xling eval beir --data DIR`, which measures every set of a folder.

use std::path::PathBuf;

use anyhow::{bail, Context};
use xling_eval::runners::{tatoeba_sets, write_beir, LOW_RESOURCE, SMALL_POOLS};

/// Arguments of `xling beir-sets`.
#[derive(clap::Args)]
pub struct Args {
    /// Data directory holding tatoeba/ (or the tatoeba folder itself).
    #[arg(long)]
    data: PathBuf,
    /// Folder to write the sets into (one sub-folder per set).
    #[arg(long)]
    out: PathBuf,
    /// Languages (Tatoeba codes) of the to- and from-English sets.
    #[arg(long, value_delimiter = ',', default_values_t = LOW_RESOURCE.map(String::from))]
    languages: Vec<String>,
    /// Small pools as QUERY:OTHER (30 queries in QUERY over their 30 English
    /// answers and 30 passages in OTHER).
    #[arg(long, value_delimiter = ',', default_values_t = SMALL_POOLS.map(|(q, o)| format!("{q}:{o}")))]
    pools: Vec<String>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let mut pools = Vec::new();
    for p in &args.pools {
        let Some((q, o)) = p.split_once(':') else {
            bail!("--pools: {p:?} is not QUERY:OTHER (e.g. mar:tam)");
        };
        pools.push((q.to_string(), o.to_string()));
    }
    let sets = tatoeba_sets(&args.data, &args.languages, &pools)?;
    for set in &sets {
        write_beir(set, &args.out).with_context(|| format!("cannot write set {}", set.name))?;
    }
    eprintln!(
        "xling beir-sets: wrote {} sets into {} (measure them with `xling eval beir --data {}`)",
        sets.len(),
        args.out.display(),
        args.out.display()
    );
    Ok(())
}
