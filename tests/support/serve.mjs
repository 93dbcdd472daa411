// A static file server on 127.0.0.1 for tests that need a site laid out
// differently from web/dist (the app over another model directory). Paths are
// resolved inside their root; anything else is a 404.

import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.webmanifest': 'application/manifest+json',
};

/** Serves `mounts` (URL prefix → directory, longest prefix first) and
 *  resolves to `{ url, close }`. */
export function serveDirectories(mounts) {
  const ordered = Object.entries(mounts).sort((a, b) => b[0].length - a[0].length);
  const server = http.createServer((request, response) => {
    const pathname = decodeURIComponent(new URL(request.url, 'http://127.0.0.1').pathname);
    const mount = ordered.find(([prefix]) => pathname.startsWith(prefix));
    const file = mount && resolveInside(mount[1], pathname.slice(mount[0].length));
    if (!file) {
      response.writeHead(404).end('not found');
      return;
    }
    const type = TYPES[path.extname(file)] ?? 'application/octet-stream';
    response.writeHead(200, { 'content-type': type, 'content-length': fs.statSync(file).size });
    fs.createReadStream(file).pipe(response);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({ url: `http://127.0.0.1:${port}/`, close: () => new Promise((done) => server.close(done)) });
    });
  });
}

/** The file `relative` names inside `root` (index.html for a directory), or
 *  null when it escapes `root` or does not exist. */
function resolveInside(root, relative) {
  const base = path.resolve(root);
  let file = path.resolve(base, `.${path.sep}${relative}`);
  if (file !== base && !file.startsWith(base + path.sep)) return null;
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
  return fs.existsSync(file) && fs.statSync(file).isFile() ? file : null;
}
