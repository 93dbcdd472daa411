//! `xling site` from the command line: bad input gets a clear error; on the
//! real model a small multilingual site (a legacy encoding, a symlink out of
//! the site) becomes content-hashed static files, and a
//! rebuild of the unchanged site embeds nothing and writes the same files.

mod support;

use support::{stderr, xling};

use std::path::{Path, PathBuf};

fn temp_dir(name: &str) -> PathBuf {
    support::temp_dir("site", name)
}

/// A stand-in engine package: `xling site` only copies its two files.
fn fake_engine(dir: &Path) -> String {
    let engine = dir.join("engine");
    std::fs::create_dir_all(&engine).expect("engine dir");
    std::fs::write(
        engine.join("xling-wasm.js"),
        "export default async function () {}",
    )
    .expect("js");
    std::fs::write(engine.join("xling-wasm_bg.wasm"), b"\0asm\x01\0\0\0").expect("wasm");
    engine.to_string_lossy().into_owned()
}

#[test]
fn an_empty_site_and_a_bad_output_folder_are_clear_errors() {
    let dir = temp_dir("empty");
    let engine = fake_engine(&dir);
    let site = dir.join("site");
    std::fs::create_dir_all(&site).expect("site");
    let s = site.to_string_lossy();
    let out = xling(&["site", "--site", &s, "--engine", &engine]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no pages matching"),
        "{}",
        stderr(&out)
    );
    let out = xling(&[
        "site",
        "--site",
        &s,
        "--engine",
        &engine,
        "--output-subdir",
        "../out",
    ]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("one folder name"), "{}", stderr(&out));
    let out = xling(&[
        "site",
        "--site",
        &s,
        "--engine",
        &dir.join("none").to_string_lossy(),
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("the engine is missing"),
        "{}",
        stderr(&out)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn page(lang: &str, other: &str, title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang={lang}><head><title>{title}</title>\
         <link rel=alternate hreflang={other} href=\"../{other}/a.html\"></head>\
         <body><nav>Menu Home About</nav><main><h1>{title}</h1>{body}</main>\
         <footer>Copyright</footer></body></html>"
    )
}

#[test]
fn a_small_site_builds_and_rebuilds_from_the_cache() {
    let Some(setup) = support::real_setup("site") else {
        return;
    };
    let dir = temp_dir("real");
    let engine = fake_engine(&dir);
    let site = dir.join("site");
    for lang in ["en", "de", "fr"] {
        std::fs::create_dir_all(site.join(lang)).expect("lang dir");
    }
    std::fs::write(
        site.join("en/a.html"),
        page(
            "en",
            "de",
            "Trains",
            "<h2 id=times>Times</h2><p>The train to Berlin leaves at eight every morning.</p>",
        ),
    )
    .expect("en");
    std::fs::write(
        site.join("de/a.html"),
        page(
            "de",
            "en",
            "Züge",
            "<h2 id=zeiten>Zeiten</h2><p>Der Zug nach Berlin fährt jeden Morgen um acht Uhr.</p>",
        ),
    )
    .expect("de");
    // Windows-1252, declared by <meta charset>: "é" is byte 0xE9.
    let mut legacy = b"<html lang=fr><head><meta charset=windows-1252><title>Gare</title></head><body><main><p>La gare est ferm\xe9e le dimanche.</p></main></body></html>".to_vec();
    legacy.extend_from_slice(b"\n");
    std::fs::write(site.join("fr/index.html"), legacy).expect("fr");
    // A language the pruner has no table for: indexed, reported, never fatal.
    std::fs::write(
        site.join("tlh.html"),
        "<html lang=tlh><head><title>nuqneH</title></head><body><main>\
         <p>tlhIngan Hol Dajatlh'a'? Heghlu'meH QaQ jajvam.</p></main></body></html>",
    )
    .expect("tlh");
    std::fs::write(
        dir.join("secret.html"),
        "<html><body><p>Outside the site.</p></body></html>",
    )
    .expect("secret");
    std::os::unix::fs::symlink(dir.join("secret.html"), site.join("secret.html")).expect("symlink");

    let s = site.to_string_lossy();
    let model = setup.model_dir.to_string_lossy();
    let cache = dir.join("cache");
    let c = cache.to_string_lossy();
    let args = [
        "site", "--site", &s, "--model", &model, "--engine", &engine, "--cache", &c,
    ];
    let first = xling(&args);
    let log = stderr(&first);
    assert!(first.status.success(), "{log}");
    assert!(log.contains("4 pages"), "{log}");
    assert!(log.contains("\"tlh\" (1 page)"), "{log}");
    assert!(
        log.contains("secret.html"),
        "the symlink out is reported: {log}"
    );
    let entry: serde_json::Value =
        serde_json::from_slice(&std::fs::read(site.join("xling/xling-entry.json")).expect("entry"))
            .expect("entry json");
    assert_eq!(entry["format"], "xling-site");
    assert_eq!(entry["pages"], 4);
    assert_eq!(entry["languages"]["tlh"], 1);
    for role in [
        "model",
        "tokenizer",
        "index",
        "pages",
        "engine_js",
        "engine_wasm",
    ] {
        let name = entry["files"][role].as_str().expect("file name");
        assert!(site.join("xling").join(name).is_file(), "{role}: {name}");
    }
    for runtime in ["xling.js", "xling-ui.js", "xling-ui.css", "xling-worker.js"] {
        assert!(site.join("xling").join(runtime).is_file());
    }
    // The legacy page was decoded: its text is in a fragment, "é" intact.
    let fragments: String = entry["fragments"]
        .as_array()
        .expect("fragments")
        .iter()
        .map(|f| {
            let bytes =
                std::fs::read(site.join("xling").join(f[1].as_str().expect("name"))).expect("read");
            let mut text = String::new();
            std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut text)
                .expect("gunzip");
            text
        })
        .collect();
    assert!(fragments.contains("fermée"), "{fragments}");
    assert!(fragments.contains("Heghlu'meH"), "{fragments}");
    assert!(!fragments.contains("Outside the site"));
    assert!(!fragments.contains("Copyright") && !fragments.contains("Menu Home"));

    let second = xling(&args);
    let log = stderr(&second);
    assert!(second.status.success(), "{log}");
    assert!(log.contains("embedded 0 passages"), "{log}");
    let again: serde_json::Value =
        serde_json::from_slice(&std::fs::read(site.join("xling/xling-entry.json")).expect("entry"))
            .expect("entry json");
    assert_eq!(
        again["files"], entry["files"],
        "an unchanged site gives the same files"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
