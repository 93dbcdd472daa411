// Launching Debian's Chromium for the tests and the browser benchmark, with
// the flag set of ../shared/DESIGN.md §7: every request Chromium makes on its
// own (updates, accounts, components) is kept on 127.0.0.1.

import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.XLING_CHROMIUM || '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--enable-unsafe-webgpu',
  '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
  '--component-updater=url-source=http://127.0.0.1:9/',
  '--gaia-url=http://127.0.0.1:9/',
  '--google-apis-url=http://127.0.0.1:9/',
  '--lso-url=http://127.0.0.1:9/',
];

/** A persistent context (its profile in `dir` survives reloads and restarts). */
export function launchPersistent(dir, options = {}) {
  return chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1100, height: 900 },
    ...options,
  });
}

/** Records every request of a context (service-worker fetches included). */
export function recordRequests(context) {
  const urls = [];
  context.on('request', (request) => urls.push(request.url()));
  return urls;
}

/** The requests that went anywhere but `origin` (data: and blob: URLs stay local). */
export function foreignRequests(urls, origin) {
  return urls.filter((url) => {
    if (url.startsWith('data:') || url.startsWith('blob:')) return false;
    return new URL(url).origin !== origin;
  });
}
