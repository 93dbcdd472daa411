//! Errors as JavaScript sees them: an `Error` named `XlingError` with a stable
//! `code` a program can switch on and a message a person can act on.

use wasm_bindgen::JsValue;

/// Everything the JavaScript API can fail with.
#[derive(Debug, thiserror::Error)]
pub enum WasmError {
    /// The engine refused the input or could not do the work.
    #[error(transparent)]
    Core(#[from] xling_model::Error),

    /// An argument from JavaScript has the wrong type or shape.
    #[error("{0}")]
    InvalidArgument(String),

    /// A model file could not be downloaded.
    #[error("{0}")]
    Network(String),

    /// A staged add was already committed, or is not fully embedded.
    #[error("{0}")]
    Job(String),

    /// `device: "gpu"` was asked for and no GPU passed the self-test.
    #[error("{0}")]
    Gpu(String),

    /// A bug: a result could not be handed to JavaScript.
    #[error("internal error: {0}")]
    Internal(String),
}

impl WasmError {
    /// The stable code a caller switches on.
    pub fn code(&self) -> &'static str {
        use xling_model::Error as E;
        match self {
            WasmError::Core(e) => match e {
                E::InvalidSource(_)
                | E::Charsmap(_)
                | E::InvalidModel(_)
                | E::InvalidTokenizer(_) => "invalid_model",
                E::InvalidInput(_) => "invalid_input",
                E::InvalidIndex(_) => "invalid_index",
                E::ModelMismatch { .. } => "model_mismatch",
                E::Document(_) => "invalid_document",
                E::Io { .. } | E::Compute(_) | E::Backend(_) => "internal",
            },
            WasmError::InvalidArgument(_) => "invalid_input",
            WasmError::Network(_) => "network",
            WasmError::Job(_) => "invalid_job",
            WasmError::Gpu(_) => "gpu_unavailable",
            WasmError::Internal(_) => "internal",
        }
    }

    /// A message without the CLI's hints (`cargo xtask up`, `xling convert`),
    /// which mean nothing to someone in a browser.
    fn message(&self) -> String {
        use xling_model::Error as E;
        match self {
            WasmError::Core(E::InvalidModel(m)) => format!("model file (model.gguf): {m}"),
            WasmError::Core(E::InvalidTokenizer(m)) => {
                format!("tokenizer file (tokenizer.json): {m}")
            }
            WasmError::Core(E::InvalidIndex(m)) => format!("index file: {m}"),
            other => other.to_string(),
        }
    }

    /// A JS argument of the wrong type or shape (`invalid_input`).
    pub fn argument(message: impl Into<String>) -> Self {
        WasmError::InvalidArgument(message.into())
    }
}

impl From<xling_gpu::GpuError> for WasmError {
    fn from(error: xling_gpu::GpuError) -> Self {
        match error {
            xling_gpu::GpuError::Core(e) => WasmError::Core(e),
            other => WasmError::Gpu(other.to_string()),
        }
    }
}

impl From<WasmError> for JsValue {
    fn from(error: WasmError) -> JsValue {
        let js = js_sys::Error::new(&error.message());
        js.set_name("XlingError");
        // Setting a property on a fresh Error object cannot fail.
        let _ = js_sys::Reflect::set(&js, &"code".into(), &error.code().into());
        js.into()
    }
}

pub type Result<T, E = WasmError> = std::result::Result<T, E>;
