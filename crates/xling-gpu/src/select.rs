//! Choosing the encoder natively: `--device cpu|gpu|auto`. The GPU is used
//! only after it passes the model's self-test; `auto` falls back to the CPU
//! (and says why), an explicit `gpu` fails instead.

use std::sync::Arc;

use xling_model::model::SelfTest;
use xling_model::{CpuEncoder, Embedder, ModelFiles, Tokenizer, WeightFormat, WindowEncoder};

use crate::backend::{BackendReport, Device, GpuCandidate};
use crate::encoder::GpuEncoder;
use crate::error::Result;

/// The CPU or the GPU encoder, chosen at run time.
pub enum AnyEncoder {
    /// The CPU encoder: chosen, or the fallback.
    Cpu(CpuEncoder),
    /// A GPU encoder that passed the self-test.
    Gpu(GpuEncoder),
}

impl WindowEncoder for AnyEncoder {
    fn dim(&self) -> usize {
        match self {
            AnyEncoder::Cpu(e) => e.dim(),
            AnyEncoder::Gpu(e) => e.dim(),
        }
    }

    fn encode_windows(&self, windows: &[&[u32]]) -> xling_model::Result<Vec<Vec<f32>>> {
        match self {
            AnyEncoder::Cpu(e) => e.encode_windows(windows),
            AnyEncoder::Gpu(e) => e.encode_windows(windows),
        }
    }
}

/// Loads the model on `device` (`format` applies to the CPU encoder). Takes
/// the files so that the encoders read the weights in place, uncopied.
pub fn load_embedder(
    files: ModelFiles,
    device: Device,
    format: WeightFormat,
) -> Result<(Embedder<AnyEncoder>, BackendReport)> {
    let ModelFiles {
        gguf,
        tokenizer_json,
    } = files;
    let gguf = Arc::new(gguf);
    let reason = match device {
        Device::Cpu => "asked for".to_string(),
        Device::Auto if !gpu_device_node_present() => NO_DEVICE_NODE.to_string(),
        _ => match pollster::block_on(load_gpu(&gguf, &tokenizer_json, device)) {
            Ok((tokenizer, encoder, report)) => {
                return Ok((Embedder::new(tokenizer, AnyEncoder::Gpu(encoder)), report));
            }
            Err(e) if device.falls_back_on(&e) => e.to_string(),
            Err(e) => return Err(e),
        },
    };
    let (tokenizer, encoder) = Embedder::load_shared(gguf, tokenizer_json, format)?.into_parts();
    let report = BackendReport::cpu(reason);
    Ok((Embedder::new(tokenizer, AnyEncoder::Cpu(encoder)), report))
}

/// Why `auto` chose the CPU without probing.
const NO_DEVICE_NODE: &str =
    "no GPU device on this machine (no /dev/dri/renderD*, /dev/nvidia*, /dev/dxg)";

/// Whether a hardware GPU can be here at all. On Linux every GPU driver
/// (Mesa's, NVIDIA's, WSL's) is reached through one of these device nodes;
/// without them `auto` could only find software renderers, which it refuses
/// anyway, and probing loads them first: ~50 MB of Vulkan and LLVM libraries
/// (peak RSS of `xling embed` 157 → 105 MB) and a few hundred milliseconds.
/// Elsewhere the probe decides.
fn gpu_device_node_present() -> bool {
    if !cfg!(target_os = "linux") {
        return true;
    }
    let render_node = std::fs::read_dir("/dev/dri").is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("renderD"))
    });
    render_node
        || std::path::Path::new("/dev/nvidia0").exists()
        || std::path::Path::new("/dev/dxg").exists()
}

/// Opens the GPU, uploads the model and runs the self-test.
async fn load_gpu(
    gguf: &Arc<Vec<u8>>,
    tokenizer_json: &[u8],
    device: Device,
) -> Result<(Tokenizer, GpuEncoder, BackendReport)> {
    let candidate = GpuCandidate::open(device, gguf).await?;
    let tokenizer = Tokenizer::from_bytes(tokenizer_json.to_vec(), candidate.config())?;
    let (encoder, report) = candidate
        .verify(&tokenizer, || {
            let cpu = Embedder::load_shared(
                Arc::clone(gguf),
                tokenizer_json.to_vec(),
                WeightFormat::Q4_0,
            )?;
            SelfTest::compute(&cpu)
        })
        .await?;
    Ok((tokenizer, encoder, report))
}

#[cfg(test)]
mod tests {
    use xling_model::testing::tiny_model_files;
    use xling_model::Prefix;

    use super::*;
    use crate::context::AdapterChoice;
    use crate::error::GpuError;

    #[test]
    fn each_device_choice_gives_the_encoder_it_promises() {
        let files = tiny_model_files(51);
        let (gpu, report) = load_embedder(files.clone(), Device::Gpu, WeightFormat::F32)
            .expect("a GPU adapter that passes the self-test");
        assert_eq!(report.backend, "gpu");
        assert!(matches!(gpu.encoder(), AnyEncoder::Gpu(_)));
        assert!(
            report.self_test_cosine.is_some_and(|c| c >= 0.999),
            "{report}"
        );

        let (cpu, report) = load_embedder(files.clone(), Device::Cpu, WeightFormat::F32).unwrap();
        assert_eq!(report.backend, "cpu");
        assert!(matches!(cpu.encoder(), AnyEncoder::Cpu(_)));

        // `auto` takes only hardware GPUs; on a machine with only a software
        // adapter it says so and uses the CPU.
        let (_, report) = load_embedder(files.clone(), Device::Auto, WeightFormat::F32).unwrap();
        match report.backend {
            "gpu" => assert!(report.adapter.as_ref().is_some_and(|a| !a.software)),
            _ => assert!(!report.reason.is_empty()),
        }
        // Without a GPU device node nothing is probed (no software driver loaded).
        if !gpu_device_node_present() {
            assert_eq!(report.reason, NO_DEVICE_NODE);
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
        let tokenizer =
            Tokenizer::from_bytes(files.tokenizer_json.clone(), encoder.config()).unwrap();
        let own = SelfTest::read(&files.gguf).unwrap().unwrap();
        assert!(pollster::block_on(encoder.self_test(&tokenizer, &own)).unwrap() > 0.999);
        let other = SelfTest::read(&tiny_model_files(53).gguf).unwrap().unwrap();
        let err = pollster::block_on(encoder.self_test(&tokenizer, &other)).unwrap_err();
        assert!(matches!(err, GpuError::SelfTest(_)), "{err}");
    }
}
