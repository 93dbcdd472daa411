//! Library side of the `xling` command, shared with its integration tests.

pub mod reference;
