//! Crash-safe file replacement.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

/// Fault injection for the crash test: abort the process after writing this
/// many bytes of the temporary file (never set outside tests).
const CRASH_ENV: &str = "XLING_TEST_CRASH_AFTER_BYTES";

/// Writes through a temporary file in the same directory, flushed to disk,
/// then renames it over `path`: a crash at any point leaves either the old
/// file or the new one, never a mix.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let name = path
        .file_name()
        .with_context(|| format!("{} is not a file path", path.display()))?;
    let mut tmp_name = name.to_os_string();
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let result = (|| -> anyhow::Result<()> {
        let mut file = std::fs::File::create(&tmp)
            .with_context(|| format!("cannot create {}", tmp.display()))?;
        let crash_at = std::env::var(CRASH_ENV)
            .ok()
            .and_then(|v| v.parse::<usize>().ok());
        match crash_at {
            Some(n) if n < bytes.len() => {
                file.write_all(&bytes[..n])?;
                file.sync_all()?;
                std::process::abort();
            }
            _ => file.write_all(bytes),
        }
        .with_context(|| format!("cannot write {} (disk full?)", tmp.display()))?;
        file.sync_all()
            .with_context(|| format!("cannot flush {}", tmp.display()))?;
        std::fs::rename(&tmp, path)
            .with_context(|| format!("cannot rename {} to {}", tmp.display(), path.display()))?;
        // Make the rename itself durable.
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
