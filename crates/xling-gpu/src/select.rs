//! Choosing the encoder natively: `--device cpu|gpu|auto`. The GPU is used
//! only after it passes the model's self-test; `auto` falls back to the CPU
//! (and says why), an explicit `gpu` fails instead.

use xling_core::model::SelfTest;
use xling_core::{CpuEncoder, Embedder, ModelFiles, Tokenizer, WeightFormat, WindowEncoder};

use crate::context::{AdapterChoice, AdapterSummary};
use crate::encoder::GpuEncoder;
use crate::error::{GpuError, Result};

/// Where to run the encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Device {
    /// A hardware GPU that passes the self-test, else the CPU.
    #[default]
    Auto,
    Cpu,
    /// Any GPU adapter, software ones included (for testing and profiling);
    /// an error if there is none or it fails the self-test.
    Gpu,
}

impl std::str::FromStr for Device {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "auto" => Ok(Device::Auto),
            "cpu" => Ok(Device::Cpu),
            "gpu" => Ok(Device::Gpu),
            _ => Err(format!("unknown device {s:?} (expected auto, cpu or gpu)")),
        }
    }
}

/// The CPU or the GPU encoder, chosen at run time.
pub enum AnyEncoder {
    Cpu(CpuEncoder),
    Gpu(GpuEncoder),
}

impl WindowEncoder for AnyEncoder {
    fn dim(&self) -> usize {
        match self {
            AnyEncoder::Cpu(e) => e.dim(),
            AnyEncoder::Gpu(e) => e.dim(),
        }
    }

    fn encode_windows(&self, windows: &[&[u32]]) -> xling_core::Result<Vec<Vec<f32>>> {
        match self {
            AnyEncoder::Cpu(e) => e.encode_windows(windows),
            AnyEncoder::Gpu(e) => e.encode_windows(windows),
        }
    }
}

/// Which encoder was chosen, and why.
#[derive(Debug, Clone)]
pub struct BackendReport {
    /// "gpu" or "cpu".
    pub backend: &'static str,
    pub adapter: Option<AdapterSummary>,
    /// The self-test's lowest cosine, when the GPU ran it.
    pub self_test_cosine: Option<f32>,
    /// Why this backend (for `auto`: why not the GPU).
    pub reason: String,
}

impl std::fmt::Display for BackendReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.backend)?;
        if let Some(a) = &self.adapter {
            write!(f, " on {a}")?;
        }
        if let Some(c) = self.self_test_cosine {
            write!(f, ", self-test cosine {c:.6}")?;
        }
        write!(f, " ({})", self.reason)
    }
}

/// Loads the model on `device` (`format` applies to the CPU encoder).
pub fn load_embedder(
    files: &ModelFiles,
    device: Device,
    format: WeightFormat,
) -> Result<(Embedder<AnyEncoder>, BackendReport)> {
    let cpu = |reason: String| -> Result<(Embedder<AnyEncoder>, BackendReport)> {
        let (tokenizer, encoder) = Embedder::load_with(files, format)?.into_parts();
        let report = BackendReport {
            backend: "cpu",
            adapter: None,
            self_test_cosine: None,
            reason,
        };
        Ok((Embedder::new(tokenizer, AnyEncoder::Cpu(encoder)), report))
    };
    let choice = match device {
        Device::Cpu => return cpu("asked for".into()),
        Device::Auto => AdapterChoice::Hardware,
        Device::Gpu => AdapterChoice::Any,
    };
    match load_gpu(files, choice) {
        Ok((tokenizer, encoder, cosine)) => {
            let report = BackendReport {
                backend: "gpu",
                adapter: Some(encoder.gpu().summary().clone()),
                self_test_cosine: Some(cosine),
                reason: if device == Device::Gpu {
                    "asked for".into()
                } else {
                    "a GPU passed the self-test".into()
                },
            };
            Ok((Embedder::new(tokenizer, AnyEncoder::Gpu(encoder)), report))
        }
        Err(e) if device == Device::Auto && !matches!(e, GpuError::Core(_)) => cpu(e.to_string()),
        Err(e) => Err(e),
    }
}

/// Opens the GPU, uploads the model and runs the self-test (the one stored
/// in the model; for files converted before it existed, computed on the CPU).
fn load_gpu(files: &ModelFiles, choice: AdapterChoice) -> Result<(Tokenizer, GpuEncoder, f32)> {
    let encoder = pollster::block_on(GpuEncoder::open(choice, &files.gguf))?;
    let tokenizer = Tokenizer::from_json(&files.tokenizer_json, encoder.config())?;
    let expected = match SelfTest::read(&files.gguf)? {
        Some(stored) => stored,
        None => SelfTest::compute(&Embedder::load_with(files, WeightFormat::Q4_0)?)?,
    };
    let cosine = pollster::block_on(encoder.self_test(&tokenizer, &expected))?;
    Ok((tokenizer, encoder, cosine))
}

#[cfg(test)]
mod tests {
    use xling_core::testing::tiny_model_files;
    use xling_core::Prefix;

    use super::*;

    #[test]
    fn each_device_choice_gives_the_encoder_it_promises() {
        let files = tiny_model_files(51);
        let (gpu, report) = load_embedder(&files, Device::Gpu, WeightFormat::F32)
            .expect("a GPU adapter that passes the self-test");
        assert_eq!(report.backend, "gpu");
        assert!(matches!(gpu.encoder(), AnyEncoder::Gpu(_)));
        assert!(
            report.self_test_cosine.is_some_and(|c| c >= 0.999),
            "{report}"
        );

        let (cpu, report) = load_embedder(&files, Device::Cpu, WeightFormat::F32).unwrap();
        assert_eq!(report.backend, "cpu");
        assert!(matches!(cpu.encoder(), AnyEncoder::Cpu(_)));

        // `auto` takes only hardware GPUs; on a machine with only a software
        // adapter it says so and uses the CPU.
        let (_, report) = load_embedder(&files, Device::Auto, WeightFormat::F32).unwrap();
        match report.backend {
            "gpu" => assert!(report.adapter.as_ref().is_some_and(|a| !a.software)),
            _ => assert!(!report.reason.is_empty()),
        }
        eprintln!("auto: {report}");

        let a = gpu.embed_one("hello world", Prefix::Query).unwrap();
        let b = cpu.embed_one("hello world", Prefix::Query).unwrap();
        let c: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!(c > 0.9999, "{c}");
    }

    #[test]
    fn a_self_test_from_another_model_fails() {
        let files = tiny_model_files(52);
        let encoder =
            pollster::block_on(GpuEncoder::open(AdapterChoice::Any, &files.gguf)).unwrap();
        let tokenizer = Tokenizer::from_json(&files.tokenizer_json, encoder.config()).unwrap();
        let own = SelfTest::read(&files.gguf).unwrap().unwrap();
        assert!(pollster::block_on(encoder.self_test(&tokenizer, &own)).unwrap() > 0.999);
        let other = SelfTest::read(&tiny_model_files(53).gguf).unwrap().unwrap();
        let err = pollster::block_on(encoder.self_test(&tokenizer, &other)).unwrap_err();
        assert!(matches!(err, GpuError::SelfTest(_)), "{err}");
    }
}
