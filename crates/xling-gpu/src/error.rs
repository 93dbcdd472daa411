//! What can go wrong on the GPU path. Every variant means "use the CPU
//! instead": callers fall back, they never get wrong vectors.

/// Errors of the GPU encoder.
#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    /// No GPU adapter (WebGPU unavailable, no driver, or only a software
    /// adapter where a hardware one was required).
    #[error("no usable GPU adapter: {0}")]
    NoAdapter(String),

    /// The adapter exists but a device could not be opened on it.
    #[error("could not open the GPU device: {0}")]
    Device(String),

    /// The adapter's limits are too small for this model.
    #[error("the GPU's limits are too small: {0}")]
    Limits(String),

    /// A GPU operation failed (validation, out of memory, device lost, or
    /// reading results back).
    #[error("GPU computation failed: {0}")]
    Compute(String),

    /// The start-up self-test gave vectors that differ from the CPU's.
    #[error("GPU self-test failed: {0}")]
    SelfTest(String),

    /// The model or the input is invalid (the same errors as on the CPU).
    #[error(transparent)]
    Core(#[from] xling_model::Error),
}

impl From<GpuError> for xling_model::Error {
    fn from(e: GpuError) -> Self {
        match e {
            GpuError::Core(e) => e,
            other => xling_model::Error::Backend(other.to_string()),
        }
    }
}

/// Result alias of the GPU crate; convert to `xling_model::Result` with `?`.
pub type Result<T, E = GpuError> = std::result::Result<T, E>;
