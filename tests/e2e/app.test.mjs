// The web app end to end, in Debian's Chromium, as a person uses it: the
// model loads (and is cached), the demo collection is indexed, questions in
// several languages find their paragraph in any language, hostile text stays
// text, the index survives a reload and a browser restart, the app works
// offline, and no request ever leaves the origin.
//
// Env (set by `cargo xtask test`): XLING_APP_URL (the served web/dist),
// XLING_ARTIFACTS (where the screenshot goes).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { searchInApp } from '../support/app.mjs';
import { foreignRequests, launchPersistent } from '../support/browser.mjs';

const APP = process.env.XLING_APP_URL;
if (!APP) throw new Error('XLING_APP_URL is not set; run these tests with cargo xtask test');
const ORIGIN = new URL(APP).origin;
const ARTIFACTS = process.env.XLING_ARTIFACTS || path.join(os.tmpdir(), 'xling-e2e');
const SAMPLE_DOCUMENTS = 220;

/** One question per language; the expected paragraph is the same in every
 *  language (ids `<lang>-<paragraph>`), so any language's copy counts. */
const QUESTION_LANGUAGES = ['de', 'ar', 'zh', 'hi', 'ru', 'th'];
const TOP = 5;

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'xling-e2e-profile-'));
const requests = [];
const pageErrors = [];
let context;
let page;
let questions;

async function open(options = {}) {
  context = await launchPersistent(profile, options);
  context.on('request', (request) => requests.push(request.url()));
  page = context.pages()[0] || (await context.newPage());
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(APP);
  await waitReady();
}

async function waitReady() {
  await page.waitForSelector('body[data-ready="true"]', { timeout: 240_000 });
}

/** Waits for the live region (it is cleared, then set 50 ms later) to match. */
async function waitLive(pattern) {
  await page.waitForFunction(
    (source) => new RegExp(source, 'i').test(document.querySelector('#live').textContent),
    pattern.source,
    { timeout: 30_000 },
  );
}

async function statsText() {
  return page.textContent('#stats');
}

/** Runs a search through the form and returns the shown results. */
function search(query, mode = 'hybrid') {
  return searchInApp(page, query, mode);
}

/** For each language, its first question about `paragraph`, and the ranks found. */
async function askInEveryLanguage(paragraph) {
  const found = {};
  for (const lang of QUESTION_LANGUAGES) {
    const q = questions.find((x) => x.lang === lang && x.paragraph === paragraph);
    assert.ok(q, `no ${lang} question about paragraph ${paragraph}`);
    const hits = await search(q.question);
    const rank = hits.findIndex((h) => h.id.endsWith(`-${paragraph}`));
    found[lang] = { question: q.question, rank, top: hits.slice(0, TOP).map((h) => h.id) };
  }
  return found;
}

function assertFound(found, when) {
  for (const [lang, { question, rank, top }] of Object.entries(found)) {
    assert.ok(rank >= 0 && rank < TOP, `${when}: ${lang} question ${JSON.stringify(question)} did not find its paragraph in the top ${TOP}: ${top}`);
  }
}

before(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const response = await fetch(new URL('demo/xquad-r-questions.json', APP));
  assert.ok(response.ok, 'the demo questions are not served; is web/generated/demo built?');
  questions = await response.json();
  await open();
});

after(async () => {
  await context?.close();
  fs.rmSync(profile, { recursive: true, force: true });
});

test('first visit: the model is downloaded once and kept in Cache Storage', async () => {
  const cached = await page.evaluate(async () => {
    const cache = await caches.open('xling-model-v1');
    return (await cache.keys()).map((r) => new URL(r.url).pathname.split('/').pop()).sort();
  });
  assert.deepEqual(cached, ['language-prior.bin', 'model.gguf', 'tokenizer.xlt']);
  assert.match(await page.textContent('#model-status'), /ready/i);
  // `auto` here finds only Chromium's software WebGPU adapter (SwiftShader),
  // which is slower than the CPU path: the app uses the CPU and says so in
  // plain words, with the engine's reason in the footer.
  const note = page.locator('#backend-note');
  assert.equal(await note.getAttribute('data-backend'), 'cpu');
  assert.match(await note.textContent(), /indexed on this device's processor/);
  assert.match(await page.textContent('#engine-info'), /CPU \(WASM SIMD\) for documents.*software/);
});

test('indexes the demo collection with progress, then finds answers across languages', async () => {
  await page.click('#load-demo-sample');
  await page.waitForSelector('#index-status:not([hidden])', { timeout: 30_000 });
  await page.waitForFunction(() => /passages/.test(document.querySelector('#index-progress-text').textContent), null, { timeout: 60_000 });
  await page.waitForSelector('#index-status', { state: 'hidden', timeout: 600_000 });
  assert.match(await statsText(), new RegExp(`${SAMPLE_DOCUMENTS} documents`));
  await waitLive(/Added 220 documents/);

  const found = await askInEveryLanguage(3);
  assertFound(found, 'after indexing');
  // Language-agnostic: the paragraph's copies in other languages rank with
  // the question's own (plain cosine fills the top with the query's language).
  for (const [lang, f] of Object.entries(found)) {
    const languages = new Set(f.top.map((id) => id.split('-')[0]));
    assert.ok(languages.size >= 3, `${lang}: the top ${TOP} is in only ${[...languages]}`);
  }

  // The language switch: only Arabic and Chinese results.
  await page.check('#lang-chosen');
  await page.selectOption('#lang-select', ['ar', 'zh']);
  const only = await search(questions.find((q) => q.lang === 'de').question);
  assert.ok(only.length > 0 && only.every((h) => h.lang === 'ar' || h.lang === 'zh'), JSON.stringify(only.map((h) => h.lang)));
  await page.check('#lang-any');

  // The results page, for the README.
  const hits = await search('Wie viele Punkte gab die Verteidigung der Panthers ab?');
  assert.ok(hits.length > 0 && hits.every((h) => h.marked), 'every result highlights its best sentence');
  await page.setViewportSize({ width: 1000, height: 1250 });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(ARTIFACTS, 'results.png') });
  await page.setViewportSize({ width: 1100, height: 900 });
});

test('hostile document text is shown as text, never run', async () => {
  await page.fill('#paste-text', 'Zebras <img src=x onerror="window.__xss=1"> graze at dawn. <script>window.__xss=2</script>');
  await page.fill('#paste-title', '<b onmouseover="window.__xss=3">Hostile</b>');
  await page.click('#add-paste');
  await page.waitForFunction((n) => document.querySelector('#stats').textContent.includes(`${n} documents`), SAMPLE_DOCUMENTS + 1, { timeout: 60_000 });
  // BM25 over subword pieces also matches unrelated documents further down.
  const hits = await search('zebras graze at dawn', 'keyword');
  assert.ok(hits[0].id.startsWith('paste-'), JSON.stringify(hits[0]));
  assert.match(hits[0].passage, /<img src=x onerror="window.__xss=1">/);
  assert.equal(hits[0].title, '<b onmouseover="window.__xss=3">Hostile</b>');
  const injected = await page.$$eval('#results img, #results script, #results b', (els) => els.length);
  assert.equal(injected, 0);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
});

test('Trusted Types: no HTML sink takes a string, and scripts load only from this origin', async () => {
  const outcome = await page.evaluate(() => {
    const attempt = (f) => {
      try {
        f();
        return 'allowed';
      } catch (error) {
        return error.name;
      }
    };
    const probe = document.createElement('div');
    return {
      policy: Boolean(window.trustedTypes && window.trustedTypes.defaultPolicy),
      innerHTML: attempt(() => { probe.innerHTML = '<img src=x onerror="window.__owned = 1">'; }),
      insertAdjacentHTML: attempt(() => probe.insertAdjacentHTML('beforeend', '<b>x</b>')),
      foreignWorker: attempt(() => new Worker('http://127.0.0.2:9/evil.js', { type: 'module' }).terminate()),
      ownWorker: attempt(() => new Worker('./embed-worker.js', { type: 'module' }).terminate()),
      owned: window.__owned === 1,
    };
  });
  assert.deepEqual(outcome, {
    policy: true,
    innerHTML: 'TypeError',
    insertAdjacentHTML: 'TypeError',
    foreignWorker: 'TypeError',
    ownWorker: 'allowed',
    owned: false,
  });
});

test('the index survives a reload without re-indexing', async () => {
  await page.reload();
  await waitReady();
  assert.match(await statsText(), new RegExp(`${SAMPLE_DOCUMENTS + 1} documents`));
  await waitLive(/Restored your index/);
  assertFound(await askInEveryLanguage(3), 'after a reload');
});

test('offline: the app reloads and searches with the network off', async () => {
  await context.setOffline(true);
  try {
    await page.reload();
    await waitReady();
    assert.match(await statsText(), new RegExp(`${SAMPLE_DOCUMENTS + 1} documents`));
    assertFound(await askInEveryLanguage(7), 'offline');
  } finally {
    await context.setOffline(false);
  }
});

test('a browser restart, offline from the start, keeps model and index', async () => {
  await context.close();
  await open({ offline: true });
  assert.match(await statsText(), new RegExp(`${SAMPLE_DOCUMENTS + 1} documents`));
  const hits = await search('zebras graze at dawn', 'keyword');
  assert.match(hits[0].title, /Hostile/);
  // Back online for the tests that follow.
  await context.close();
  await open();
});

test('export, clear everything, import the file back', async () => {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-index')]);
  const file = path.join(ARTIFACTS, 'exported.xlidx');
  await download.saveAs(file);
  assert.ok(fs.statSync(file).size > 100_000);

  page.once('dialog', (dialog) => dialog.accept());
  await page.click('#clear-all');
  await page.waitForFunction(() => /^0 documents/.test(document.querySelector('#stats').textContent), null, { timeout: 30_000 });
  await page.reload();
  await waitReady();
  assert.match(await statsText(), /^0 documents/, 'cleared index came back after a reload');

  // A corrupted file is refused and the (empty) index stays.
  const corrupted = fs.readFileSync(file);
  corrupted[corrupted.length >> 1] ^= 0xff;
  await page.setInputFiles('#import-input', { name: 'bad.xlidx', mimeType: 'application/octet-stream', buffer: corrupted });
  await waitLive(/index.*(could not|not|error|corrupt)|(could not|not|error|corrupt).*index/);
  assert.match(await statsText(), /^0 documents/);

  await page.setInputFiles('#import-input', file);
  await page.waitForFunction((n) => document.querySelector('#stats').textContent.startsWith(`${n} documents`), SAMPLE_DOCUMENTS + 1, { timeout: 60_000 });
  assertFound(await askInEveryLanguage(3), 'after import');
});

test('files: an HTML file becomes text, its markup never runs', async () => {
  const html = '<html><head><title>Field notes</title><script>window.__xss=4</script></head>' +
    '<body><h1>Quokkas</h1><p>Quokkas live on Rottnest Island <img src=x onerror="window.__xss=5"> near Perth.</p></body></html>';
  await page.setInputFiles('#file-input', [
    { name: 'notes.html', mimeType: 'text/html', buffer: Buffer.from(html) },
    { name: 'plain.txt', mimeType: 'text/plain', buffer: Buffer.from('Wombats dig long burrows with their strong claws.') },
  ]);
  await page.waitForFunction((n) => document.querySelector('#stats').textContent.startsWith(`${n} documents`), SAMPLE_DOCUMENTS + 3, { timeout: 60_000 });
  const hits = await search('Where do quokkas live?', 'hybrid');
  assert.equal(hits[0].title, 'Field notes');
  assert.match(hits[0].passage, /Rottnest Island/);
  assert.doesNotMatch(hits[0].passage, /window\.__xss|<img/);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  assert.equal((await search('wombat burrows', 'semantic'))[0].id, 'plain.txt');
});

test('indexing can be cancelled and adds nothing', async () => {
  const before = await statsText();
  await page.click('#load-demo-full');
  await page.waitForSelector('#index-status:not([hidden])', { timeout: 120_000 });
  await page.waitForFunction(() => /Indexing \d+ of [\d,]+ passages/.test(document.querySelector('#index-progress-text').textContent), null, { timeout: 120_000 });
  await page.click('#cancel-index');
  await page.waitForSelector('#index-status', { state: 'hidden', timeout: 60_000 });
  await waitLive(/cancelled/);
  assert.equal((await statsText()).split(' · ').slice(0, 2).join(), before.split(' · ').slice(0, 2).join());
});

test('usable on a phone-sized screen', async () => {
  await page.setViewportSize({ width: 360, height: 740 });
  await search('Wie viele Punkte gab die Verteidigung der Panthers ab?');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px at 360px`);
  await page.screenshot({ path: path.join(ARTIFACTS, 'phone.png') });
  // Every form control has an accessible name.
  const unnamed = await page.$$eval('input, select, textarea, button', (els) =>
    els.filter((e) => !e.hidden && e.type !== 'hidden' && !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim()).map((e) => e.id || e.outerHTML.slice(0, 60)));
  assert.deepEqual(unnamed, []);
  await page.setViewportSize({ width: 1100, height: 900 });
});

test('a long add is embedded by a pool of workers and gives the same index as one', async () => {
  // Last among the tests that use the app: these workers share (and leave
  // empty) the app's stored index.
  const result = await page.evaluate(async () => {
    const docs = (await (await fetch('demo/xquad-r-sample.json')).json())
      .slice(0, 40)
      .map(({ id, title, text, lang }) => ({ id, title, text: text.slice(0, 300), lang }));
    const run = async (workers) => {
      const worker = new Worker('./worker.js', { type: 'module' });
      const waiting = new Map();
      let progress = 0;
      worker.onmessage = ({ data }) => {
        if (data.id && waiting.has(data.id)) {
          waiting.get(data.id)(data);
          waiting.delete(data.id);
        } else if (data.event === 'index-progress') progress += 1;
      };
      let id = 0;
      const request = (type, args = {}) =>
        new Promise((resolve) => {
          waiting.set(++id, resolve);
          worker.postMessage({ id, type, ...args });
        });
      const init = await request('init', { device: 'cpu', workers });
      await request('clear');
      const add = await request('add', { docs });
      const memory = await request('memory');
      const hits = [];
      for (const query of ['Who won the game?', 'Welche Farbe hat der Himmel?', 'متى انتهت الحرب؟']) {
        hits.push((await request('search', { query, k: 5 })).result.hits.map((h) => [h.id, h.score]));
      }
      await request('clear');
      worker.terminate();
      return { workers: init.result.workers, add: add.result, helpers: memory.result.helperWasmBytes, hits, progress };
    };
    return { pool: await run(2), alone: await run(1) };
  });
  const { pool, alone } = result;
  assert.equal(pool.workers, 2);
  assert.equal(alone.workers, 1);
  assert.equal(pool.add.documents, 40);
  assert.equal(pool.add.passages, alone.add.passages);
  assert.equal(pool.helpers.length, 1, 'one helper worker ran');
  assert.ok(pool.helpers[0] > 10e6, `helper memory ${pool.helpers[0]}`);
  assert.deepEqual(alone.helpers, []);
  assert.ok(pool.progress >= 2, 'progress was reported');
  assert.deepEqual(pool.hits, alone.hits);
  assert.ok(pool.hits.every((h) => h.length > 0));
});

test('no request left the origin, and no page error happened', () => {
  assert.ok(requests.length > 10, 'requests were not recorded');
  assert.deepEqual(foreignRequests(requests, ORIGIN), []);
  assert.deepEqual(pageErrors, []);
});
