// Page side of the inference worker (inference.worker.js): creates one onnxruntime-web session
// per verified model and analyses camera frames, off the main thread. Model bytes and frames are
// transferred to the worker, not copied, and live only in its memory.

import { InferenceError } from "../protocol/errors.js";

/* global __SF_WORKER_URL__ */

/** Time allowed to compile the runtime and create one session. */
export const LOAD_TIMEOUT_MS = 60_000;
/** Time allowed to analyse one frame. */
export const FRAME_TIMEOUT_MS = 15_000;

/**
 * @typedef {object} ModelInfo
 * @property {string[]} inputNames
 * @property {string[]} outputNames
 */

const FAILURES = {
  load: "onnxruntime-web could not load the model",
  analyze: "a camera frame could not be analysed",
};

export class InferenceWorker {
  /** @param {string | URL} [url] the worker bundle (injected by build.mjs) */
  constructor(url = __SF_WORKER_URL__) {
    this._worker = new Worker(url, { type: "module", name: "secureface-inference" });
    this._next = 0;
    /** @type {Map<number, {resolve: Function, reject: Function, type: "load" | "analyze"}>} */
    this._calls = new Map();
    this._worker.onmessage = ({ data }) => this._settle(data);
    /** @type {InferenceError | null} set once the worker has failed or stopped */
    this._failure = null;
    this._worker.onerror = (event) => this._failAll(new InferenceError(`inference worker failed: ${event.message || "cannot start"}`));
  }

  /**
   * Create the inference session of one model from its bytes (transferred: `bytes` is
   * detached afterwards).
   * @param {string} name
   * @param {Uint8Array} bytes
   * @returns {Promise<ModelInfo>}
   */
  load(name, bytes) {
    const buffer = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes.buffer : bytes.slice().buffer;
    return this._call({ type: "load", name, bytes: buffer }, [buffer], LOAD_TIMEOUT_MS);
  }

  /**
   * Analyse one camera frame (transferred, and closed by the worker).
   * @param {ImageBitmap} bitmap
   * @param {{detector: string, antispoof?: string}} models names of the loaded models by role
   * @returns {Promise<import("./challenge.js").FrameAnalysis>}
   */
  analyze(bitmap, models) {
    return this._call({ type: "analyze", bitmap, ...models }, [bitmap], FRAME_TIMEOUT_MS);
  }

  /** Stop the worker and every pending call. */
  terminate() {
    this._worker.terminate();
    this._failAll(new InferenceError("inference worker stopped"));
  }

  /**
   * @param {{type: "load" | "analyze"} & Record<string, unknown>} message
   * @param {Transferable[]} transfer
   * @param {number} timeoutMs
   * @returns {Promise<any>}
   */
  _call(message, transfer, timeoutMs) {
    if (this._failure) return Promise.reject(this._failure);
    const id = this._next++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this._settle({ id, ok: false, error: "timed out" }), timeoutMs);
      this._calls.set(id, {
        type: message.type,
        resolve: (/** @type {unknown} */ v) => { clearTimeout(timer); resolve(v); },
        reject: (/** @type {Error} */ e) => { clearTimeout(timer); reject(e); },
      });
      this._worker.postMessage({ ...message, id }, transfer);
    });
  }

  /** @param {{id: number, ok: boolean, result?: unknown, error?: string}} answer */
  _settle({ id, ok, result, error }) {
    const call = this._calls.get(id);
    if (!call) return;
    this._calls.delete(id);
    if (ok) call.resolve(result);
    else call.reject(new InferenceError(`${FAILURES[call.type] ?? "the inference worker failed"}: ${error}`));
  }

  /** @param {Error} err */
  _failAll(err) {
    this._failure ??= err;
    for (const call of this._calls.values()) call.reject(err);
    this._calls.clear();
  }
}

/**
 * Create a session for every model, in the worker.
 * @param {InferenceWorker} worker
 * @param {Map<string, Uint8Array>} models verified bytes (transferred)
 * @returns {Promise<Map<string, ModelInfo>>}
 */
export async function createSessions(worker, models) {
  const infos = new Map();
  for (const [name, bytes] of models) infos.set(name, await worker.load(name, bytes));
  return infos;
}
