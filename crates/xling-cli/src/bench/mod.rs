//! `xling bench`: speed measurements. Each command has its own module;
//! what they share (texts, percentiles, the encode arguments) lives in
//! `common`, so dependencies point one way: command → common.

mod common;
mod encode;
mod gpu;
mod index;
mod memory;
mod native;

pub use common::EncodeArgs;

#[derive(clap::Subcommand)]
pub enum BenchCommand {
    /// Encoding throughput and query latency, xling vs the reference engine.
    Encode(EncodeArgs),
    /// Dense index: HNSW vs brute force (recall, latency, build speed, bytes).
    Index(index::Args),
    /// Native side of the browser benchmark: indexing and query latency on given files.
    Native(native::Args),
    /// Where the engine's memory goes: its own breakdown next to the process's RSS.
    Memory(memory::Args),
}

/// Runs one benchmark command.
pub fn run(cmd: BenchCommand) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Encode(args) if args.device != xling_gpu::Device::Cpu => gpu::run(&args),
        BenchCommand::Encode(args) => encode::run(args),
        BenchCommand::Index(args) => index::run(args),
        BenchCommand::Native(args) => native::run(args),
        BenchCommand::Memory(args) => memory::run(args),
    }
}
