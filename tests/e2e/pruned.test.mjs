// The web app served with a pruned model in its model/ directory, as a site
// or a field deployment for German and English ships it: the app loads the
// smaller model, indexes pasted documents and answers across the two
// languages; nothing is fetched from elsewhere.
//
// Env (set by `cargo xtask test`): XLING_DIST_DIR (the built web/dist),
// XLING_PRUNED_MODEL_DIR (`xling prune --languages en,de`), XLING_ARTIFACTS.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { searchInApp } from '../support/app.mjs';
import { foreignRequests, launchPersistent } from '../support/browser.mjs';
import { serveDirectories } from '../support/serve.mjs';

const DIST = process.env.XLING_DIST_DIR;
const PRUNED = process.env.XLING_PRUNED_MODEL_DIR;
const ARTIFACTS = process.env.XLING_ARTIFACTS || path.join(os.tmpdir(), 'xling-e2e');
const skip = !DIST || !PRUNED;

const DOCUMENTS = [
  ['Fahrplan', 'Der Zug nach Berlin fährt jeden Morgen um acht Uhr vom Hauptbahnhof ab.'],
  ['Museum', 'The city museum is closed on Mondays and opens from Tuesday to Sunday.'],
  ['Vulkan', 'Der Vulkan brach 1883 aus, und die Explosion war Tausende Kilometer weit zu hören.'],
];

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'xling-e2e-pruned-'));
const requests = [];
let server;
let context;
let page;

before(async () => {
  if (skip) return;
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  server = await serveDirectories({ '/': DIST, '/model/': PRUNED });
  context = await launchPersistent(profile);
  context.on('request', (request) => requests.push(request.url()));
  page = context.pages()[0] || (await context.newPage());
  await page.goto(server.url);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 240_000 });
});

after(async () => {
  await context?.close();
  await server?.close();
  fs.rmSync(profile, { recursive: true, force: true });
});

test('the app runs on a model pruned to German and English', { skip }, async () => {
  assert.match(await page.textContent('#model-status'), /ready/i);
  const cached = await page.evaluate(async () => {
    const cache = await caches.open('xling-model-v1');
    const sizes = {};
    for (const request of await cache.keys()) {
      const response = await cache.match(request);
      sizes[new URL(request.url).pathname.split('/').pop()] = (await response.arrayBuffer()).byteLength;
    }
    return sizes;
  });
  assert.deepEqual(Object.keys(cached).sort(), ['language-prior.bin', 'model.gguf', 'tokenizer.xlt']);
  assert.equal(cached['model.gguf'], fs.statSync(path.join(PRUNED, 'model.gguf')).size, 'the pruned model is the one loaded');

  for (const [title, text] of DOCUMENTS) {
    const before = await page.textContent('#stats');
    await page.fill('#paste-title', title);
    await page.fill('#paste-text', text);
    await page.click('#add-paste');
    await page.waitForFunction((old) => document.querySelector('#stats').textContent !== old, before, { timeout: 60_000 });
  }
  assert.match(await page.textContent('#stats'), /3 documents/);

  const english = await searchInApp(page, 'What time does the train to Berlin leave?');
  assert.equal(english[0].title, 'Fahrplan', JSON.stringify(english.map((h) => h.title)));
  const german = await searchInApp(page, 'An welchem Tag ist das Museum geschlossen?');
  assert.equal(german[0].title, 'Museum', JSON.stringify(german.map((h) => h.title)));
  await page.screenshot({ path: path.join(ARTIFACTS, 'pruned-en-de.png') });
  assert.deepEqual(foreignRequests(requests, new URL(server.url).origin), []);
});
