// xling's service worker: keeps the app shell on the device so that, after
// one visit, the app starts and searches with no network at all.
//
// - The shell is precached at install; later requests are answered from the
//   cache and refreshed in the background (a new version shows on the next load).
// - Model files are kept by the engine itself in the `xling-model-v1` cache
//   (with download progress); here they are only looked up, never copied.
// - Only same-origin GET requests are handled; nothing else is touched.

const SHELL_CACHE = 'xling-shell-v1';
// Every file of the app shell: a module missing here would not load offline
// (index.html lists the same files for Trunk; ui/ is copied as a folder).
const SHELL = [
  './',
  './index.html',
  './app.js',
  './worker.js',
  './pool.js',
  './embed-worker.js',
  './protocol.js',
  './trusted-types.js',
  './storage.js',
  './ui/add.js',
  './ui/collection.js',
  './ui/dom.js',
  './ui/engine.js',
  './ui/files.js',
  './ui/format.js',
  './ui/model.js',
  './ui/search.js',
  './ui/stats.js',
  './style.css',
  './xling-wasm.js',
  './xling-wasm_bg.wasm',
];

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(SHELL_CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) =>
        Promise.all(
          names
            .filter((name) => name.startsWith('xling-shell-') && name !== SHELL_CACHE)
            .map((name) => caches.delete(name)),
        ),
      )
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  const isModel = url.pathname.includes('/model/');
  event.respondWith(isModel ? modelFile(request) : shellFile(event, request));
});

/** Model files: whatever cache has them (the engine's), else the network. */
async function modelFile(request) {
  return (await caches.match(request)) || fetch(request);
}

/** Cached copy first (refreshed in the background), else the network. */
async function shellFile(event, request) {
  const cache = await caches.open(SHELL_CACHE);
  const cached = await cache.match(request, { ignoreSearch: true });
  const refresh = fetch(request)
    .then((response) => {
      if (response.ok && response.type === 'basic') {
        return cache.put(request, response.clone()).then(() => response);
      }
      return response;
    });
  if (cached) {
    event.waitUntil(refresh.catch(() => undefined));
    return cached;
  }
  return refresh;
}
