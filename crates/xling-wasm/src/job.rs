//! A staged add as JavaScript holds it: the pending passages and their
//! vectors, shared with the `embedNext` promise that is filling them, so that
//! the engine stays free (searches answer) while the GPU works.

use std::cell::{Cell, RefCell, RefMut};
use std::rc::Rc;

use js_sys::Float32Array;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use xling_index::PendingAdd;
use xling_model::{Embedder, Prefix};

use crate::error::{Result, WasmError};
use crate::{convert, VectorsArg};
use xling_gpu::DocumentEncoder;

/// A staged add (see `Engine.prepareAdd`).
#[wasm_bindgen]
pub struct AddJob {
    pub(crate) state: Rc<JobState>,
}

pub(crate) struct JobState {
    pending: RefCell<Option<PendingAdd>>,
    /// An `embedNext` is awaiting its vectors.
    embedding: Cell<bool>,
}

impl AddJob {
    pub(crate) fn new(pending: PendingAdd) -> Self {
        Self {
            state: Rc::new(JobState {
                pending: RefCell::new(Some(pending)),
                embedding: Cell::new(false),
            }),
        }
    }

    fn read<T>(&self, f: impl FnOnce(&PendingAdd) -> T) -> T
    where
        T: Default,
    {
        match self.state.pending.try_borrow() {
            Ok(pending) => pending.as_ref().map(f).unwrap_or_default(),
            Err(_) => T::default(),
        }
    }
}

#[wasm_bindgen]
impl AddJob {
    /// Passages in all.
    #[wasm_bindgen(getter)]
    pub fn total(&self) -> usize {
        self.read(PendingAdd::total)
    }

    /// Passages still to embed.
    #[wasm_bindgen(getter)]
    pub fn remaining(&self) -> usize {
        self.read(|p| p.total() - p.embedded())
    }

    /// Documents in this add.
    #[wasm_bindgen(getter)]
    pub fn documents(&self) -> usize {
        self.read(PendingAdd::documents)
    }

    /// Passages embedded so far (their vectors are in the job, in order).
    #[wasm_bindgen(getter)]
    pub fn embedded(&self) -> usize {
        self.read(PendingAdd::embedded)
    }

    /// The texts of passages `from .. from + count` (fewer at the end), to
    /// embed elsewhere, such as in another worker's engine with
    /// `embed(text, "passage")` (text by text, as `embedNext` does on the
    /// CPU, so the vectors are the same); hand the vectors back in order
    /// with [`AddJob::accept_vectors`].
    #[wasm_bindgen(js_name = passageTexts)]
    pub fn passage_texts(&self, from: usize, count: usize) -> Result<Vec<String>, JsValue> {
        Ok(self.state.with(|p| Ok(p.texts(from, count).to_vec()))?)
    }

    /// Takes the vectors of the next passages, in order (the first is
    /// passage `embedded`), embedded by an engine of the same model: one
    /// flat `Float32Array` of `dimension` values per passage. Returns how
    /// many passages it took. Anything else (a wrong length, values that
    /// are not finite unit vectors) is an `invalid_input` error and leaves
    /// the job as it was.
    #[wasm_bindgen(js_name = acceptVectors)]
    pub fn accept_vectors(&self, vectors: VectorsArg) -> Result<usize, JsValue> {
        Ok(self.state.accept_flat(&vectors.into())?)
    }
}

impl JobState {
    fn committed() -> WasmError {
        WasmError::Job("this add was already committed".into())
    }

    fn still_embedding() -> WasmError {
        WasmError::Job("an embedNext of this add is still running; await it first".into())
    }

    /// The job's slot; borrowed only between awaits, so a conflict would be
    /// a bug (an error, not a panic).
    fn slot(&self) -> Result<RefMut<'_, Option<PendingAdd>>> {
        self.pending
            .try_borrow_mut()
            .map_err(|_| WasmError::Internal("the add is in use".into()))
    }

    fn with<T>(&self, f: impl FnOnce(&mut PendingAdd) -> Result<T>) -> Result<T> {
        f(self.slot()?.as_mut().ok_or_else(Self::committed)?)
    }

    /// Embeds up to `n` more passages; returns how many.
    pub(crate) async fn embed_next(
        &self,
        embedder: &Embedder,
        backend: &DocumentEncoder,
        n: usize,
    ) -> Result<usize> {
        if self.embedding.get() {
            return Err(Self::still_embedding());
        }
        let texts = self.with(|p| Ok(p.next_texts(n).to_vec()))?;
        if texts.is_empty() {
            return Ok(0);
        }
        self.embedding.set(true);
        let vectors = backend.embed(embedder, &texts, Prefix::Passage).await;
        self.embedding.set(false);
        let vectors = vectors?;
        self.with(|p| Ok(p.accept(vectors)?))
    }

    fn accept_flat(&self, value: &JsValue) -> Result<usize> {
        if self.embedding.get() {
            return Err(Self::still_embedding());
        }
        let array = value.dyn_ref::<Float32Array>().ok_or_else(|| {
            WasmError::argument(format!(
                "vectors must be a Float32Array, not {}",
                convert::type_name(value)
            ))
        })?;
        let flat = array.to_vec();
        self.with(|p| {
            let dim = p.dim();
            if flat.is_empty() || !flat.len().is_multiple_of(dim) {
                return Err(WasmError::argument(format!(
                    "vectors hold {} values, not a whole number of {dim}-value vectors",
                    flat.len()
                )));
            }
            let vectors: Vec<Vec<f32>> = flat.chunks_exact(dim).map(<[f32]>::to_vec).collect();
            if let Some(i) = vectors.iter().position(|v| !is_unit(v)) {
                return Err(WasmError::argument(format!(
                    "vector {i} is not a unit vector of finite numbers (is it from this model's engine?)"
                )));
            }
            Ok(p.accept(vectors)?)
        })
    }

    /// Takes the fully embedded add out of the job (for the commit); a job
    /// still embedding or not done is left as it is.
    pub(crate) fn take_embedded(&self) -> Result<PendingAdd> {
        if self.embedding.get() {
            return Err(Self::still_embedding());
        }
        let mut slot = self.slot()?;
        let pending = slot.take().ok_or_else(Self::committed)?;
        if !pending.is_embedded() {
            let error = WasmError::Job(format!(
                "{} of {} passages are embedded; call embedNext until remaining is 0",
                pending.embedded(),
                pending.total()
            ));
            *slot = Some(pending);
            return Err(error);
        }
        Ok(pending)
    }
}

/// Whether `v` has length 1 and finite values, as the encoder's vectors
/// have (to well within the rounding of a sum of a few hundred squares).
fn is_unit(v: &[f32]) -> bool {
    let norm2: f32 = v.iter().map(|x| x * x).sum();
    norm2.is_finite() && (norm2 - 1.0).abs() < 1e-3
}
