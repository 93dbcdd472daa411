use super::*;

fn extract(html: &str) -> Page {
    Extractor::new(&ExtractConfig::default())
        .expect("default selectors parse")
        .extract(html)
}

const ARTICLE: &str = r#"<!doctype html><html lang="de"><head><title>Masern – Wiki</title>
<link rel="alternate" hreflang="en" href="../en/measles.html">
<link rel="alternate" hreflang="x-default" href="/en/measles.html">
<link rel="stylesheet" href="s.css"></head>
<body><header><a href="/">Home</a> Menü</header><nav><ul><li>Start</li></ul></nav>
<main><h1>Masern</h1><p>Masern sind eine <b>Virusinfektion</b>.</p>
<h2 id="impfung">Impfung</h2><p>Die Impfung schützt.</p><aside>Werbung</aside>
<h2>Ohne Anker</h2><p>Gehört zur Impfung.</p>
<h2 id="geschichte">Geschichte</h2><p>Seit 1963.</p><div data-xling-ignore>versteckt</div>
<script>alert("x")</script></main><footer>© 2026 Impressum</footer></body></html>"#;

#[test]
fn a_page_is_its_main_content_split_at_headings_with_an_id() {
    let page = extract(ARTICLE);
    assert_eq!(page.lang.as_deref(), Some("de"));
    assert_eq!(page.title.as_deref(), Some("Masern – Wiki"));
    assert!(!page.marked);
    let anchors: Vec<Option<&str>> = page.sections.iter().map(|s| s.anchor.as_deref()).collect();
    assert_eq!(anchors, [None, Some("impfung"), Some("geschichte")]);
    assert_eq!(
        page.sections[0].text,
        "Masern\n\nMasern sind eine Virusinfektion."
    );
    assert_eq!(page.sections[1].heading.as_deref(), Some("Impfung"));
    assert_eq!(
        page.sections[1].text,
        "Impfung\n\nDie Impfung schützt.\n\nOhne Anker\n\nGehört zur Impfung."
    );
    assert_eq!(page.sections[2].text, "Geschichte\n\nSeit 1963.");
    let all = page.text();
    for gone in [
        "Menü",
        "Start",
        "Werbung",
        "versteckt",
        "alert",
        "Impressum",
        "Home",
    ] {
        assert!(!all.contains(gone), "{gone} leaked into {all:?}");
    }
    assert_eq!(
        page.alternates,
        [
            ("en".to_string(), "../en/measles.html".to_string()),
            ("x-default".to_string(), "/en/measles.html".to_string())
        ]
    );
}

#[test]
fn marked_roots_win_and_pagefind_attributes_work() {
    let html = r#"<html><head><title>T</title></head><body><main>not this
<div data-pagefind-body><p>Body one</p><span data-pagefind-ignore>skip</span>
<h3 id="a" data-pagefind-meta="title">Real title</h3><img data-pagefind-meta="image[src]" src="/i.png">
<span data-xling-meta="date:2026-01-02, author:Ana"></span></div></main>
<section data-xling-body><p>Body two</p></section></body></html>"#;
    let page = extract(html);
    assert!(page.marked);
    let text = page.text();
    assert!(
        text.contains("Body one") && text.contains("Body two"),
        "{text}"
    );
    assert!(
        !text.contains("not this") && !text.contains("skip"),
        "{text}"
    );
    assert_eq!(page.title.as_deref(), Some("Real title"));
    assert_eq!(page.meta.get("image").map(String::as_str), Some("/i.png"));
    assert_eq!(
        page.meta.get("date").map(String::as_str),
        Some("2026-01-02")
    );
    assert_eq!(page.meta.get("author").map(String::as_str), Some("Ana"));
}

#[test]
fn selectors_of_the_site_owner_choose_and_drop_content() {
    let config = ExtractConfig {
        root_selector: Some("#content".into()),
        exclude_selectors: vec![".toc".into()],
    };
    let x = Extractor::new(&config).expect("selectors parse");
    let page = x.extract(
        "<body><p>outside</p><div id=content><p class=toc>1. 2. 3.</p><p>inside</p></div></body>",
    );
    assert_eq!(page.text(), "inside");
    let bad = ExtractConfig {
        root_selector: Some("div[".into()),
        ..Default::default()
    };
    assert!(matches!(
        Extractor::new(&bad),
        Err(SiteError::Selector { .. })
    ));
}

#[test]
fn without_main_the_body_is_used_and_the_title_falls_back_to_h1() {
    let page = extract("<body><h1>Heading</h1><p>a &amp; b &lt;i&gt;</p></body>");
    assert_eq!(page.title.as_deref(), Some("Heading"));
    assert_eq!(page.text(), "Heading\n\na & b <i>");
    // Markup in text stays text.
    let page = extract("<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>");
    assert_eq!(page.text(), "<script>alert(1)</script>");
}

#[test]
fn malformed_empty_and_deep_pages_do_not_fail() {
    assert_eq!(extract("").sections, vec![]);
    assert_eq!(extract("<html><body></body></html>").title, None);
    let page = extract("<p>unclosed <b>bold <i>both</p><p>next</table></div>");
    assert_eq!(page.text(), "unclosed bold both\n\nnext");
    // 20,000 nested elements: an iterative walk, no stack overflow.
    let deep = format!("{}deep{}", "<div>".repeat(20_000), "</div>".repeat(20_000));
    assert!(extract(&deep).text().contains("deep"));
}

#[test]
fn urls_are_what_a_static_host_serves() {
    use std::path::Path;
    assert_eq!(files::url_of(Path::new("index.html")), "./");
    assert_eq!(
        pages::resolve("de/x.html", "../index.html").as_deref(),
        Some("./")
    );
    assert_eq!(files::url_of(Path::new("docs/index.html")), "docs/");
    assert_eq!(files::url_of(Path::new("docs/a b.html")), "docs/a%20b.html");
    assert_eq!(
        files::url_of(Path::new("ne/नेपाल.html")),
        "ne/%E0%A4%A8%E0%A5%87%E0%A4%AA%E0%A4%BE%E0%A4%B2.html"
    );
    assert_eq!(
        pages::resolve("de/masern.html", "../en/measles.html").as_deref(),
        Some("en/measles.html")
    );
    assert_eq!(
        pages::resolve("de/", "/en/index.html").as_deref(),
        Some("en/")
    );
    assert_eq!(
        pages::resolve("de/x.html", "https://example.org/site/en/x.html#top").as_deref(),
        Some("site/en/x.html")
    );
    assert_eq!(pages::resolve("de/x.html", "mailto:a@b"), None);
}

#[test]
fn hreflang_links_group_translations_in_either_direction() {
    let page = |url: &str, alternates: &[&str]| SitePage {
        url: url.into(),
        page: Page {
            alternates: alternates
                .iter()
                .map(|h| ("x".to_string(), h.to_string()))
                .collect(),
            ..Default::default()
        },
    };
    let pages = [
        page("de/a.html", &["../en/a.html"]),
        page("en/a.html", &[]),
        page("fr/a.html", &["https://example.org/base/en/a.html"]),
        page("fr/b.html", &["/missing.html", "https://other.org/"]),
    ];
    let groups = TranslationGroups::of(&pages);
    let g = |u: &str| groups.group_of[u].as_str();
    assert_eq!(g("de/a.html"), "de/a.html");
    assert_eq!(g("en/a.html"), "de/a.html");
    assert_eq!(g("fr/a.html"), "de/a.html");
    assert_eq!(g("fr/b.html"), "fr/b.html");
    assert_eq!(groups.translated(), 1);
}

#[test]
fn every_section_becomes_a_document_linking_to_its_anchor() {
    let pages = [SitePage {
        url: "de/masern.html".into(),
        page: extract(ARTICLE),
    }];
    let docs = documents(&pages);
    let ids: Vec<&str> = docs.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["s0", "s1", "s2"]);
    let urls: Vec<_> = docs.iter().map(|d| d.url.as_deref()).collect();
    assert_eq!(
        urls,
        [
            Some("de/masern.html"),
            Some("de/masern.html#impfung"),
            Some("de/masern.html#geschichte")
        ]
    );
    assert_eq!(docs[1].title.as_deref(), Some("Masern – Wiki — Impfung"));
    assert!(docs.iter().all(|d| d.lang.as_deref() == Some("de")));
    for d in &docs {
        d.validate().expect("valid document");
    }
}

#[test]
fn huge_sections_are_split_below_the_text_limit() {
    let para = "word ".repeat(200);
    let text = vec![para.trim(); 50].join("\n\n");
    let parts = pages::split_text(&text, 3000);
    assert!(parts.len() > 1);
    assert!(parts.iter().all(|p| p.len() <= 3000 && !p.is_empty()));
    let words: usize = parts.iter().map(|p| p.split_whitespace().count()).sum();
    assert_eq!(words, 200 * 50);
    // No break at all: cut at a character boundary.
    let parts = pages::split_text(&"ñ".repeat(5000), 3001);
    assert!(parts.iter().all(|p| p.len() <= 3001));
    assert_eq!(parts.concat(), "ñ".repeat(5000));
}

/// A fresh directory under the system's temp dir, removed on drop.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("xling-site-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        Self(dir)
    }
    fn write(&self, rel: &str, text: &str) {
        let path = self.0.join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dirs");
        std::fs::write(path, text).expect("write");
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(unix)]
#[test]
fn site_files_stay_inside_the_site_and_skip_the_output() {
    let outside = TempDir::new("outside");
    outside.write("secret.html", "<p>secret</p>");
    let site = TempDir::new("site");
    site.write("index.html", "<p>home</p>");
    site.write("docs/index.html", "<p>docs</p>");
    site.write("docs/index.htm", "<p>same url</p>");
    site.write("docs/a.html", "<p>a</p>");
    site.write("docs/style.css", "p{}");
    site.write("xling/old.html", "<p>previous output</p>");
    std::os::unix::fs::symlink(outside.0.join("secret.html"), site.0.join("leak.html"))
        .expect("symlink");
    std::os::unix::fs::symlink(&outside.0, site.0.join("outdir")).expect("symlink");
    std::os::unix::fs::symlink(site.0.join("docs/a.html"), site.0.join("alias.html"))
        .expect("symlink");
    let (files, skipped) =
        site_files(&site.0, DEFAULT_GLOB, Some(&site.0.join("xling"))).expect("site read");
    let urls: Vec<&str> = files.iter().map(|f| f.url.as_str()).collect();
    assert_eq!(urls, ["./", "alias.html", "docs/", "docs/a.html"]);
    let reasons: Vec<String> = skipped
        .iter()
        .map(|s| format!("{}: {}", s.path.display(), s.reason))
        .collect();
    assert_eq!(
        reasons,
        [
            "leak.html: a symlink to outside the site",
            "outdir: a symlink to outside the site",
            "docs/index.htm: another file is served at /docs/",
        ]
    );
    assert!(matches!(
        site_files(&site.0.join("missing"), DEFAULT_GLOB, None),
        Err(SiteError::Io { .. })
    ));
    assert!(matches!(
        site_files(&site.0, "[", None),
        Err(SiteError::Invalid(_))
    ));
}

#[test]
fn a_main_inside_an_ignored_body_is_ignored() {
    let page = extract(
        "<html lang=en><body data-pagefind-ignore=\"all\"><main><h1>Search</h1>\
         <p>Type a query.</p></main></body></html>",
    );
    assert!(
        page.sections.iter().all(|s| s.text.trim().is_empty()),
        "{page:?}"
    );
}

fn site_page(url: &str, lang: &str, body: &str) -> SitePage {
    SitePage {
        url: url.into(),
        page: extract(&format!(
            "<html lang={lang}><head><title>T</title></head><body><main>{body}</main></body></html>"
        )),
    }
}

/// Decodes a shard written by `keyword::build` (the runtime's reader, in Rust).
fn decode_shard(bytes: &[u8]) -> Vec<(String, Vec<(u32, u8)>)> {
    fn varint(b: &[u8], i: &mut usize) -> u64 {
        let (mut v, mut shift) = (0u64, 0);
        loop {
            let byte = b[*i];
            *i += 1;
            v |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return v;
            }
            shift += 7;
        }
    }
    assert_eq!(&bytes[..4], keyword::SHARD_MAGIC);
    let mut i = 4;
    let n = varint(bytes, &mut i);
    (0..n)
        .map(|_| {
            let len = varint(bytes, &mut i) as usize;
            let term = String::from_utf8(bytes[i..i + len].to_vec()).expect("utf-8");
            i += len;
            let count = varint(bytes, &mut i);
            let mut s = 0u32;
            let postings = (0..count)
                .map(|_| {
                    s += varint(bytes, &mut i) as u32;
                    let impact = bytes[i];
                    i += 1;
                    (s, impact)
                })
                .collect();
            (term, postings)
        })
        .collect()
}

#[test]
fn keyword_shards_hold_every_term_with_section_numbers_and_impacts() {
    let pages = [
        site_page(
            "en/a.html",
            "en",
            "<p>Measles vaccine measles.</p><h2 id=h>History</h2><p>Old vaccine.</p>",
        ),
        site_page("de/a.html", "de", "<p>Masern Impfung.</p>"),
    ];
    let index = keyword::build(&pages);
    let all: Vec<(String, Vec<(u32, u8)>)> = index
        .shards
        .iter()
        .flat_map(|s| decode_shard(&s.bytes))
        .collect();
    let get = |t: &str| all.iter().find(|(w, _)| w == t).map(|(_, p)| p.clone());
    // Sections: en/a.html has 2 (before and at the anchored heading), de/a.html 1.
    let measles = get("measles").expect("measles");
    assert_eq!(measles.len(), 1);
    assert_eq!(measles[0].0, 0);
    let vaccine = get("vaccine").expect("vaccine");
    assert_eq!(vaccine.iter().map(|p| p.0).collect::<Vec<_>>(), [0, 1]);
    assert_eq!(get("masern").expect("masern")[0].0, 2);
    // Twice in a short section outweighs once.
    assert!(measles[0].1 > vaccine[0].1);
    // Terms are in JavaScript string order, shard by shard.
    for pair in all.windows(2) {
        assert_eq!(
            terms::js_order(&pair[0].0, &pair[1].0),
            std::cmp::Ordering::Less
        );
    }
    assert_eq!(index.shards[0].first, all[0].0);
}

#[test]
fn static_files_are_gzip_and_list_translations() {
    let pages = [
        site_page("en/a.html", "en", "<p>Measles.</p>"),
        site_page("de/a.html", "de", "<p>Masern.</p>"),
    ];
    let mut groups = TranslationGroups::default();
    for p in &pages {
        groups.group_of.insert(p.url.clone(), "de/a.html".into());
    }
    let out = static_files(&pages, &groups).expect("static files");
    assert!(out.files.iter().all(|f| f.bytes.starts_with(&[0x1f, 0x8b])));
    assert_eq!(out.fragments.len(), 1);
    let bundle = out
        .files
        .iter()
        .find(|f| f.name == out.fragments[0].1)
        .expect("bundle");
    let mut json = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(&bundle.bytes[..]),
        &mut json,
    )
    .expect("gunzip");
    let value: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(value["pages"][0]["url"], "en/a.html");
    assert_eq!(value["pages"][0]["translations"][0][0], "de");
    assert_eq!(value["pages"][0]["translations"][0][1], "de/a.html");
}

#[test]
fn a_section_of_only_a_heading_is_no_result_of_its_own() {
    let page = extract(
        "<html lang=en><body><main><h1>Normans</h1><h2 id=a>Origins</h2><p>They came from the north.</p>\
         <h2 id=b>Empty</h2></main></body></html>",
    );
    let only: Vec<bool> = page.sections.iter().map(|s| s.is_heading_only()).collect();
    assert_eq!(only, [true, false, true]);
    let docs = documents(&[SitePage {
        url: "a.html".into(),
        page,
    }]);
    assert_eq!(
        docs.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(),
        ["s1"]
    );
}
