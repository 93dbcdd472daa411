//! Languages and writing systems of texts.
//!
//! The script decides whether lexical matching can help (pieces of
//! different scripts never match); the language groups passages for the
//! per-language statistics that remove the model's preference for the
//! query's own language (`docs/languages.md`).

mod detect;
mod script;

pub use detect::{
    detect_language, detectable_by_text, language_of_script, normalize_language, Detected,
    UNDETERMINED,
};
pub use script::{detect_script, Script, ALL as ALL_SCRIPTS};
