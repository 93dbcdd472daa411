// xling: Trusted Types. The app's policy (index.html's meta tag, and the header
// `xling serve` sends) says `require-trusted-types-for 'script'`: no DOM sink
// that parses HTML or loads a script takes a plain string. This module, imported
// first by the page (app.js) and the engine worker (worker.js), creates the one
// policy allowed, 'default', which such sinks consult for strings:
// - it has no createHTML, so innerHTML, outerHTML, insertAdjacentHTML,
//   document.write and the like throw, even if a later change reached one by
//   mistake (the app renders untrusted text as text nodes only);
// - script URLs (the workers, the service worker) pass only if they are this
//   origin's.
// One more policy, 'xling-inert-html', exists for DOMParser alone (inertHtml
// below): parsing into a detached document runs no script and loads nothing,
// and only the parsed text is kept (ui/files.js).
// Browsers without Trusted Types ignore the directive and this module.

const here = self.location.href;

if (self.trustedTypes && self.trustedTypes.createPolicy && !self.trustedTypes.defaultPolicy) {
  self.trustedTypes.createPolicy('default', {
    createScriptURL(url) {
      const parsed = new URL(url, here);
      if (parsed.origin !== self.location.origin) {
        throw new TypeError(`refused to load a script from another origin: ${parsed.href}`);
      }
      return parsed.href;
    },
  });
}

let inert = null;

/** `text` as TrustedHTML for `DOMParser.parseFromString` only (never for a
 *  live element: that is what the default policy forbids). */
export function inertHtml(text) {
  if (!self.trustedTypes || !self.trustedTypes.createPolicy) return text;
  inert = inert || self.trustedTypes.createPolicy('xling-inert-html', { createHTML: (html) => html });
  return inert.createHTML(text);
}
