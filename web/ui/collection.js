// xling page: the collection panel's actions: export the index as a file, import one
// (replacing the current index only if it loads), and clear everything. The figures
// shown in the panel are drawn by stats.js.

import { REQUEST } from '../protocol.js';
import { announce, el, state, updateControls } from './dom.js';
import { request } from './engine.js';
import { errorMessage, formatBytes, plural } from './format.js';
import { clearResults } from './search.js';
import { updateStats } from './stats.js';

/** "Export index": downloads the index as `xling-index.xlidx`. */
export async function exportIndex() {
  el.exportIndex.disabled = true;
  try {
    const { bytes } = await request(REQUEST.export);
    const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = 'xling-index.xlidx';
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    announce(`Exported the index (${formatBytes(bytes.byteLength)})`);
  } catch (err) {
    announce(`Export failed: ${errorMessage(err)}`);
  } finally {
    updateControls();
  }
}

/** "Import index": the chosen file replaces the index; a bad file keeps the current one. */
export async function importIndex() {
  const file = el.importInput.files && el.importInput.files[0];
  el.importInput.value = '';
  if (!file) return;
  state.busy = true;
  updateControls();
  try {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const { stats } = await request(REQUEST.import, { bytes }, [bytes.buffer]);
    updateStats(stats);
    clearResults();
    announce(`Imported “${file.name}”: ${plural(stats.documents, 'document', 'documents')}`);
  } catch (err) {
    announce(`Import failed: ${errorMessage(err)} Your current index was kept.`);
  } finally {
    state.busy = false;
    updateControls();
  }
}

/** "Clear everything", after a confirmation. */
export async function clearEverything() {
  if (!confirm('Delete every document from the index and from this browser’s storage?')) return;
  try {
    const { stats } = await request(REQUEST.clear);
    if (stats) updateStats(stats);
    clearResults();
    announce('Index cleared');
  } catch (err) {
    announce(errorMessage(err));
  }
}
