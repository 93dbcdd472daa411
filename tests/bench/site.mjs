// `cargo xtask bench site`: the XQuAD-R test site searched with xling's
// runtime and with Pagefind 1.6.0 in headless Chromium, in one run: bytes and
// requests to the first result (cold), per later query, latency, disk, build
// time, and known-item quality same-language and cross-language.
//
// Bytes are wire bytes as a compressing static host sends them: for every
// response, the smaller of its body and the body gzip-compressed (Pagefind's
// and xling's data files are already compressed, so that is their size).
// Known-item success: the question's article page in the target language is
// among the first 5 results (MRR over the first 10).

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../support/browser.mjs';

const SITE = process.env.XLING_SITE_URL;
const DIR = process.env.XLING_SITE_DIR;
const OUT = process.env.XLING_BENCH_JSON;
const [buildCold, buildWarm, buildPagefind] = (process.env.XLING_BUILD_SECONDS ?? '0,0,0').split(',').map(Number);
const PAGES = Number(process.env.XLING_SITE_PAGES ?? 0);
const argv = process.argv.slice(2);
const PER_LANGUAGE = Number(argv[argv.indexOf('--queries') + 1] || 0) || 40;
const LATER = 20;

const queries = JSON.parse(fs.readFileSync(path.join(DIR, 'queries.json'), 'utf8'));
const languages = [...new Set(queries.map((q) => q.lang))];
/** Evenly spread sample of n questions of a language. */
function sample(lang, n) {
  const all = queries.filter((q) => q.lang === lang);
  const step = Math.max(1, Math.floor(all.length / n));
  return all.filter((_, i) => i % step === 0).slice(0, n);
}

// Keyword queries, as people type them into a keyword box: the three
// rarest words of each question (by pages of its language containing them).
const WORD = /[\p{L}\p{M}\p{N}]+/gu;
const df = {};
for (const lang of languages) {
  const counts = new Map();
  const dir = path.join(DIR, lang);
  for (const f of fs.readdirSync(dir)) {
    const text = fs.readFileSync(path.join(dir, f), 'utf8').replace(/<[^>]*>/g, ' ').toLowerCase();
    for (const w of new Set(text.match(WORD) ?? [])) counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  df[lang] = counts;
}
for (const q of queries) {
  const words = [...new Set(q.question.toLowerCase().match(WORD) ?? [])].filter((w) => df[q.lang].has(w));
  words.sort((a, b) => df[q.lang].get(a) - df[q.lang].get(b));
  q.keywords = words.slice(0, 3).join(' ') || q.question;
}

const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });

/** A fresh context (cold cache) that counts wire bytes and requests. */
async function meter() {
  const context = await browser.newContext({ locale: 'en-US' });
  const log = [];
  context.on('response', async (response) => {
    const url = response.url();
    try {
      const body = await response.body();
      const gz = zlib.gzipSync(body, { level: 6 }).length;
      log.push({ url, bytes: Math.min(body.length, gz) });
    } catch {
      // Chromium keeps no body for some large worker responses: count the
      // uncompressed length (overstates, never understates).
      const length = Number((await response.allHeaders().catch(() => ({})))['content-length'] ?? 0);
      log.push({ url, bytes: length });
    }
  });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  const take = async () => {
    await page.waitForTimeout(200); // let late response bodies land in the log
    const out = log.splice(0);
    return { requests: out.length, bytes: out.reduce((a, r) => a + r.bytes, 0), files: out.map((r) => r.url.split('/').pop()) };
  };
  return { context, page, take };
}

// In-page drivers: each returns the result URLs (site-relative) and the time
// to the first result's data.
const XLING = async ({ query, mode, languages, all }) => {
  const x = await import('/xling/xling.js');
  await x.init({ preferred: languages ?? ['en'] });
  const t0 = performance.now();
  const found = await x.search(query, { mode, k: 10, languages: languages ?? 'any' });
  const first = found.results[0] ? await found.results[0].data() : null;
  const ms = performance.now() - t0;
  const urls = [];
  // Quality runs read every result's URL; byte counts read only the first.
  if (all) for (const r of found.results) urls.push(new URL((await r.data()).url).pathname.replace(/^\//, '').replace(/#.*/, ''));
  return { ms, urls, mode: found.mode, first: first?.url ?? null };
};
const PAGEFIND = async ({ query, all }) => {
  const pf = await import('/pagefind/pagefind.js');
  await pf.init();
  const t0 = performance.now();
  const found = await pf.search(query);
  const first = found.results[0] ? await found.results[0].data() : null;
  const ms = performance.now() - t0;
  const urls = [];
  if (all) for (const r of found.results.slice(0, 10)) urls.push(new URL((await r.data()).url, location.href).pathname.replace(/^\//, '').replace(/#.*/, ''));
  return { ms, urls, first: first?.url ?? null };
};

function median(xs) { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor(s.length / 2)] : null; }
function p95(xs) { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.min(s.length - 1, Math.floor(s.length * 0.95))] : null; }
const kB = (b) => (b / 1000).toFixed(1);

const result = { pages: PAGES, languages, build: {}, disk: {}, cold: {}, later: {}, latency: {}, quality: {} };

// ---- disk and build ----
function walk(dir) {
  let files = 0, bytes = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) { const r = walk(p); files += r.files; bytes += r.bytes; } else { files++; bytes += fs.statSync(p).size; }
  }
  return { files, bytes };
}
result.disk.xling = walk(path.join(DIR, 'xling'));
result.disk.pagefind = walk(path.join(DIR, 'pagefind'));
const entry = JSON.parse(fs.readFileSync(path.join(DIR, 'xling', 'xling-entry.json'), 'utf8'));
result.disk.xlingModel = entry.bytes.model + entry.bytes.tokenizer;
result.build = {
  xling_seconds_embedding_included: buildCold, xling_pages_per_s_embedding_included: PAGES / buildCold,
  xling_seconds_embedding_cached: buildWarm, xling_pages_per_s_embedding_cached: PAGES / buildWarm,
  pagefind_seconds: buildPagefind, pagefind_pages_per_s: PAGES / buildPagefind,
};

// ---- cold first results, later queries, latency ----
const probe = sample('en', LATER + 1);
for (const [name, driver, mode] of [['pagefind', PAGEFIND, null], ['xling keyword', XLING, 'keyword']]) {
  const m = await meter();
  await m.page.goto(`${SITE}bench-en.html`);
  await m.take(); // the page itself is the site's, not the search's
  await m.page.evaluate(driver, { query: probe[0].question, mode });
  result.cold[name] = await m.take();
  const bytes = [], requests = [], ms = [];
  for (const q of probe.slice(1)) {
    const r = await m.page.evaluate(driver, { query: q.question, mode });
    const t = await m.take();
    bytes.push(t.bytes); requests.push(t.requests); ms.push(r.ms);
  }
  result.later[name] = { medianBytes: median(bytes), maxBytes: Math.max(...bytes), medianRequests: median(requests) };
  result.latency[name] = { medianMs: median(ms), p95Ms: p95(ms) };
  await m.context.close();
}
{
  const m = await meter();
  await m.page.goto(`${SITE}bench-en.html`);
  await m.take();
  const t0 = Date.now();
  await m.page.evaluate(async () => { const x = await import('/xling/xling.js'); await x.init(); await x.ready(); });
  await m.page.evaluate(XLING, { query: probe[0].question, mode: 'hybrid' });
  result.cold['xling semantic'] = { ...(await m.take()), seconds: (Date.now() - t0) / 1000 };
  const bytes = [], ms = [], kms = [];
  for (const q of probe.slice(1)) {
    const r = await m.page.evaluate(XLING, { query: q.question, mode: 'hybrid' });
    bytes.push((await m.take()).bytes); ms.push(r.ms);
  }
  result.later['xling semantic'] = { medianBytes: median(bytes), maxBytes: Math.max(...bytes) };
  result.latency['xling semantic'] = { medianMs: median(ms), p95Ms: p95(ms) };

  // ---- quality (model loaded, shards from the network or the cache) ----
  const score = (urls, target) => {
    const rank = urls.slice(0, 10).indexOf(target);
    return { hit5: rank >= 0 && rank < 5 ? 1 : 0, rr: rank >= 0 ? 1 / (rank + 1) : 0 };
  };
  const runs = { 'xling keyword': 'keyword', 'xling hybrid': 'hybrid' };
  const pf = await browser.newContext();
  const pfPages = {};
  for (const lang of languages) { pfPages[lang] = await pf.newPage(); await pfPages[lang].goto(`${SITE}bench-${lang}.html`); }
  for (const [kind, field] of [['questions', 'question'], ['keywords', 'keywords']]) for (const direction of ['same', 'cross']) {
    result.quality[kind] ??= {};
    result.quality[kind][direction] = {};
    for (const lang of languages) {
      const target = direction === 'same' ? lang : (lang === 'en' ? (languages.find((l) => l !== 'en') ?? 'en') : 'en');
      if (direction === 'cross' && target === lang) continue;
      const key = `${lang}→${target}`;
      const row = {};
      for (const q of sample(lang, PER_LANGUAGE)) {
        const want = q.url.replace(`${lang}/`, `${target}/`);
        for (const [name, mode] of Object.entries(runs)) {
          const r = await m.page.evaluate(XLING, { query: q[field], mode, languages: [target], all: true });
          const s = score(r.urls, want);
          row[name] ??= { hit5: 0, rr: 0, n: 0 };
          row[name].hit5 += s.hit5; row[name].rr += s.rr; row[name].n++;
        }
        const r = await pfPages[target].evaluate(PAGEFIND, { query: q[field], all: true });
        const s = score(r.urls, want);
        row.pagefind ??= { hit5: 0, rr: 0, n: 0 };
        row.pagefind.hit5 += s.hit5; row.pagefind.rr += s.rr; row.pagefind.n++;
      }
      for (const v of Object.values(row)) { v.hit5 /= v.n; v.rr /= v.n; }
      result.quality[kind][direction][key] = row;
    }
  }
  await pf.close();
  await m.context.close();
}
await browser.close();

// ---- report ----
const line = (...cells) => console.log(cells.map((c, i) => String(c).padEnd(i ? 16 : 34)).join(''));
console.log(`\nbench site: ${PAGES} pages, languages ${languages.join(',')}; ${PER_LANGUAGE} questions per language and direction`);
line('', 'pagefind', 'xling keyword', 'xling semantic');
line('first result, kB (requests)', `${kB(result.cold.pagefind.bytes)} (${result.cold.pagefind.requests})`,
  `${kB(result.cold['xling keyword'].bytes)} (${result.cold['xling keyword'].requests})`,
  `${kB(result.cold['xling semantic'].bytes)} (${result.cold['xling semantic'].requests})`);
line('later query, kB median / max', ...['pagefind', 'xling keyword', 'xling semantic'].map((n) => `${kB(result.later[n].medianBytes)} / ${kB(result.later[n].maxBytes)}`));
line('latency ms median / p95', ...['pagefind', 'xling keyword', 'xling semantic'].map((n) => `${result.latency[n].medianMs.toFixed(1)} / ${result.latency[n].p95Ms.toFixed(1)}`));
line('disk files / MB', `${result.disk.pagefind.files} / ${(result.disk.pagefind.bytes / 1e6).toFixed(1)}`, `${result.disk.xling.files} / ${(result.disk.xling.bytes / 1e6).toFixed(1)}`, `model ${(result.disk.xlingModel / 1e6).toFixed(1)} MB`);
line('build pages/s', (result.build.pagefind_pages_per_s).toFixed(1), `${result.build.xling_pages_per_s_embedding_cached.toFixed(1)} cached`, `${result.build.xling_pages_per_s_embedding_included.toFixed(1)} embedding`);
console.log(`ratio first keyword result xling/pagefind bytes: ${(result.cold['xling keyword'].bytes / result.cold.pagefind.bytes).toFixed(2)}`);
for (const kind of ['questions', 'keywords']) for (const direction of ['same', 'cross']) {
  console.log(`\nknown-item success@5 / MRR@10, ${kind}, ${direction}-language`);
  line('', 'pagefind', 'xling keyword', 'xling hybrid');
  const acc = {};
  for (const [key, row] of Object.entries(result.quality[kind][direction])) {
    line(key, ...['pagefind', 'xling keyword', 'xling hybrid'].map((n) => `${row[n].hit5.toFixed(3)} / ${row[n].rr.toFixed(3)}`));
    for (const n of ['pagefind', 'xling keyword', 'xling hybrid']) (acc[n] ??= []).push(row[n].hit5);
  }
  line('mean success@5', ...['pagefind', 'xling keyword', 'xling hybrid'].map((n) => (acc[n].reduce((a, b) => a + b, 0) / acc[n].length).toFixed(3)));
  line('worst success@5', ...['pagefind', 'xling keyword', 'xling hybrid'].map((n) => Math.min(...acc[n]).toFixed(3)));
}
if (OUT) { fs.writeFileSync(OUT, JSON.stringify(result, null, 2)); console.log(`\nwrote ${OUT}`); }
