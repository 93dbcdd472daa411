//! Whether the GPU may encode: the caller's wish (`auto`, `cpu`, `gpu`),
//! opening an adapter, the start-up self-test against the CPU's vectors, and
//! a report of the outcome ("which backend, and why"). Shared by the CLI and
//! the browser engine, so both decide by the same rules.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use xling_model::model::{ModelConfig, SelfTest};
use xling_model::{Embedder, Prefix, Tokenizer};

use crate::context::{AdapterChoice, AdapterSummary};
use crate::encoder::GpuEncoder;
use crate::error::{GpuError, Result};

/// Where to run the encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Device {
    /// A hardware GPU that passes the self-test, else the CPU.
    #[default]
    Auto,
    /// The CPU encoder, whatever GPU there is: the reference, and the choice
    /// where results must not depend on a driver.
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

impl Device {
    /// Whether a GPU failure means "use the CPU" rather than an error: only
    /// for `auto`, and never for a broken model (the CPU would fail too).
    pub fn falls_back_on(self, error: &GpuError) -> bool {
        self == Device::Auto && !matches!(error, GpuError::Core(_))
    }
}

/// Which encoder was chosen, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct BackendReport {
    /// "gpu" or "cpu".
    pub backend: &'static str,
    /// The GPU adapter tried or used, if any was found (also shown when the
    /// CPU was chosen because it failed).
    pub adapter: Option<AdapterSummary>,
    /// The self-test's lowest cosine, when the GPU ran it.
    pub self_test_cosine: Option<f32>,
    /// Why this backend (for the CPU: why not the GPU).
    pub reason: String,
}

impl BackendReport {
    /// The CPU, for `reason`.
    pub fn cpu(reason: impl Into<String>) -> Self {
        Self {
            backend: "cpu",
            adapter: None,
            self_test_cosine: None,
            reason: reason.into(),
        }
    }
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

/// A GPU encoder with the model uploaded, not yet trusted. Opening and
/// verifying are two steps because the self-test needs the tokenizer, which
/// the browser builds only after the upload (it never holds the model twice).
pub struct GpuCandidate {
    encoder: GpuEncoder,
    expected: Option<SelfTest>,
    device: Device,
}

impl GpuCandidate {
    /// Opens an adapter `device` allows (`auto`: hardware only, since a
    /// software rasteriser is slower than the CPU path; `gpu`: any) and
    /// uploads the model. Not for [`Device::Cpu`].
    pub async fn open(device: Device, gguf: &Arc<Vec<u8>>) -> Result<Self> {
        let choice = match device {
            Device::Auto => AdapterChoice::Hardware,
            Device::Gpu => AdapterChoice::Any,
            Device::Cpu => return Err(GpuError::NoAdapter("the CPU was asked for".into())),
        };
        let encoder = GpuEncoder::open_shared(choice, gguf).await?;
        let expected = SelfTest::read(gguf)?;
        Ok(Self {
            encoder,
            expected,
            device,
        })
    }

    /// The model's sizes, known before the self-test has run.
    pub fn config(&self) -> &ModelConfig {
        self.encoder.config()
    }

    /// Runs the self-test stored in the model (`expected_from_cpu` computes
    /// one for files converted before `xling convert` stored it) and hands
    /// out the encoder only if every vector matches the CPU's.
    pub async fn verify(
        self,
        tokenizer: &Tokenizer,
        expected_from_cpu: impl FnOnce() -> xling_model::Result<SelfTest>,
    ) -> Result<(GpuEncoder, BackendReport)> {
        let expected = match self.expected {
            Some(stored) => stored,
            None => expected_from_cpu()?,
        };
        let cosine = self.encoder.self_test(tokenizer, &expected).await?;
        let report = BackendReport {
            backend: "gpu",
            adapter: Some(self.encoder.gpu().summary().clone()),
            self_test_cosine: Some(cosine),
            reason: match self.device {
                Device::Gpu => "asked for".into(),
                _ => "a GPU passed the self-test".into(),
            },
        };
        Ok((self.encoder, report))
    }
}

/// The encoder for a collection's documents: the GPU while it works, else
/// the CPU. Shared by the pending operations of one engine in a browser
/// (single-threaded, hence `Rc` and `RefCell`; never borrowed across an
/// await).
pub struct DocumentEncoder {
    gpu: RefCell<Option<Rc<GpuEncoder>>>,
    report: RefCell<BackendReport>,
}

impl DocumentEncoder {
    /// Documents go to the CPU for good; `report` says why (shown to users).
    pub fn cpu(report: BackendReport) -> Self {
        Self {
            gpu: RefCell::new(None),
            report: RefCell::new(report),
        }
    }

    /// A verified GPU encoder (see [`GpuCandidate::verify`]).
    pub fn gpu(encoder: GpuEncoder, report: BackendReport) -> Self {
        Self {
            gpu: RefCell::new(Some(Rc::new(encoder))),
            report: RefCell::new(report),
        }
    }

    /// Which backend embeds documents now, and why.
    pub fn report(&self) -> BackendReport {
        self.report.borrow().clone()
    }

    /// Unit vectors for `texts` (embedded with `prefix`). A GPU that fails
    /// (device lost, out of memory) is dropped for good and `cpu` redoes the
    /// batch: the caller gets vectors either way, never wrong ones, and the
    /// report says what happened.
    pub async fn embed(
        &self,
        cpu: &Embedder,
        texts: &[String],
        prefix: Prefix,
    ) -> xling_model::Result<Vec<Vec<f32>>> {
        let gpu = self.gpu.borrow().clone();
        if let Some(gpu) = gpu {
            match gpu.embed_async(cpu.tokenizer(), texts, prefix).await {
                Ok(embedded) => return Ok(embedded.into_iter().map(|e| e.vector).collect()),
                Err(GpuError::Core(e)) => return Err(e),
                Err(e) => self.fall_back(&e),
            }
        }
        cpu.embed(texts, prefix)
    }

    fn fall_back(&self, error: &GpuError) {
        self.gpu.replace(None);
        let adapter = match &self.report.borrow().adapter {
            Some(adapter) => format!(" ({adapter})"),
            None => String::new(),
        };
        let reason = format!("the GPU{adapter} failed while embedding: {error}");
        self.report.replace(BackendReport::cpu(reason));
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use xling_model::testing::tiny_model_files;
    use xling_model::WeightFormat;

    use super::*;

    #[test]
    fn a_gpu_that_fails_hands_its_batch_to_the_cpu_and_says_so() {
        let files = tiny_model_files(61);
        let cpu = Embedder::load_with(&files, WeightFormat::F32).unwrap();
        let candidate = pollster::block_on(GpuCandidate::open(
            Device::Gpu,
            &Arc::new(files.gguf.clone()),
        ))
        .unwrap();
        let (encoder, report) = pollster::block_on(candidate.verify(cpu.tokenizer(), || {
            unreachable!("the tiny model stores its self-test")
        }))
        .unwrap();
        let documents = DocumentEncoder::gpu(encoder, report);
        let texts = vec!["hello world".to_string(), "a second text".into()];
        let expected = cpu.embed(&texts, Prefix::Passage).unwrap();
        let cosines = |got: &[Vec<f32>]| -> Vec<f32> {
            got.iter()
                .zip(&expected)
                .map(|(a, b)| a.iter().zip(b).map(|(x, y)| x * y).sum())
                .collect()
        };

        let on_gpu = pollster::block_on(documents.embed(&cpu, &texts, Prefix::Passage)).unwrap();
        assert_eq!(documents.report().backend, "gpu");
        assert!(cosines(&on_gpu).iter().all(|&c| c > 0.9999));

        // As if the device were lost: the next read-back fails.
        if let Some(gpu) = documents.gpu.borrow().as_ref() {
            gpu.gpu().record_failure("simulated device loss".into());
        }
        let after = pollster::block_on(documents.embed(&cpu, &texts, Prefix::Passage)).unwrap();
        assert_eq!(after, expected, "the CPU redid the batch");
        let report = documents.report();
        assert_eq!(report.backend, "cpu");
        assert!(report.reason.contains("simulated device loss"), "{report}");
        assert!(
            documents.gpu.borrow().is_none(),
            "the failed GPU is dropped"
        );
    }
}
