// xling page: adding files, from the file input or dropped on the drop zone: .txt and .md
// as they are, .html through DOMParser (no script runs, nothing loads) with only its text
// kept. Files that cannot be added are skipped with a note in the summary.

import { announce, el, state } from './dom.js';
import { runAdd } from './add.js';
import { errorMessage, formatBytes } from './format.js';
import { inertHtml } from '../trusted-types.js';

const MAX_FILE_BYTES = 4 * 1024 * 1024;
const HTML_SKIP = new Set(['script', 'style', 'noscript', 'template', 'svg', 'math', 'iframe', 'object']);
const HTML_BLOCKS = new Set([
  'address', 'article', 'aside', 'blockquote', 'br', 'caption', 'dd', 'div', 'dl', 'dt',
  'figcaption', 'figure', 'footer', 'form', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header',
  'hr', 'li', 'main', 'nav', 'ol', 'p', 'pre', 'section', 'table', 'td', 'th', 'tr', 'ul',
]);

function fileKind(file) {
  const name = file.name.toLowerCase();
  if (/\.html?$/.test(name) || file.type === 'text/html') return 'html';
  if (/\.(txt|md|markdown)$/.test(name) || file.type.startsWith('text/')) return 'text';
  return null;
}

/** Text of an HTML element, one paragraph per block element, whitespace runs collapsed. */
function htmlText(root) {
  const paragraphs = [];
  let current = '';
  const flush = () => {
    const text = current.replace(/\s+/g, ' ').trim();
    if (text) paragraphs.push(text);
    current = '';
  };
  const visit = (node) => {
    if (node.nodeType === Node.TEXT_NODE) {
      current += node.data;
    } else if (node.nodeType === Node.ELEMENT_NODE && !HTML_SKIP.has(node.localName)) {
      const block = HTML_BLOCKS.has(node.localName);
      if (block) flush();
      for (const child of node.childNodes) visit(child);
      if (block) flush();
    }
  };
  if (root) visit(root);
  flush();
  return paragraphs.join('\n\n');
}

function uniqueId(name, used) {
  let id = name;
  for (let n = 2; used.has(id); n += 1) id = `${name} (${n})`;
  used.add(id);
  return id;
}

async function readFiles(files) {
  const docs = [];
  const notes = [];
  const used = new Set();
  for (const file of files) {
    const kind = fileKind(file);
    if (!kind) {
      notes.push(`Skipped “${file.name}”: only .txt, .md and .html files can be added.`);
      continue;
    }
    if (file.size > MAX_FILE_BYTES) {
      notes.push(`Skipped “${file.name}”: it is larger than 4 MB (${formatBytes(file.size)}).`);
      continue;
    }
    let text = await file.text();
    let title = file.name;
    if (kind === 'html') {
      const page = new DOMParser().parseFromString(inertHtml(text), 'text/html');
      title = page.title.replace(/\s+/g, ' ').trim() || file.name;
      text = htmlText(page.body);
    }
    if (!text.trim()) {
      notes.push(`Skipped “${file.name}”: it has no text.`);
      continue;
    }
    docs.push({ id: uniqueId(file.name, used), text, title });
  }
  return { docs, notes };
}

/** Adds the files of a FileList (the file input's, or a drop's) as one add. */
export function addFiles(fileList) {
  const files = Array.from(fileList || []);
  if (!files.length) return;
  if (!state.ready || state.busy) {
    announce(state.ready ? 'Please wait until the current indexing finishes.' : 'Please wait until the model is ready.');
    return;
  }
  runAdd(() => readFiles(files)).catch((err) => announce(errorMessage(err)));
}

const hasFiles = (e) => Boolean(e.dataTransfer && Array.from(e.dataTransfer.types || []).includes('Files'));

/** Drag and drop onto the drop zone. */
export function setupDropZone() {
  el.dropZone.addEventListener('dragover', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = state.ready && !state.busy ? 'copy' : 'none';
    el.dropZone.classList.add('drag-over');
  });
  el.dropZone.addEventListener('dragleave', (e) => {
    if (!el.dropZone.contains(e.relatedTarget)) el.dropZone.classList.remove('drag-over');
  });
  el.dropZone.addEventListener('drop', (e) => {
    e.preventDefault();
    el.dropZone.classList.remove('drag-over');
    addFiles(e.dataTransfer && e.dataTransfer.files);
  });
  // A file dropped next to the zone must not navigate away from the app.
  window.addEventListener('dragover', (e) => { if (hasFiles(e)) e.preventDefault(); });
  window.addEventListener('drop', (e) => { if (hasFiles(e)) e.preventDefault(); });
}
