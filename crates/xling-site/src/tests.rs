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
