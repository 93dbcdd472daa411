// xling's engine worker: where the index is saved between visits. OPFS when the
// browser has it, else IndexedDB, else memory only; each keeps the previous copy
// until a new one is fully written. Imported by worker.js (which owns when to save).

const INDEX_FILE = 'index.xlidx';
const INDEX_FILE_NEW = 'index.xlidx.new';

/** OPFS when the browser has it (synchronous access handles, in workers),
 *  else IndexedDB, else memory only. Each offers read, write and remove. */
export async function openStorage() {
  try {
    const root = await navigator.storage.getDirectory();
    const probe = await root.getFileHandle(INDEX_FILE_NEW, { create: true });
    if (typeof probe.createSyncAccessHandle === 'function') return opfsStorage(root);
  } catch (_) {
    // No OPFS here: fall through.
  }
  try {
    return await indexedDbStorage();
  } catch (_) {
    return memoryStorage();
  }
}

function opfsStorage(root) {
  const readFile = async (name) => {
    const handle = await root.getFileHandle(name);
    const file = await handle.getFile();
    return { bytes: new Uint8Array(await file.arrayBuffer()), savedAt: file.lastModified };
  };
  return {
    kind: 'opfs',
    // The new copy is written beside the old one, then swapped in: a crash
    // or a full disk mid-write never loses the previous index.
    async read() {
      for (const name of [INDEX_FILE, INDEX_FILE_NEW]) {
        try {
          const found = await readFile(name);
          if (found.bytes.byteLength > 0) return found;
        } catch (_) {
          // Missing: try the next.
        }
      }
      return null;
    },
    async write(bytes) {
      const fresh = await root.getFileHandle(INDEX_FILE_NEW, { create: true });
      const access = await fresh.createSyncAccessHandle();
      try {
        access.truncate(0);
        const written = access.write(bytes, { at: 0 });
        if (written !== bytes.byteLength) throw new DOMException('short write', 'QuotaExceededError');
        access.flush();
      } finally {
        access.close();
      }
      await root.removeEntry(INDEX_FILE).catch(() => {});
      await fresh.move(INDEX_FILE);
    },
    async remove() {
      for (const name of [INDEX_FILE, INDEX_FILE_NEW]) {
        await root.removeEntry(name).catch(() => {});
      }
    },
  };
}

function indexedDbStorage() {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open('xling', 1);
    open.onupgradeneeded = () => open.result.createObjectStore('files');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const run = (mode, action) =>
        new Promise((done, fail) => {
          const tx = db.transaction('files', mode);
          const request = action(tx.objectStore('files'));
          tx.oncomplete = () => done(request.result);
          tx.onerror = () => fail(tx.error);
          tx.onabort = () => fail(tx.error);
        });
      resolve({
        kind: 'indexeddb',
        read: async () => (await run('readonly', (s) => s.get(INDEX_FILE))) || null,
        // One transaction: the old copy stays unless the new one is stored.
        write: (bytes) => run('readwrite', (s) => s.put({ bytes, savedAt: Date.now() }, INDEX_FILE)),
        remove: () => run('readwrite', (s) => s.delete(INDEX_FILE)),
      });
    };
  });
}

function memoryStorage() {
  return { kind: 'memory', read: async () => null, write: async () => {}, remove: async () => {} };
}
