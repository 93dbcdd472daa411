//! One built HTML page → what search needs from it: language, title,
//! sections split at headings with an `id` (results link to `url#id`),
//! translations (`<link rel="alternate" hreflang>`) and metadata.
//!
//! Parsing is html5ever's (through `scraper`), so malformed markup is
//! repaired the way browsers repair it; the walk over the tree is iterative,
//! so deeply nested hostile pages cannot overflow the stack.

use std::collections::BTreeMap;

use ego_tree::iter::Edge;
use scraper::{ElementRef, Html, Node, Selector};

use crate::error::{SiteError, SiteResult};
use xling_index::documents::html::{clean_lang, end_line, push_collapsed, tidy_lines};

/// How the content of a page is found.
#[derive(Debug, Clone, Default)]
pub struct ExtractConfig {
    /// CSS selector of the content root; default: `[data-xling-body]` or
    /// `[data-pagefind-body]` if the page has one, else `<main>`, else `<body>`.
    pub root_selector: Option<String>,
    /// More CSS selectors whose elements are dropped (beside the defaults).
    pub exclude_selectors: Vec<String>,
}

/// Elements never indexed: navigation and page furniture, and non-text.
const EXCLUDED: &str = "nav, header, footer, aside, script, style, noscript, template, \
     svg, iframe, object, canvas, select, button, [data-xling-ignore], [data-pagefind-ignore], \
     [hidden]";

/// Content roots a site marks explicitly (Pagefind's name too, so a Pagefind
/// user switches by changing one command).
const MARKED_ROOT: &str = "[data-xling-body], [data-pagefind-body]";

/// Elements that stand apart as paragraphs.
const PARAGRAPHS: &[&str] = &[
    "address",
    "article",
    "blockquote",
    "details",
    "dl",
    "fieldset",
    "figure",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "main",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "ul",
];

/// Elements that start a new line.
const LINES: &[&str] = &[
    "caption",
    "dd",
    "div",
    "dt",
    "figcaption",
    "li",
    "summary",
    "tr",
];

/// A page's searchable content.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Page {
    /// `<html lang>`, when it is a plausible language tag.
    pub lang: Option<String>,
    /// `data-*-meta` title, else `<title>`, else the first `<h1>`.
    pub title: Option<String>,
    /// The content, in order; the first section (before any heading with an
    /// `id`) has no anchor.
    pub sections: Vec<Section>,
    /// Declared translations: (language tag, href as written).
    pub alternates: Vec<(String, String)>,
    /// `data-xling-meta` / `data-pagefind-meta` values.
    pub meta: BTreeMap<String, String>,
    /// Whether the content came from an explicitly marked root
    /// (`data-xling-body` / `data-pagefind-body`): once one page of a site
    /// has one, pages without are left out, as Pagefind does.
    pub marked: bool,
}

/// A part of a page that a result can link to.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Section {
    /// The heading's `id` (`url#anchor`), `None` for the page's top.
    pub anchor: Option<String>,
    /// The heading's text.
    pub heading: Option<String>,
    /// The section's text, heading included; paragraphs separated by a blank line.
    pub text: String,
    /// Whether any of the text lies outside headings.
    pub has_body: bool,
}

impl Section {
    /// Whether the section holds nothing but its heading (a title followed
    /// at once by the first anchored heading): not worth a result of its own.
    pub fn is_heading_only(&self) -> bool {
        !self.has_body || self.text.trim().is_empty()
    }
}

impl Page {
    /// All sections' text, for a page-level view.
    pub fn text(&self) -> String {
        let parts: Vec<&str> = self
            .sections
            .iter()
            .map(|s| s.text.as_str())
            .filter(|t| !t.is_empty())
            .collect();
        parts.join("\n\n")
    }
}

/// Extracts pages with compiled selectors (compile once per site).
#[derive(Debug)]
pub struct Extractor {
    root: Option<Selector>,
    marked: Selector,
    main: Selector,
    body: Selector,
    excluded: Vec<Selector>,
    title: Selector,
    h1: Selector,
    html: Selector,
    alternate: Selector,
    meta: Selector,
}

fn selector(css: &str) -> SiteResult<Selector> {
    Selector::parse(css).map_err(|e| SiteError::Selector {
        selector: css.to_string(),
        reason: e.to_string(),
    })
}

impl Extractor {
    /// Compiles `config`'s selectors; a selector that does not parse is an error.
    pub fn new(config: &ExtractConfig) -> SiteResult<Self> {
        let mut excluded = vec![selector(EXCLUDED)?];
        for css in &config.exclude_selectors {
            excluded.push(selector(css)?);
        }
        Ok(Self {
            root: config.root_selector.as_deref().map(selector).transpose()?,
            marked: selector(MARKED_ROOT)?,
            main: selector("main")?,
            body: selector("body")?,
            excluded,
            title: selector("head title, title")?,
            h1: selector("h1")?,
            html: selector("html")?,
            alternate: selector("link[rel~=alternate][hreflang][href]")?,
            meta: selector("[data-xling-meta], [data-pagefind-meta]")?,
        })
    }

    /// The page in `html` (already decoded, see [`crate::decode_html`]).
    pub fn extract(&self, html: &str) -> Page {
        let doc = Html::parse_document(html);
        let lang = doc
            .select(&self.html)
            .next()
            .and_then(|h| h.value().attr("lang"))
            .and_then(clean_lang);
        let alternates = doc
            .select(&self.alternate)
            .filter_map(|l| {
                let lang = clean_lang(l.value().attr("hreflang")?)?;
                let href = l.value().attr("href")?.trim();
                (!href.is_empty()).then(|| (lang, href.to_string()))
            })
            .collect();
        let mut page = Page {
            lang,
            alternates,
            ..Page::default()
        };
        for el in doc.select(&self.meta) {
            for spec in ["data-xling-meta", "data-pagefind-meta"]
                .iter()
                .filter_map(|a| el.value().attr(a))
            {
                read_meta(el, spec, &mut page.meta);
            }
        }
        let roots: Vec<ElementRef> = match &self.root {
            Some(root) => doc.select(root).collect(),
            None => {
                let marked: Vec<ElementRef> = doc.select(&self.marked).collect();
                page.marked = !marked.is_empty();
                if page.marked {
                    marked
                } else {
                    let main: Vec<ElementRef> = doc.select(&self.main).collect();
                    if main.is_empty() {
                        doc.select(&self.body).take(1).collect()
                    } else {
                        main
                    }
                }
            }
        };
        // Nested roots (a marked element inside another) are walked once.
        let roots: Vec<ElementRef> = roots
            .iter()
            .copied()
            .filter(|r| {
                !r.ancestors()
                    .any(|a| roots.iter().any(|o| o.id() == a.id()))
            })
            // A root inside an ignored element (`<body data-pagefind-ignore="all">`
            // around `<main>`) is ignored with it.
            .filter(|r| {
                !r.ancestors().filter_map(ElementRef::wrap).any(|a| {
                    a.value().attr("data-xling-ignore").is_some()
                        || a.value().attr("data-pagefind-ignore").is_some()
                })
            })
            .collect();
        let mut walk = Walk::default();
        for root in roots {
            self.walk(root, &mut walk);
        }
        page.sections = walk.finish();
        page.title = page
            .meta
            .get("title")
            .cloned()
            .or_else(|| doc.select(&self.title).next().map(text_of))
            .or_else(|| doc.select(&self.h1).next().map(text_of))
            .filter(|t| !t.is_empty());
        page
    }

    fn excluded(&self, el: ElementRef) -> bool {
        self.excluded.iter().any(|s| s.matches(&el))
    }

    fn walk(&self, root: ElementRef, walk: &mut Walk) {
        let mut skipping: Option<ego_tree::NodeId> = None;
        for edge in root.traverse() {
            match edge {
                Edge::Open(node) => {
                    if skipping.is_some() {
                        continue;
                    }
                    match node.value() {
                        Node::Text(t) => walk.text(t),
                        Node::Element(e) => {
                            let Some(el) = ElementRef::wrap(node) else {
                                continue;
                            };
                            if node.id() != root.id() && self.excluded(el) {
                                skipping = Some(node.id());
                                continue;
                            }
                            let name = e.name();
                            let heading = is_heading(name);
                            match e.attr("id").map(str::trim).filter(|i| !i.is_empty()) {
                                Some(id) if heading => walk.start_section(id, node.id()),
                                _ => {}
                            }
                            walk.open(name);
                        }
                        _ => {}
                    }
                }
                Edge::Close(node) => {
                    if let Some(skip) = skipping {
                        if skip == node.id() {
                            skipping = None;
                        }
                        continue;
                    }
                    if let Node::Element(e) = node.value() {
                        walk.close(e.name(), node.id());
                    }
                }
            }
        }
    }
}

fn is_heading(name: &str) -> bool {
    matches!(name, "h1" | "h2" | "h3" | "h4" | "h5" | "h6")
}

/// The running state of a page's walk: sections so far and the one being filled.
#[derive(Default)]
struct Walk {
    done: Vec<Section>,
    current: Section,
    /// The heading element being read, and its text so far.
    heading: Option<(ego_tree::NodeId, String)>,
    pre: usize,
    /// Heading elements (anchored or not) open around the current node.
    in_headings: usize,
}

impl Walk {
    fn start_section(&mut self, anchor: &str, heading: ego_tree::NodeId) {
        let previous = std::mem::take(&mut self.current);
        if !previous.text.trim().is_empty() || previous.anchor.is_some() {
            self.done.push(previous);
        }
        self.current.anchor = Some(anchor.to_string());
        self.heading = Some((heading, String::new()));
    }

    fn text(&mut self, text: &str) {
        push_collapsed(&mut self.current.text, text, self.pre > 0);
        if self.in_headings == 0 && !text.trim().is_empty() {
            self.current.has_body = true;
        }
        if let Some((_, h)) = &mut self.heading {
            push_collapsed(h, text, false);
        }
    }

    fn open(&mut self, name: &str) {
        if name == "pre" {
            self.pre += 1;
        }
        if is_heading(name) {
            self.in_headings += 1;
        }
        self.boundary(name);
    }

    fn close(&mut self, name: &str, id: ego_tree::NodeId) {
        if name == "pre" {
            self.pre = self.pre.saturating_sub(1);
        }
        if is_heading(name) {
            self.in_headings = self.in_headings.saturating_sub(1);
        }
        if self.heading.as_ref().is_some_and(|(h, _)| *h == id) {
            if let Some((_, text)) = self.heading.take() {
                let text = text.trim().to_string();
                self.current.heading = (!text.is_empty()).then_some(text);
            }
        }
        self.boundary(name);
    }

    fn boundary(&mut self, name: &str) {
        let out = &mut self.current.text;
        if name == "br" {
            out.push('\n');
        } else if PARAGRAPHS.contains(&name) {
            end_line(out, 2);
        } else if LINES.contains(&name) {
            end_line(out, 1);
        } else if name == "td" || name == "th" {
            push_collapsed(out, " ", false);
        }
    }

    fn finish(mut self) -> Vec<Section> {
        let last = std::mem::take(&mut self.current);
        if !last.text.trim().is_empty() || last.anchor.is_some() {
            self.done.push(last);
        }
        for s in &mut self.done {
            s.text = tidy_lines(&s.text);
        }
        self.done.retain(|s| !s.text.is_empty());
        self.done
    }
}

/// `key` (the element's text), `key:value` (literal) or `key[attr]` (an
/// attribute's value), comma-separated, as Pagefind reads them.
fn read_meta(el: ElementRef, spec: &str, meta: &mut BTreeMap<String, String>) {
    for item in spec.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let (key, value) = if let Some((k, v)) = item.split_once(':') {
            (k.trim(), Some(v.trim().to_string()))
        } else if let Some((k, attr)) = item.split_once('[') {
            let attr = attr.trim_end_matches(']').trim();
            (
                k.trim(),
                el.value().attr(attr).map(|v| v.trim().to_string()),
            )
        } else {
            (item, Some(text_of(el)))
        };
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            if !key.is_empty() {
                meta.entry(key.to_string()).or_insert(v);
            }
        }
    }
}

/// An element's text, whitespace collapsed.
fn text_of(el: ElementRef) -> String {
    let mut out = String::new();
    for t in el.text() {
        push_collapsed(&mut out, t, false);
    }
    out.trim().to_string()
}
