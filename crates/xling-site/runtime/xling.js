// xling site search runtime: keyword search over static shards at once,
// hybrid cross-language search once the model has loaded in a worker.
// Plain JS, no dependencies; written by `xling site` next to the index.
// Page text is data: nothing here ever turns it into HTML.

const BASE = new URL('./', import.meta.url);
const CACHE = 'xling-site-v1';
const ENTRY = 'xling-entry.json';
const FORMAT_VERSION = 2;
const WORD = /[\p{L}\p{M}\p{N}]+/gu;
const MAX_TERM_CHARS = 48;
const PREFIX_MIN = 3;
const PREFIX_SHARDS = 2;
// Sub-results: sections of the shown page scoring at least this share of its best.
const SUB_RESULT_SHARE = 0.6;
const MAX_SUB_RESULTS = 3;

/** What the search functions throw. `code`: "damaged" | "unavailable" | "invalid_input". */
export class XlingSiteError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'XlingSiteError';
    this.code = code;
  }
}

// Same table as `is_spaceless` in crates/xling-site/src/terms.rs.
function spaceless(cp) {
  return (cp >= 0x0e00 && cp <= 0x0eff) || (cp >= 0x1000 && cp <= 0x109f) ||
    (cp >= 0x1780 && cp <= 0x17ff) || (cp >= 0x2e80 && cp <= 0x2fdf) ||
    cp === 0x3005 || cp === 0x3007 || (cp >= 0x3021 && cp <= 0x3029) ||
    (cp >= 0x3038 && cp <= 0x303b) || (cp >= 0x3040 && cp <= 0x30ff) ||
    (cp >= 0x31f0 && cp <= 0x31ff) || (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xff66 && cp <= 0xff9f) || (cp >= 0x20000 && cp <= 0x2fa1f);
}

/** The keyword terms of `text`, as the builder makes them (terms.rs). */
export function terms(text) {
  const out = [];
  for (const m of String(text).toLowerCase().matchAll(WORD)) {
    const chars = Array.from(m[0]);
    let start = 0;
    while (start < chars.length) {
      const sl = spaceless(chars[start].codePointAt(0));
      let end = start + 1;
      while (end < chars.length && spaceless(chars[end].codePointAt(0)) === sl) end++;
      const seg = chars.slice(start, end);
      if (sl) {
        if (seg.length === 1) out.push(seg[0]);
        for (let i = 0; i + 1 < seg.length; i++) out.push(seg[i] + seg[i + 1]);
      } else if (seg.length <= MAX_TERM_CHARS) {
        out.push(seg.join(''));
      }
      start = end;
    }
  }
  return out;
}

// ---- bytes: Cache Storage first for content-hashed files ----------------

async function openCache() {
  try {
    return typeof caches === 'undefined' ? null : await caches.open(CACHE);
  } catch {
    return null; // storage disabled (private mode, insecure context)
  }
}

/** Bytes of a content-hashed file, from Cache Storage when there. */
async function hashedBytes(name) {
  const url = new URL(name, BASE).href;
  const cache = await openCache();
  let response = cache ? await cache.match(url).catch(() => undefined) : undefined;
  if (!response) {
    try {
      response = await fetch(url);
    } catch (e) {
      throw new XlingSiteError('unavailable', `cannot fetch ${name}: ${e.message}`);
    }
    if (!response.ok) throw new XlingSiteError('damaged', `${name}: HTTP ${response.status}`);
    if (cache) await cache.put(url, response.clone()).catch(() => {});
  }
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * Inflates a gzip member; a host that already decoded it leaves plain bytes.
 * Shared with the worker (not part of the documented API).
 */
export async function inflate(bytes, name) {
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  try {
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch {
    throw new XlingSiteError('damaged', `${name} is damaged (not valid gzip)`);
  }
}

class Reader {
  constructor(bytes, name, magic) {
    this.b = bytes; this.i = 0; this.name = name;
    const head = new TextDecoder().decode(bytes.subarray(0, 4));
    if (head !== magic) this.fail(`does not start with ${magic}`);
    this.i = 4;
  }
  fail(why) { throw new XlingSiteError('damaged', `${this.name} is damaged: ${why}`); }
  varint() {
    let v = 0, shift = 0;
    for (;;) {
      if (this.i >= this.b.length) this.fail('truncated');
      const byte = this.b[this.i++];
      v += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return v;
      shift += 7;
      if (shift > 49) this.fail('bad number');
    }
  }
  byte() { if (this.i >= this.b.length) this.fail('truncated'); return this.b[this.i++]; }
  string() {
    const n = this.varint();
    if (this.i + n > this.b.length) this.fail('truncated');
    const s = new TextDecoder('utf-8', { fatal: true }).decode(this.b.subarray(this.i, this.i + n));
    this.i += n;
    return s;
  }
}

// ---- the index ----------------------------------------------------------

let entryPromise = null;
const shardCache = new Map();
const bundleCache = new Map();
let pagesPromise = null;

async function loadEntry() {
  let response = null;
  const url = new URL(ENTRY, BASE).href;
  const cache = await openCache();
  try {
    response = await fetch(url, { cache: 'no-cache' });
    if (response.ok && cache) await cache.put(url, response.clone()).catch(() => {});
  } catch {
    response = cache ? await cache.match(url).catch(() => undefined) : undefined;
  }
  if (!response || !response.ok) {
    throw new XlingSiteError('unavailable', `cannot load the search index (${ENTRY})`);
  }
  let entry;
  try {
    entry = await response.json();
  } catch {
    throw new XlingSiteError('damaged', `${ENTRY} is damaged`);
  }
  if (entry.format !== 'xling-site' || entry.version !== FORMAT_VERSION || !entry.keyword || !entry.files) {
    throw new XlingSiteError('damaged', `${ENTRY} is not an xling site index of version ${FORMAT_VERSION} (rebuild the site with this xling)`);
  }
  return entry;
}

function entry() {
  if (!entryPromise) entryPromise = loadEntry().catch((e) => { entryPromise = null; throw e; });
  return entryPromise;
}

async function shard(name) {
  if (!shardCache.has(name)) {
    const p = (async () => {
      const r = new Reader(await inflate(await hashedBytes(name), name), name, 'XKW1');
      const words = new Map();
      const count = r.varint();
      for (let t = 0; t < count; t++) {
        const word = r.string();
        const n = r.varint();
        const sections = new Uint32Array(n);
        const impacts = new Uint8Array(n);
        let s = 0;
        for (let k = 0; k < n; k++) { s += r.varint(); sections[k] = s; impacts[k] = r.byte(); }
        words.set(word, { sections, impacts });
      }
      return words;
    })();
    shardCache.set(name, p);
    p.catch(() => shardCache.delete(name));
  }
  return shardCache.get(name);
}

async function pages() {
  if (!pagesPromise) {
    pagesPromise = (async () => {
      const e = await entry();
      const name = e.files.pages;
      const r = new Reader(await inflate(await hashedBytes(name), name), name, 'XPG1');
      const langs = [];
      for (let n = r.varint(), i = 0; i < n; i++) langs.push(r.string());
      const count = r.varint();
      const first = new Uint32Array(count + 1);
      const group = new Uint32Array(count);
      const lang = new Array(count);
      for (let p = 0; p < count; p++) {
        first[p + 1] = first[p] + r.varint();
        group[p] = r.varint();
        const l = r.varint();
        lang[p] = l === 0 ? null : langs[l - 1] ?? null;
        if (group[p] >= count) r.fail('bad group');
      }
      return { first, group, lang, count };
    })();
    pagesPromise.catch(() => { pagesPromise = null; });
  }
  return pagesPromise;
}

/** The last index `i` in `0..count` whose `key(i)` is ≤ `x` (0 when none is): tables sorted by their first element. */
function lastAtMost(count, key, x) {
  let lo = 0, hi = count - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (key(mid) <= x) lo = mid; else hi = mid - 1;
  }
  return lo;
}

/** The page holding section number `section`. */
function pageOf(table, section) {
  return lastAtMost(table.count, (i) => table.first[i], section);
}

/** Index of the last shard whose first term is ≤ `term` (JS string order). */
function shardFor(shards, term) {
  return lastAtMost(shards.length, (i) => shards[i][0], term);
}

async function keywordScores(query) {
  const e = await entry();
  const shards = e.keyword.shards;
  const qterms = [...new Set(terms(query))];
  const scores = new Map();
  if (!qterms.length || !shards.length) return { scores, qterms };
  const perTerm = await Promise.all(qterms.map(async (t) => {
    const at = shardFor(shards, t);
    const names = [shards[at][1]];
    if (t.length >= PREFIX_MIN) {
      for (let i = at + 1; i < shards.length && names.length < PREFIX_SHARDS && shards[i][0].startsWith(t); i++) {
        names.push(shards[i][1]);
      }
    }
    const maps = await Promise.all(names.map(shard));
    const best = new Map();
    for (const words of maps) {
      for (const [word, list] of words) {
        let weight = 0;
        if (word === t) weight = 1;
        else if (t.length >= PREFIX_MIN && word.startsWith(t)) weight = 0.5 + 0.5 * (t.length / word.length);
        if (!weight) continue;
        for (let k = 0; k < list.sections.length; k++) {
          const v = weight * list.impacts[k];
          const s = list.sections[k];
          if ((best.get(s) ?? 0) < v) best.set(s, v);
        }
      }
    }
    return best;
  }));
  for (const best of perTerm) {
    for (const [s, v] of best) scores.set(s, (scores.get(s) ?? 0) + v * e.keyword.scale / 255);
  }
  return { scores, qterms };
}

// ---- the semantic tier (worker) -------------------------------------------

let worker = null;
let readyPromise = null;
let semanticState = { state: 'idle', loaded: 0, total: 0, error: null };
const listeners = new Set();
const pending = new Map();
let nextId = 1;

function setState(patch) {
  semanticState = { ...semanticState, ...patch };
  for (const f of listeners) { try { f(semanticState); } catch { /* a listener's bug is its own */ } }
}

/** Calls `f(state)` on every change of the semantic tier's state; returns an unsubscribe function. */
export function onStatus(f) {
  listeners.add(f);
  f(semanticState);
  return () => listeners.delete(f);
}

/** A load that failed on the network may be tried again this long after. */
const RETRY_MS = 10_000;
/** When a failed load may be tried again (never after a damaged file). */
let retryAfter = Infinity;

/** Starts loading the model in a worker (once, or again a while after a network failure); resolves when semantic search works. */
export function preload() {
  if (readyPromise && Date.now() < retryAfter) return readyPromise;
  retryAfter = Infinity;
  readyPromise = (async () => {
    const e = await entry();
    const f = e.files;
    for (const role of ['engine_js', 'engine_wasm', 'model', 'tokenizer', 'index']) {
      if (!f[role]) throw new XlingSiteError('damaged', `${ENTRY} lists no ${role} file`);
    }
    setState({ state: 'loading', loaded: 0, total: e.bytes.model + e.bytes.tokenizer + e.bytes.index, error: null });
    worker = new Worker(new URL('./xling-worker.js', import.meta.url), { type: 'module', name: 'xling' });
    await new Promise((resolve, reject) => {
      worker.onmessage = ({ data }) => {
        if (data.type === 'progress') setState({ loaded: data.loaded });
        else if (data.type === 'ready') resolve();
        else if (data.type === 'error' && data.id === 0) reject(new XlingSiteError(data.code, data.message));
        else if (data.type === 'result' || data.type === 'error') {
          const p = pending.get(data.id);
          pending.delete(data.id);
          if (!p) return;
          if (data.type === 'result') p.resolve(data.hits);
          else p.reject(new XlingSiteError(data.code, data.message));
        }
      };
      worker.onerror = (ev) => reject(new XlingSiteError('unavailable', `the search worker failed: ${ev.message || 'unknown error'}`));
      const url = (name) => new URL(name, BASE).href;
      worker.postMessage({
        type: 'load',
        cache: CACHE,
        files: {
          engineJs: url(f.engine_js), engineWasm: url(f.engine_wasm), model: url(f.model),
          tokenizer: url(f.tokenizer), prior: f.prior ? url(f.prior) : null, index: url(f.index),
        },
      });
    });
    setState({ state: 'ready' });
  })().catch((err) => {
    const error = err instanceof XlingSiteError ? err : new XlingSiteError('unavailable', String(err?.message ?? err));
    setState({ state: 'failed', error: error.message });
    if (worker) worker.terminate();
    worker = null;
    if (error.code !== 'damaged') retryAfter = Date.now() + RETRY_MS;
    throw error;
  });
  return readyPromise;
}

/** Resolves when semantic search is available (starting the load if needed). */
export function ready() { return preload(); }

/** Whether semantic search is available now. */
export function isReady() { return semanticState.state === 'ready'; }

function semanticHits(query, mode, k, languages) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    worker.postMessage({ type: 'search', id, query, mode, k, languages });
  });
}

// ---- results --------------------------------------------------------------

let options = { languages: null, preferred: null };

/** Initialises the runtime: checks the index and fetches its entry. `preferred`: the visitor's languages, most preferred first (default `navigator.languages`); `load`: "focus" (default) or "now". */
export async function init(opts = {}) {
  options = {
    preferred: (opts.preferred ?? (globalThis.navigator?.languages ?? [globalThis.navigator?.language ?? 'en']))
      .map((l) => String(l).toLowerCase().split('-')[0]),
  };
  const e = await entry();
  if (opts.load === 'now') preload().catch(() => {});
  return { pages: e.pages, sections: e.sections, languages: e.languages };
}

function primary(code) { return code ? String(code).toLowerCase().split('-')[0] : null; }

/** Groups section scores into one result per translation group. */
async function assemble(sectionScores, k, languages, extra) {
  const table = await pages();
  const byPage = new Map();
  for (const [s, score] of sectionScores) {
    if (s >= table.first[table.count]) continue;
    const p = pageOf(table, s);
    if (languages && !languages.includes(primary(table.lang[p]))) continue;
    let rec = byPage.get(p);
    if (!rec) { rec = { page: p, score: 0, sections: [] }; byPage.set(p, rec); }
    rec.score = Math.max(rec.score, score);
    rec.sections.push({ section: s, score });
  }
  const groups = new Map();
  for (const rec of byPage.values()) {
    const g = table.group[rec.page];
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g).push(rec);
  }
  const prefer = options.preferred ?? [];
  const results = [];
  for (const members of groups.values()) {
    const score = Math.max(...members.map((m) => m.score));
    const rank = (m) => { const i = prefer.indexOf(primary(table.lang[m.page])); return i < 0 ? prefer.length : i; };
    members.sort((a, b) => rank(a) - rank(b) || b.score - a.score);
    const shown = members[0];
    shown.sections.sort((a, b) => b.score - a.score);
    results.push({ score, shown, table });
  }
  results.sort((a, b) => b.score - a.score);
  return results.slice(0, k).map((r) => makeResult(r, extra));
}

async function bundle(pageIndex) {
  const e = await entry();
  const list = e.fragments;
  const name = list[lastAtMost(list.length, (i) => list[i][0], pageIndex)]?.[1];
  if (!name) throw new XlingSiteError('damaged', 'no fragment for a result');
  if (!bundleCache.has(name)) {
    const p = (async () => {
      const bytes = await inflate(await hashedBytes(name), name);
      try { return JSON.parse(new TextDecoder().decode(bytes)); } catch { throw new XlingSiteError('damaged', `${name} is damaged`); }
    })();
    bundleCache.set(name, p);
    p.catch(() => bundleCache.delete(name));
  }
  const b = await bundleCache.get(name);
  const page = b.pages?.[pageIndex - b.first];
  if (!page) throw new XlingSiteError('damaged', `${name} does not hold page ${pageIndex}`);
  return page;
}

let entrySiteRoot = '../';

/** A page URL of the entry (relative to the site root) as an absolute URL. */
function siteUrl(relative) {
  return new URL(relative, new URL(entrySiteRoot, BASE)).href;
}

const SENTENCE = /[^.!?。！？\n]+[.!?。！？]*\s*/gu;

/** The sentence of `text` that best matches, ±context, with highlight ranges of query terms. */
function excerpt(text, qterms, sentence) {
  let start = 0, end = Math.min(text.length, 240);
  const at = sentence ? text.indexOf(sentence) : -1;
  if (at >= 0) {
    start = at; end = at + sentence.length;
  } else if (qterms.length) {
    let best = -1;
    for (const m of text.matchAll(SENTENCE)) {
      const found = new Set(terms(m[0]));
      const hits = qterms.filter((t) => found.has(t) || [...found].some((w) => t.length >= PREFIX_MIN && w.startsWith(t))).length;
      if (hits > best) { best = hits; start = m.index; end = m.index + m[0].length; }
    }
  }
  if (end - start > 300) end = start + 300;
  const pad = Math.max(0, Math.floor((240 - (end - start)) / 2));
  let cutStart = Math.max(0, start - pad);
  // Start at a word: never show half a word after the ellipsis.
  if (cutStart > 0) {
    const space = text.slice(cutStart, start).search(/\s/u);
    cutStart = space < 0 ? start : cutStart + space + 1;
  }
  const cutEnd = Math.min(text.length, Math.max(end, cutStart + 240));
  const prefix = cutStart > 0 ? '… ' : '';
  const shift = prefix.length - cutStart;
  return {
    text: prefix + text.slice(cutStart, cutEnd) + (cutEnd < text.length ? ' …' : ''),
    highlight: end > start ? [[start + shift, end + shift]] : [],
  };
}

function makeResult({ score, shown, table }, extra) {
  const page = shown.page;
  let cached = null;
  return {
    score,
    language: table.lang[page],
    async data() {
      if (cached) return cached;
      const frag = await bundle(page);
      const first = table.first[page];
      // The best section, and others only when they score near it.
      const best = shown.sections[0]?.score ?? 0;
      const near = shown.sections.filter((x, i) => i === 0 || x.score >= SUB_RESULT_SHARE * best);
      const secs = near.slice(0, 1 + MAX_SUB_RESULTS).map(({ section, score: s }) => {
        const sec = frag.sections?.[section - first] ?? { text: '' };
        const url = siteUrl(frag.url) + (sec.anchor ? `#${encodeURIComponent(sec.anchor)}` : '');
        const ex = excerpt(String(sec.text ?? ''), extra.qterms, extra.sentences?.get(section));
        return { url, title: sec.heading ?? frag.title ?? frag.url, excerpt: ex.text, highlight: ex.highlight, score: s };
      });
      const top = secs[0] ?? { url: siteUrl(frag.url), excerpt: '', highlight: [] };
      cached = {
        url: top.url,
        title: frag.title ?? frag.url,
        excerpt: top.excerpt,
        highlight: top.highlight,
        language: frag.lang ?? null,
        score,
        subResults: secs.slice(1).filter((s) => s.url !== top.url && s.excerpt.trim() !== s.title.trim()),
        translations: (frag.translations ?? []).map(([lang, url]) => ({ language: lang, url: siteUrl(url) })),
        meta: frag.meta ?? {},
      };
      return cached;
    },
  };
}

/**
 * Searches the site. `mode`: "auto" (default: hybrid once the model is ready,
 * keyword before), "keyword", "hybrid" or "semantic" (both wait for the
 * model). `languages`: "any" (default) or a list of codes. `k`: results (10).
 */
export async function search(query, opts = {}) {
  if (typeof query !== 'string') throw new XlingSiteError('invalid_input', 'the query must be a string');
  const k = Math.max(1, Math.min(100, Number.isFinite(opts.k) ? Math.floor(opts.k) : 10));
  const languages = Array.isArray(opts.languages) ? opts.languages.map(primary) : null;
  const e = await entry();
  entrySiteRoot = e.site_root ?? '../';
  let mode = opts.mode ?? 'auto';
  if (!['auto', 'keyword', 'hybrid', 'semantic'].includes(mode)) {
    throw new XlingSiteError('invalid_input', `unknown mode ${JSON.stringify(mode)}`);
  }
  if (mode === 'auto') mode = isReady() ? 'hybrid' : 'keyword';
  const q = query.trim().slice(0, 2000);
  if (!q) return { mode, query, results: [] };
  if (mode === 'keyword') {
    const { scores, qterms } = await keywordScores(q);
    return { mode, query, results: await assemble(scores, k, languages, { qterms }) };
  }
  await preload();
  // Sections, not pages, come back: ask for enough to fill k pages.
  const hits = await semanticHits(q, mode === 'semantic' ? 'semantic' : 'hybrid', Math.min(200, k * 8), languages);
  const scores = new Map();
  const sentences = new Map();
  for (const h of hits) {
    const m = /^s(\d+)/.exec(h.id);
    if (!m) continue;
    const s = Number(m[1]);
    if (!scores.has(s)) { scores.set(s, h.score); if (h.sentence) sentences.set(s, h.sentence); }
  }
  return { mode, query, results: await assemble(scores, k, languages, { qterms: [...new Set(terms(q))], sentences }) };
}
