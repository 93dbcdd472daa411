//! `xling serve DIR`: a static server to preview a built site (or serve the
//! app) on this machine; 127.0.0.1 unless `--host` says otherwise.

use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::Context;

/// Arguments of `xling serve`.
#[derive(clap::Args)]
pub struct Args {
    /// The folder to serve (e.g. the built site).
    dir: PathBuf,
    /// Port (0: any free port).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Address to listen on; 0.0.0.0 serves the local network.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let server = xling_serve::Server::new(&args.dir)
        .with_context(|| format!("cannot serve {}", args.dir.display()))?;
    let addr = server
        .start((args.host, args.port))
        .with_context(|| format!("cannot listen on {}:{} (in use?)", args.host, args.port))?;
    println!(
        "xling serve: {} at http://{addr}/ (Ctrl-C stops)",
        args.dir.display()
    );
    loop {
        std::thread::park();
    }
}
