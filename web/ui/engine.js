// xling page: the page's side of the worker protocol (../protocol.js). Starts the engine
// worker, sends requests and resolves their replies, and hands events to the handlers
// that app.js registers. A worker that failed to start is replaced on the next request.

import { ERROR, requestMessage } from '../protocol.js';
import { announce, state } from './dom.js';

let worker = null;
let workerBroken = false;
let nextId = 0;
const pending = new Map();
/** Event name → handler(data), set by `onEvents`. */
let eventHandlers = {};

/** Registers the handlers of worker events (EVENT name → function of the event's data). */
export function onEvents(handlers) {
  eventHandlers = handlers;
}

function startWorker() {
  worker = new Worker('./worker.js', { type: 'module' });
  workerBroken = false;
  worker.addEventListener('message', (e) => onWorkerMessage(e.data));
  worker.addEventListener('error', onWorkerFailure);
  worker.addEventListener('messageerror', () => announce('A message from the search engine could not be read.'));
}

// Before the engine is ready an error means the worker could not start: fail what is pending
// so that Retry starts a fresh worker. Afterwards the worker keeps running: just report it.
function onWorkerFailure(e) {
  if (state.ready) {
    announce(`The search engine reported an error: ${e.message || 'unknown error'}`);
    return;
  }
  workerBroken = true;
  const err = new Error(e.message || 'its worker script could not be loaded.');
  err.code = ERROR.internal;
  for (const { reject } of pending.values()) reject(err);
  pending.clear();
}

/** Sends request `type` (a REQUEST) with `args`; resolves with its result, rejects with an
 *  Error carrying the worker's `code`. */
export function request(type, args = {}, transfer = []) {
  if (!worker || workerBroken) {
    if (worker) worker.terminate();
    startWorker();
  }
  const id = ++nextId;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    try {
      worker.postMessage(requestMessage(id, type, args), transfer);
    } catch (err) {
      pending.delete(id);
      reject(err);
    }
  });
}

function onWorkerMessage(data) {
  if (!data || typeof data !== 'object') return;
  if (data.id !== undefined && pending.has(data.id)) {
    const { resolve, reject } = pending.get(data.id);
    pending.delete(data.id);
    if (data.ok) {
      resolve(data.result);
    } else {
      const err = new Error((data.error && data.error.message) || 'The search engine reported an error.');
      err.code = (data.error && data.error.code) || ERROR.internal;
      reject(err);
    }
  } else if (data.event) {
    const handler = Object.hasOwn(eventHandlers, data.event) ? eventHandlers[data.event] : null;
    if (handler) handler(data);
  }
}
