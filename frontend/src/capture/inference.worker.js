// Inference worker: owns onnxruntime-web (WebAssembly backend, files from our own origin), the
// inference sessions and the camera frames being analysed, so that compiling the runtime and
// running the models never block the page. The runtime is initialised at start, on a weightless
// model, while the real ones download.
//
// Messages in (each with an `id`):
//   {type: "load", name, bytes: ArrayBuffer (transferred)}  → {inputNames, outputNames}
//   {type: "analyze", bitmap: ImageBitmap (transferred), detector, antispoof}  → FrameAnalysis
//       (challenge.js); the frame is closed once analysed (the page sends its own JPEGs)
// Messages out: {id, ok: true, result} | {id, ok: false, error}
import * as ort from "onnxruntime-web/wasm";
import {
  ANTISPOOF_INPUT, BROWSER_DETECTOR_INPUT, antispoofInput, cropBox, decodeDetections, detectorInput, letterboxSize,
  lumaPercentile, meanLuma, poseCues,
} from "./face.js";
import { warmupModel } from "./warmup-model.js";

/* global __SF_ORT_WASM__ */
ort.env.wasm.wasmPaths = __SF_ORT_WASM__; // {mjs, wasm}: hashed copies in /assets, set by build.mjs
ort.env.wasm.proxy = false; // this worker is the proxy
// Threads need cross-origin isolation (COOP/COEP); two threads halve YuNet's time on two cores.
ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
ort.env.logLevel = "error";

/** @type {ort.InferenceSession.SessionOptions} */
const SESSION_OPTIONS = { executionProviders: ["wasm"], graphOptimizationLevel: "all" };

/** @type {Map<string, ort.InferenceSession>} */
const sessions = new Map();

/** The runtime's initialisation; a failure is reported by the first `load`. */
const warm = ort.InferenceSession.create(warmupModel(), SESSION_OPTIONS).then((s) => s.release());
warm.catch(() => {});

/**
 * A canvas's 2D context, read back every frame; without one the worker fails to start, which
 * the page reports (InferenceWorker's onerror).
 * @param {OffscreenCanvas} canvas
 * @returns {OffscreenCanvasRenderingContext2D}
 */
function context2d(canvas) {
  const context = canvas.getContext("2d", { willReadFrequently: true });
  if (!context) throw new Error("no 2D canvas in the inference worker");
  return context;
}

/** Canvases and tensors reused frame after frame. */
const square = new OffscreenCanvas(BROWSER_DETECTOR_INPUT, BROWSER_DETECTOR_INPUT);
const squareContext = context2d(square);
const crop = new OffscreenCanvas(ANTISPOOF_INPUT, ANTISPOOF_INPUT);
const cropContext = context2d(crop);
const detectorTensor = new Float32Array(3 * BROWSER_DETECTOR_INPUT * BROWSER_DETECTOR_INPUT);
const antispoofTensor = new Float32Array(ANTISPOOF_INPUT * ANTISPOOF_INPUT * 3);
/**
 * @param {string} name
 * @returns {ort.InferenceSession}
 */
function session(name) {
  const found = sessions.get(name);
  if (!found) throw new Error(`model ${name} is not loaded`);
  return found;
}

/**
 * Run one model on one float32 tensor; the outputs' data by name.
 * @param {string} name
 * @param {Float32Array} data
 * @param {number[]} dims
 * @returns {Promise<Record<string, Float32Array>>}
 */
async function run(name, data, dims) {
  const s = session(name);
  const outputs = await s.run({ [s.inputNames[0]]: new ort.Tensor("float32", data, dims) });
  return Object.fromEntries(Object.entries(outputs).map(([key, tensor]) => [key, /** @type {Float32Array} */ (tensor.data)]));
}

/**
 * The weak anti-spoof "real" score of one face: the square crop 1.4x the box (black outside the
 * frame), resized to 128 x 128 by the canvas.
 * @param {string} name
 * @param {ImageBitmap} bitmap
 * @param {import("./face.js").Face} face
 */
async function antispoofScore(name, bitmap, face) {
  const [left, top, right, bottom] = cropBox(face);
  cropContext.clearRect(0, 0, ANTISPOOF_INPUT, ANTISPOOF_INPUT);
  cropContext.drawImage(bitmap, left, top, right - left, bottom - top, 0, 0, ANTISPOOF_INPUT, ANTISPOOF_INPUT);
  const pixels = cropContext.getImageData(0, 0, ANTISPOOF_INPUT, ANTISPOOF_INPUT).data;
  const outputs = await run(name, antispoofInput(pixels, antispoofTensor), [1, ANTISPOOF_INPUT, ANTISPOOF_INPUT, 3]);
  return Object.values(outputs)[0][0];
}

const handlers = {
  /**
   * Create the session for one verified model from its bytes in memory.
   * @param {{name: string, bytes: ArrayBuffer}} message
   */
  async load({ name, bytes }) {
    await warm;
    const created = await ort.InferenceSession.create(new Uint8Array(bytes), SESSION_OPTIONS);
    await sessions.get(name)?.release();
    sessions.set(name, created);
    return { inputNames: [...created.inputNames], outputNames: [...created.outputNames] };
  },

  /**
   * Detect faces (YuNet on the letterboxed frame), read the pose and light, score anti-spoof.
   * @param {{bitmap: ImageBitmap, detector: string, antispoof?: string}} message
   */
  async analyze({ bitmap, detector, antispoof }) {
    try {
      return await analyzeFrame(bitmap, detector, antispoof);
    } finally {
      bitmap.close();
    }
  },
};

/**
 * @param {ImageBitmap} bitmap
 * @param {string} detector
 * @param {string} [antispoof]
 * @returns {Promise<import("./challenge.js").FrameAnalysis>}
 */
async function analyzeFrame(bitmap, detector, antispoof) {
  const started = performance.now();
  const { width, height } = bitmap;
  const fit = letterboxSize(width, height, BROWSER_DETECTOR_INPUT);
  squareContext.clearRect(0, 0, BROWSER_DETECTOR_INPUT, BROWSER_DETECTOR_INPUT); // padding: black
  squareContext.drawImage(bitmap, 0, 0, fit.width, fit.height);
  const pixels = squareContext.getImageData(0, 0, BROWSER_DETECTOR_INPUT, BROWSER_DETECTOR_INPUT).data;
  const tensor = detectorInput(pixels, BROWSER_DETECTOR_INPUT, detectorTensor);
  const prepared = performance.now();
  const outputs = await run(detector, tensor, [1, 3, BROWSER_DETECTOR_INPUT, BROWSER_DETECTOR_INPUT]);
  const detected = performance.now();
  const faces = decodeDetections(outputs, { scale: fit.scale, imageWidth: width, imageHeight: height, size: BROWSER_DETECTOR_INPUT });
  const frameLuma = meanLuma(pixels, BROWSER_DETECTOR_INPUT, [0, 0, fit.width, fit.height], 4);
  let yaw = null;
  let faceLight = null;
  let score = null;
  if (faces.length === 1) {
    const [face] = faces;
    yaw = poseCues(face.landmarks).yaw;
    const [x, y, w, h] = face.box.map((v) => v * fit.scale);
    faceLight = lumaPercentile(pixels, BROWSER_DETECTOR_INPUT, [x, y, Math.min(w, fit.width - x), Math.min(h, fit.height - y)], 0.9, 2);
    if (antispoof) score = await antispoofScore(antispoof, bitmap, face);
  }
  const finished = performance.now();
  return {
    width, height, faces, yaw, faceLight, frameLuma, antispoof: score, ms: finished - started,
    steps: { prepareMs: prepared - started, detectorMs: detected - prepared, restMs: finished - detected },
  };
}

self.onmessage = async ({ data }) => {
  const { id, type } = data;
  try {
    const handler = Object.hasOwn(handlers, type) ? handlers[/** @type {keyof typeof handlers} */ (type)] : undefined;
    if (!handler) throw new Error(`unknown message ${type}`);
    const result = await handler(data);
    self.postMessage({ id, ok: true, result });
  } catch (err) {
    self.postMessage({ id, ok: false, error: String(err instanceof Error ? err.message : err) });
  }
};
