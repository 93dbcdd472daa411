//! The browser runtime `xling site` writes next to the index, under fixed
//! names so pages can link them: `xling.js` (API), `xling-ui.js` and
//! `xling-ui.css` (the `<xling-search>` box), `xling-worker.js` (the model's
//! worker) and `xling.d.ts` (types). The engine itself is content-hashed.

/// (file name, contents) of the runtime.
pub const RUNTIME_FILES: [(&str, &str); 5] = [
    ("xling.js", include_str!("../runtime/xling.js")),
    ("xling-ui.js", include_str!("../runtime/xling-ui.js")),
    ("xling-ui.css", include_str!("../runtime/xling-ui.css")),
    (
        "xling-worker.js",
        include_str!("../runtime/xling-worker.js"),
    ),
    ("xling.d.ts", include_str!("../runtime/xling.d.ts")),
];
