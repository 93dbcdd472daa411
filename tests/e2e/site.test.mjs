// A static site searched as its visitors would: the XQuAD-R test site (a
// few articles in English, German and Hindi, plus a page of hostile text)
// built by `xling site`, served by `xling serve`-equivalent static server,
// searched through the drop-in <xling-search> box and the xling.js API.
// Keyword results come before the model; hybrid, cross-language results
// after; it keeps working offline; no request leaves the site; page text is
// never markup; damaged files give a message, never a blank box.
//
// Env (set by `cargo xtask test`): XLING_SITE_URL (the served site),
// XLING_SITE_DIR (its folder, with queries.json), XLING_ARTIFACTS.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';

import { CHROMIUM, CHROMIUM_ARGS, foreignRequests } from '../support/browser.mjs';

const SITE = process.env.XLING_SITE_URL;
const DIR = process.env.XLING_SITE_DIR;
const ARTIFACTS = process.env.XLING_ARTIFACTS || path.join(os.tmpdir(), 'xling-e2e');
const skip = !SITE || !DIR;

let browser;
const queries = skip ? [] : JSON.parse(fs.readFileSync(path.join(DIR, 'queries.json'), 'utf8'));
const question = (lang, article) => queries.find((q) => q.lang === lang && q.article === article);

before(async () => {
  if (skip) return;
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
});

/** A fresh visitor (empty cache) with English as their language. */
async function visitor(options = {}) {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1000, height: 900 }, ...options });
  const requests = [];
  context.on('request', (r) => requests.push(r.url()));
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return { context, page, requests, errors };
}

async function results(page) {
  return page.$$eval('xling-search .xling-result', (items) => items.map((li) => ({
    url: li.querySelector('.xling-result-title a').href,
    title: li.querySelector('.xling-result-title a').textContent,
    excerpt: li.querySelector('.xling-excerpt').textContent,
    marked: li.querySelector('.xling-excerpt mark')?.textContent ?? null,
  })));
}

async function type(page, text) {
  await page.fill('xling-search input', text);
}

test('keyword results appear before the model, hybrid cross-language results after, offline too', { skip }, async () => {
  const { context, page, requests, errors } = await visitor();
  // Hold the model back until the keyword results are on screen.
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  await context.route(/model\.[0-9a-f]{16}\.gguf$/, async (route) => { await held; await route.continue(); });
  await page.goto(`${SITE}search-en.html`);
  const de = question('de', 1);
  await type(page, de.question);
  await page.waitForSelector('xling-search .xling-result', { timeout: 30_000 });
  const mode = await page.$eval('xling-search', (el) => el.dataset.mode);
  assert.equal(mode, 'keyword');
  const status = await page.textContent('xling-search .xling-status');
  assert.match(status, /Keyword results/);
  const keyword = await results(page);
  assert.ok(keyword.length > 0);
  assert.ok(keyword.some((r) => r.url.includes('/a1.html')), `keyword results: ${JSON.stringify(keyword.map((r) => r.url))}`);
  assert.ok(keyword.every((r) => r.marked), 'every excerpt marks its matched sentence');
  await page.screenshot({ path: path.join(ARTIFACTS, 'site-keyword.png'), fullPage: true });

  // The model (focus started it) arrives: the same query is re-ranked.
  release();
  await page.waitForFunction(() => document.querySelector('xling-search').dataset.mode === 'hybrid', null, { timeout: 240_000 });
  assert.match(await page.textContent('xling-search .xling-status'), /by meaning/);
  const hybrid = await results(page);
  assert.ok(hybrid[0].url.endsWith('/en/a1.html#p' + de.paragraph) || hybrid[0].url.includes('/a1.html'),
    `a German question finds its article first: ${hybrid[0].url}`);
  // The visitor's language (English) picks the translation shown.
  assert.ok(hybrid[0].url.includes('/en/'), `shown in English: ${hybrid[0].url}`);

  // Cross-language through the API: a Hindi question, English pages only.
  const hi = question('hi', 2);
  const api = await page.evaluate(async (q) => {
    const x = await import('/xling/xling.js');
    const s = await x.search(q, { languages: ['en'], mode: 'semantic', k: 5 });
    const d = await s.results[0].data();
    return { mode: s.mode, url: d.url, language: d.language, title: d.title, excerpt: d.excerpt, subResults: d.subResults.length, translations: d.translations.map((t) => t.language) };
  }, hi.question);
  assert.equal(api.mode, 'semantic');
  assert.match(api.url, /\/en\/a2\.html/);
  assert.equal(api.language, 'en');
  assert.ok(api.excerpt.length > 20, JSON.stringify(api));
  assert.deepEqual([...api.translations].sort(), ['de', 'hi']);
  await page.screenshot({ path: path.join(ARTIFACTS, 'site-hybrid.png'), fullPage: true });

  // Offline: the model is loaded and the shards fetched so far are kept.
  await context.setOffline(true);
  await type(page, '');
  await type(page, hi.question);
  await page.waitForFunction((q) => {
    const el = document.querySelector('xling-search');
    return el.dataset.mode === 'hybrid' && el.dataset.query === q && el.querySelector('.xling-result');
  }, hi.question, { timeout: 30_000 });
  const offline = await results(page);
  assert.match(offline[0].url, /\/a2\.html/);
  await context.setOffline(false);

  const origin = new URL(SITE).origin;
  assert.deepEqual(foreignRequests(requests, origin), []);
  assert.deepEqual(errors, []);
  await context.close();
});

test('page text is shown as text, never run as markup', { skip }, async () => {
  const { context, page, errors } = await visitor();
  await page.goto(`${SITE}search-en.html`);
  const title = await page.title();
  await type(page, 'xylophones hostile');
  await page.waitForSelector('xling-search .xling-result', { timeout: 30_000 });
  const shown = await results(page);
  const hostile = shown.find((r) => r.url.includes('hostile.html'));
  assert.ok(hostile, `the hostile page is found: ${JSON.stringify(shown)}`);
  assert.match(hostile.excerpt, /<img src=x onerror=/);
  assert.match(hostile.title, /<b>title<\/b>/);
  assert.equal(await page.$$eval('xling-search img, xling-search script, xling-search b', (l) => l.length), 0);
  assert.equal(await page.title(), title);
  assert.deepEqual(errors, []);
  await context.close();
});

test('a damaged keyword shard says so; a damaged semantic index leaves keyword search working', { skip }, async () => {
  {
    const { context, page } = await visitor();
    await context.route(/kw\.[0-9a-f]{16}\.xkw$/, (route) => route.fulfill({ status: 200, body: Buffer.from('garbage, not a shard') }));
    await context.route(/model\.[0-9a-f]{16}\.gguf$/, (route) => route.abort());
    await page.goto(`${SITE}search-en.html`);
    await type(page, question('en', 0).question);
    // Never a hung or blank box: the status says the index is damaged.
    await page.waitForFunction(() => /damaged/.test(document.querySelector('xling-search .xling-status').textContent), null, { timeout: 30_000 });
    assert.equal(await page.$$eval('xling-search .xling-result', (l) => l.length), 0);
    await context.close();
  }
  {
    const { context, page } = await visitor();
    // A download cut short: the first half of the real (gzipped) index.
    const entry = JSON.parse(fs.readFileSync(path.join(DIR, 'xling', 'xling-entry.json'), 'utf8'));
    const index = fs.readFileSync(path.join(DIR, 'xling', entry.files.index));
    assert.deepEqual([...index.subarray(0, 2)], [0x1f, 0x8b], 'the index is stored gzipped');
    await context.route(/index\.[0-9a-f]{16}\.xli$/, (route) => route.fulfill({ status: 200, body: index.subarray(0, index.length >> 1) }));
    await page.goto(`${SITE}search-en.html`);
    await type(page, question('en', 0).question);
    await page.waitForFunction(() => document.querySelector('xling-search').dataset.model === 'failed', null, { timeout: 240_000 });
    // Clear the box and wait until it is empty, so the results below answer the new search.
    await type(page, '');
    await page.waitForFunction(() => document.querySelector('xling-search').dataset.query === '' && !document.querySelector('xling-search .xling-result'), null, { timeout: 30_000 });
    await type(page, question('en', 0).question);
    await page.waitForSelector('xling-search .xling-result', { timeout: 30_000 });
    assert.match(await page.textContent('xling-search .xling-status'), /Keyword results only/);
    assert.ok((await results(page)).length > 0);
    await context.close();
  }
});

test('a network failure says search is unavailable, and clears once the network is back', { skip }, async () => {
  const { context, page } = await visitor();
  await context.route(/xling-entry\.json$/, (route) => route.abort());
  await page.goto(`${SITE}search-en.html`);
  await type(page, question('en', 0).question);
  await page.waitForFunction(() => /unavailable/.test(document.querySelector('xling-search .xling-status').textContent), null, { timeout: 30_000 });
  await context.unroute(/xling-entry\.json$/);
  await type(page, `${question('en', 0).question} `);
  await page.waitForSelector('xling-search .xling-result', { timeout: 30_000 });
  // Keyword results are back at once; the model is retried a while later (xling.js RETRY_MS).
  assert.doesNotMatch(await page.textContent('xling-search .xling-status'), /^Search is unavailable/);
  await page.waitForTimeout(10_500);
  await type(page, question('en', 0).question);
  await page.waitForFunction(() => document.querySelector('xling-search').dataset.model === 'ready', null, { timeout: 240_000 });
  await context.close();
});

test('the box fits a phone and is driven by the keyboard', { skip }, async () => {
  const { context, page } = await visitor({ viewport: { width: 375, height: 740 }, isMobile: true });
  await page.goto(`${SITE}search-en.html`);
  await type(page, question('en', 0).question);
  await page.waitForSelector('xling-search .xling-result', { timeout: 30_000 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
  assert.equal(overflow, false, 'no horizontal scrolling on a phone');
  await page.keyboard.press('ArrowDown');
  const focused = await page.evaluate(() => document.activeElement?.className);
  assert.equal(focused, 'xling-link');
  await page.keyboard.press('Escape');
  assert.equal(await page.$$eval('xling-search .xling-result', (l) => l.length), 0);
  await page.screenshot({ path: path.join(ARTIFACTS, 'site-phone.png') });
  await context.close();
});

test('the runtime cuts terms as the builder does (crates/xling-site/src/terms.rs)', { skip }, async () => {
  const { context, page } = await visitor();
  await page.goto(`${SITE}bench-en.html`);
  const got = await page.evaluate(async () => {
    const x = await import('/xling/xling.js');
    return [x.terms('Hello, Wörld! 42x'), x.terms('नेपाली भाषा'), x.terms('東京都'), x.terms('猫'), x.terms('abc東京'), x.terms(`${'a'.repeat(49)} ok`)];
  });
  assert.deepEqual(got, [['hello', 'wörld', '42x'], ['नेपाली', 'भाषा'], ['東京', '京都'], ['猫'], ['abc', '東京'], ['ok']]);
  await context.close();
});
