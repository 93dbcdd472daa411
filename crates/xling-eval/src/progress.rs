//! How long runs report progress: the library says what happens, the caller
//! (the CLI's progress bars, or nothing in tests) decides how it shows.

/// A counted stage of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Texts being embedded (those missing from the cache).
    Embedding,
    /// Tatoeba languages being evaluated.
    Tatoeba,
    /// BEIR collections of a folder being evaluated.
    Collections,
}

/// Receives a run's progress. Stages may nest (embedding inside a Tatoeba
/// language), so each has its own handle.
pub trait Progress {
    /// A line of information for the user, e.g. the size of the collection.
    fn note(&self, message: &str);
    /// A stage of `total` steps begins; it ends when the handle's `finish` is called.
    fn stage(&self, stage: Stage, total: usize) -> Box<dyn StageProgress + '_>;
}

/// One stage under way.
pub trait StageProgress {
    /// What the stage works on now (e.g. the language).
    fn message(&self, message: &str);
    /// `steps` more steps are done.
    fn advance(&self, steps: usize);
    /// The stage is over.
    fn finish(&self);
}

/// Progress that goes nowhere (tests, quiet callers).
pub struct Silent;

impl Progress for Silent {
    fn note(&self, _message: &str) {}

    fn stage(&self, _stage: Stage, _total: usize) -> Box<dyn StageProgress + '_> {
        Box::new(Silent)
    }
}

impl StageProgress for Silent {
    fn message(&self, _message: &str) {}
    fn advance(&self, _steps: usize) {}
    fn finish(&self) {}
}
