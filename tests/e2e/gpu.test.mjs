// WebGPU in the browser, on Chromium's SwiftShader adapter (this machine has
// no GPU): the engine's GPU encoder passes its start-up self-test, agrees
// with the CPU encoder (the oracle) on texts in several scripts, and the app
// indexes and finds documents with it. `auto` refuses the software adapter
// and says why. SwiftShader is very slow, so the texts are few and short.
//
// Env (set by `cargo xtask test`): XLING_APP_URL (the served web/dist).

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
const MIN_COSINE = 0.999;

/** Short texts in six scripts, and one long enough (> 64 tokens) to span
 *  several of the attention kernel's key tiles. */
const TEXTS = [
  'The cat sleeps on the warm sofa.',
  'Пчёлы делают мёд в улье.',
  'المتحف مغلق يوم الاثنين.',
  '明天北京会下大雨。',
  'नदी पहाड़ों से निकलती है।',
  'ฝนตกหนักในกรุงเทพ',
  'The Rhine rises in the Swiss Alps, flows through Lake Constance and along the border ' +
    'between Germany and France, and then crosses the Netherlands before it reaches the ' +
    'North Sea near Rotterdam, one of the busiest ports in the world, after a journey of ' +
    'more than twelve hundred kilometres.',
];

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'xling-gpu-profile-'));
const requests = [];
const pageErrors = [];
let context;
let page;

before(async () => {
  context = await launchPersistent(profile);
  context.on('request', (request) => requests.push(request.url()));
  page = context.pages()[0] || (await context.newPage());
  page.on('pageerror', (error) => pageErrors.push(error.message));
  const adapter = await (async () => {
    await page.goto(new URL('index.html?device=gpu', APP).href);
    return page.evaluate(async () => {
      const found = await navigator.gpu?.requestAdapter();
      return found ? { fallback: found.info.isFallbackAdapter, architecture: found.info.architecture } : null;
    });
  })();
  // No adapter is a failure, never a silent skip.
  assert.ok(adapter, 'Chromium offered no WebGPU adapter (is --enable-unsafe-webgpu set?)');
  await page.waitForSelector('body[data-ready="true"]', { timeout: 300_000 });
});

after(async () => {
  await context?.close();
  fs.rmSync(profile, { recursive: true, force: true });
});

test('the app embeds documents on WebGPU once the self-test passes', async () => {
  const note = page.locator('#backend-note');
  assert.equal(await note.getAttribute('data-backend'), 'gpu', await note.textContent());
  assert.match(await note.textContent(), /indexed on this device's graphics processor/);
  assert.match(await page.textContent('#engine-info'), /WebGPU.*, self-test passed, for documents/);

  await page.fill('#paste-text', 'Пчёлы делают мёд в улье, а медведи его любят.');
  await page.fill('#paste-title', 'Пчёлы');
  await page.click('#add-paste');
  await page.waitForFunction(() => /^1 document/.test(document.querySelector('#stats').textContent), null, { timeout: 120_000 });
  await page.fill('#paste-text', 'The train to Berlin leaves every morning at eight.');
  await page.fill('#paste-title', 'Timetable');
  await page.click('#add-paste');
  await page.waitForFunction(() => /^2 documents/.test(document.querySelector('#stats').textContent), null, { timeout: 120_000 });
  // Still on the GPU after the adds (a failure would have moved it to the CPU).
  assert.equal(await note.getAttribute('data-backend'), 'gpu', await note.textContent());

  const hits = await searchInApp(page, 'Where do bees make honey?', 'semantic');
  assert.deepEqual(hits.map((h) => h.title), ['Пчёлы', 'Timetable']);
});

test('WebGPU vectors match the CPU encoder, and staged adds guard their state', async () => {
  const result = await page.evaluate(async ({ texts }) => {
    const xling = await import('/xling-wasm.js');
    await xling.default();
    // The model comes from the cache the app filled.
    const engine = await xling.Engine.fromUrl('/model/', { device: 'gpu', cacheName: 'xling-model-v1' });
    const backend = engine.backend;
    const gpu = await engine.embedBatch(texts, 'passage');
    const cosines = texts.map((text, i) => {
      const cpu = engine.embed(text, 'passage');
      return cpu.reduce((sum, x, j) => sum + x * gpu[i][j], 0);
    });
    const [queryGpu] = await engine.embedBatch([texts[0]], 'query');
    const queryCpu = engine.embed(texts[0], 'query');
    cosines.push(queryCpu.reduce((sum, x, j) => sum + x * queryGpu[j], 0));

    // One embedNext at a time per job; no commit while one runs.
    const job = engine.prepareAdd([{ id: 'a', text: texts[0] }, { id: 'b', text: texts[1] }]);
    const first = engine.embedNext(job, 1);
    const errors = [];
    await engine.embedNext(job, 1).catch((e) => errors.push(e.code));
    try { engine.commitAdd(job); } catch (e) { errors.push(e.code); }
    // Searches answer while the GPU works.
    const during = engine.search('cat', { k: 1 }).hits.length;
    await first;
    await engine.embedNext(job, 1);
    const report = engine.commitAdd(job);
    engine.free();

    const auto = await xling.Engine.fromUrl('/model/', { device: 'auto', cacheName: 'xling-model-v1' });
    const autoBackend = auto.backend;
    auto.free();
    return { backend, cosines, errors, during, report, autoBackend };
  }, { texts: TEXTS });

  assert.equal(result.backend.backend, 'gpu', JSON.stringify(result.backend));
  assert.equal(result.backend.adapter.software, true, 'SwiftShader is a software adapter');
  assert.ok(result.backend.selfTestCosine >= MIN_COSINE, JSON.stringify(result.backend));
  assert.equal(result.cosines.length, TEXTS.length + 1);
  for (const [i, c] of result.cosines.entries()) {
    assert.ok(c >= MIN_COSINE, `text ${i}: cosine ${c} between the WebGPU and the CPU vector`);
  }
  console.log(`webgpu parity (SwiftShader): ${result.cosines.length} vectors, min cosine ${Math.min(...result.cosines).toFixed(6)}`);
  assert.deepEqual(result.errors, ['invalid_job', 'invalid_job']);
  assert.equal(result.during, 0, 'the index is empty but searchable during an embed');
  assert.deepEqual(result.report, { documents: 2, passages: 2 });

  // `auto` takes hardware GPUs only: a software rasteriser is slower than the CPU path.
  assert.equal(result.autoBackend.backend, 'cpu');
  assert.match(result.autoBackend.reason, /software/);
});

test('no request left the origin, and no page error happened', () => {
  assert.ok(requests.length > 5, 'requests were not recorded');
  assert.deepEqual(foreignRequests(requests, ORIGIN), []);
  assert.deepEqual(pageErrors, []);
});
