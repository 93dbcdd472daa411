// <xling-search>: a complete search box for sites built with `xling site`.
// Keyword results at once; hybrid, cross-language results once the model
// has loaded (it starts loading when the box is first focused, or at once
// with load="now"). Light DOM, so the page's CSS (xling-ui.css and CSS
// variables) styles it; page text is only ever set as text.

import * as xling from './xling.js';

const LABELS = {
  placeholder: 'Search this site',
  keyword: 'Keyword results',
  loading: 'Keyword results · loading search by meaning',
  hybrid: 'Results by meaning and keywords, in every language',
  semantic: 'Results by meaning, in every language',
  failed: 'Keyword results only: search by meaning is unavailable',
  damaged: 'The search index is damaged; results may be incomplete',
  unavailable: 'Search is unavailable (the index could not be loaded)',
  none: 'No results',
  also: 'Also in',
};

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
}

function languageName(code) {
  if (!code) return '';
  try {
    return new Intl.DisplayNames([navigator.language || 'en'], { type: 'language' }).of(code) ?? code;
  } catch {
    return code;
  }
}

/** `text` with [start, end) ranges wrapped in <mark>, as DOM nodes. */
function highlighted(text, ranges) {
  const frag = document.createDocumentFragment();
  let at = 0;
  for (const [a, b] of ranges ?? []) {
    if (a < at || b <= a) continue;
    frag.append(text.slice(at, a), el('mark', null, text.slice(a, b)));
    at = b;
  }
  frag.append(text.slice(at));
  return frag;
}

class XlingSearch extends HTMLElement {
  connectedCallback() {
    if (this.input) return;
    const id = `xling-${Math.random().toString(36).slice(2, 8)}`;
    this.classList.add('xling');
    const form = el('form', 'xling-form');
    form.setAttribute('role', 'search');
    form.addEventListener('submit', (ev) => { ev.preventDefault(); this.run(); });
    this.input = el('input', 'xling-input');
    this.input.type = 'search';
    this.input.autocomplete = 'off';
    this.input.spellcheck = false;
    this.input.placeholder = this.getAttribute('placeholder') ?? LABELS.placeholder;
    this.input.setAttribute('aria-label', this.input.placeholder);
    this.input.setAttribute('aria-controls', `${id}-results`);
    this.status = el('p', 'xling-status');
    this.status.setAttribute('role', 'status');
    this.status.setAttribute('aria-live', 'polite');
    this.list = el('ol', 'xling-results');
    this.list.id = `${id}-results`;
    form.append(this.input);
    this.append(form, this.status, this.list);
    this.generation = 0;
    this.mode = 'keyword';
    this.problem = null;
    this.input.addEventListener('input', () => {
      // Results of a search still in flight answer an older query: drop them.
      this.generation++;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.run(), 120);
    });
    this.input.addEventListener('focus', () => this.startModel(), { once: true });
    this.addEventListener('keydown', (ev) => this.keys(ev));
    const load = this.getAttribute('load') ?? 'focus';
    xling.init({ load: load === 'now' ? 'now' : 'focus' }).catch((e) => this.fail(e));
    xling.onStatus((s) => this.onModel(s));
  }

  startModel() {
    if ((this.getAttribute('load') ?? 'focus') === 'never') return;
    xling.preload().catch(() => {});
  }

  onModel(s) {
    this.modelState = s;
    if (s.state === 'ready' && this.input?.value.trim()) this.run();
    else this.showStatus();
  }

  fail(e) {
    this.problem = e?.code === 'damaged' ? 'damaged' : 'unavailable';
    this.showStatus();
  }

  showStatus(count) {
    if (!this.status) return;
    const s = this.modelState ?? { state: 'idle' };
    let text;
    if (this.problem === 'unavailable') text = LABELS.unavailable;
    else if (this.problem === 'damaged') text = LABELS.damaged;
    else if (!this.input.value.trim()) text = '';
    else if (count === 0) text = LABELS.none;
    else if (this.mode !== 'keyword') text = LABELS[this.mode];
    else if (s.state === 'loading') {
      const pct = s.total ? Math.min(99, Math.round((100 * s.loaded) / s.total)) : 0;
      text = `${LABELS.loading} (${pct} %)`;
    } else if (s.state === 'failed') text = LABELS.failed;
    else text = LABELS.keyword;
    this.status.textContent = text;
    this.dataset.mode = this.mode;
    this.dataset.model = s.state;
  }

  async run() {
    const query = this.input.value;
    const generation = ++this.generation;
    // Starts the model, or retries it after a network failure.
    this.startModel();
    let found;
    // A problem stays on screen only while searches still meet it: a
    // network that failed once and came back clears it.
    let problem = null;
    try {
      found = await xling.search(query, { mode: 'auto', k: Number(this.getAttribute('results')) || 8 });
    } catch (e) {
      if (generation !== this.generation) return;
      if (e?.code === 'damaged' && xling.isReady()) {
        problem = 'damaged';
        this.problem = problem;
        try { found = await xling.search(query, { mode: 'hybrid', k: 8 }); } catch { return this.showStatus(); }
      } else {
        return this.fail(e);
      }
    }
    const datas = await Promise.all(found.results.map((r) => r.data().catch(() => null)));
    if (generation !== this.generation) return;
    this.problem = problem;
    this.mode = found.mode;
    this.render(datas.filter(Boolean));
    // Which query the results on screen answer (for scripts and tests).
    this.dataset.query = query;
    this.showStatus(query.trim() ? datas.filter(Boolean).length : undefined);
  }

  render(results) {
    this.list.replaceChildren();
    for (const d of results) {
      const item = el('li', 'xling-result');
      const head = el('p', 'xling-result-title');
      const link = el('a', 'xling-link', d.title);
      link.href = d.url;
      head.append(link);
      if (d.language) {
        const lang = el('span', 'xling-lang', languageName(d.language));
        lang.lang = d.language;
        head.append(' ', lang);
      }
      const ex = el('p', 'xling-excerpt');
      ex.append(highlighted(d.excerpt, d.highlight));
      if (d.language) ex.lang = d.language;
      item.append(head, ex);
      if (d.subResults.length) {
        const subs = el('ul', 'xling-subresults');
        for (const s of d.subResults) {
          const li = el('li', 'xling-subresult');
          const a = el('a', 'xling-link', s.title);
          a.href = s.url;
          const sx = el('p', 'xling-excerpt');
          sx.append(highlighted(s.excerpt, s.highlight));
          li.append(a, sx);
          subs.append(li);
        }
        item.append(subs);
      }
      if (d.translations.length) {
        const also = el('p', 'xling-translations', `${LABELS.also}: `);
        d.translations.forEach((t, i) => {
          const a = el('a', 'xling-link', languageName(t.language) || t.url);
          a.href = t.url;
          if (t.language) a.hreflang = t.language;
          also.append(i ? ' · ' : '', a);
        });
        item.append(also);
      }
      this.list.append(item);
    }
  }

  keys(ev) {
    const links = [...this.list.querySelectorAll('a.xling-link')];
    const at = links.indexOf(document.activeElement);
    if (ev.key === 'ArrowDown') {
      ev.preventDefault();
      (links[at + 1] ?? links[0])?.focus();
    } else if (ev.key === 'ArrowUp') {
      ev.preventDefault();
      if (at <= 0) this.input.focus(); else links[at - 1].focus();
    } else if (ev.key === 'Escape') {
      this.input.value = '';
      this.list.replaceChildren();
      this.showStatus();
      this.input.focus();
    }
  }
}

if (!customElements.get('xling-search')) customElements.define('xling-search', XlingSearch);
