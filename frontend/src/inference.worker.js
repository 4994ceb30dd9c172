// Inference worker: owns onnxruntime-web (WebAssembly backend, files from our own origin) and
// the inference sessions, so compiling the runtime and the models never blocks the page. The
// runtime is initialised at start, on a weightless model, while the real ones download.
//
// Messages in:  {id, type: "load", name, bytes: ArrayBuffer (transferred)}
// Messages out: {id, ok: true, result: {inputNames, outputNames}} | {id, ok: false, error}
import * as ort from "onnxruntime-web/wasm";
import { warmupModel } from "./warmup-model.js";

/* global __SF_ORT_WASM__ */
ort.env.wasm.wasmPaths = __SF_ORT_WASM__; // {mjs, wasm}: hashed copies in /assets, set by build.mjs
ort.env.wasm.proxy = false; // this worker is the proxy
ort.env.logLevel = "error";

const SESSION_OPTIONS = { executionProviders: ["wasm"], graphOptimizationLevel: "all" };

/** @type {Map<string, ort.InferenceSession>} */
const sessions = new Map();

/** The runtime's initialisation; a failure is reported by the first `load`. */
const warm = ort.InferenceSession.create(warmupModel(), SESSION_OPTIONS).then((s) => s.release());
warm.catch(() => {});

const handlers = {
  /**
   * Create the session for one verified model from its bytes in memory.
   * @param {{name: string, bytes: ArrayBuffer}} message
   */
  async load({ name, bytes }) {
    await warm;
    const session = await ort.InferenceSession.create(new Uint8Array(bytes), SESSION_OPTIONS);
    await sessions.get(name)?.release();
    sessions.set(name, session);
    return { inputNames: [...session.inputNames], outputNames: [...session.outputNames] };
  },
};

self.onmessage = async ({ data }) => {
  const { id, type } = data;
  try {
    const handler = handlers[type];
    if (!handler) throw new Error(`unknown message ${type}`);
    self.postMessage({ id, ok: true, result: await handler(data) });
  } catch (err) {
    self.postMessage({ id, ok: false, error: String(err?.message || err) });
  }
};
