// The capture: first guidance until the face is placed (the worker analyses frames: placeFace),
// then the challenge itself (recordChallenge). Time zero is the requestAnimationFrame timestamp
// at which the first colour of the light schedule is painted; from then on, for `captureMs`,
// every animation frame shows the schedule's colour and the move of the moment (challenge.js),
// and camera frames, paced at `fps` a second, are drawn UNMIRRORED into a small canvas and kept
// as JPEG with their capture time relative to time zero (requestVideoFrameCallback's
// captureTime where the browser has it).
// Guidance goes on during the challenge on some of those small frames (one in flight, never
// awaited by the grabbing). The server re-reads the challenge from its own record and decides;
// the page only shows and records.
import { assess, assessDuring, colourAt, moveAt } from "./challenge.js";
import { MAX_FRAME_BYTES, MAX_FRAMES, MAX_PAYLOAD } from "../protocol/limits.js";
import { CameraError } from "../protocol/errors.js";

/** Longest wait for a new video frame before looking again. */
const FRAME_WAIT_MS = 250;
/** Longest guidance before the capture starts anyway (the server decides). */
const GUIDANCE_TIMEOUT_MS = 20_000;
/** Consecutive well-placed frames before the capture starts. */
const READY_FRAMES = 3;
/** Least time between two frames analysed for guidance during the challenge (the detector only:
 * the anti-spoof score guides nothing, and the CPU is busy with the burst). */
const WATCH_MS = 333;
/** Room left in the payload for its metadata. */
const META_BYTES = 8192;

/**
 * @typedef {object} CapturedFrame
 * @property {Uint8Array} bytes JPEG, as the camera recorded it (not mirrored)
 * @property {number} t capture time, ms from time zero (may be slightly negative)
 */

/**
 * @typedef {object} CaptureHooks
 * @property {(analysis: import("./challenge.js").FrameAnalysis, hint: string, capturing: boolean) => void} [onGuide]
 *   after each analysed frame: before the challenge (`capturing` false: a hint of challenge.js
 *   HINTS) and during it (true: assessDuring's hint, "" when the face is fine)
 * @property {(colour: string | null, move: {index: number, move: string, start: number} | null, t: number, t0: number) => void} [onTick]
 *   every animation frame of the capture (colour null: none; move null: capture over); `t0` is
 *   time zero on the performance.now() clock
 */

/**
 * Guide the person until the face is well placed for READY_FRAMES frames (or the time is up).
 * No session is needed yet: main.js opens the attempt's session (which uses the transaction's
 * token up) only once the face is placed, then calls recordChallenge.
 * @param {object} options
 * @param {HTMLVideoElement} options.video playing
 * @param {import("./inference.js").InferenceWorker} options.worker with the models loaded
 * @param {{detector: string, antispoof?: string}} options.models model names by role
 * @param {{centerMaxAbsYaw: number, minFaceHeight: number, minFaceLight: number, minFrameLuma: number, maxSide: number}} options.capture
 * @param {CaptureHooks} [options.hooks] `onGuide` (with `capturing` false)
 * @param {AbortSignal} [options.signal]
 * @returns {Promise<void>}
 */
export async function placeFace({ video, worker, models, capture, hooks = {}, signal }) {
  const onGuide = hooks.onGuide ?? (() => {});
  const started = performance.now();
  let ready = 0;
  while (ready < READY_FRAMES && performance.now() - started < GUIDANCE_TIMEOUT_MS) {
    signal?.throwIfAborted();
    await nextVideoFrame(video, signal);
    const analysis = await worker.analyze(await createImageBitmap(video), models);
    signal?.throwIfAborted();
    const verdict = assess(analysis, capture);
    ready = verdict.ready ? ready + 1 : 0;
    onGuide(analysis, verdict.hint, false);
  }
}

/**
 * Perform the challenge: show the schedule and record the burst.
 * @param {object} options
 * @param {HTMLVideoElement} options.video playing
 * @param {import("./inference.js").InferenceWorker} options.worker with the models loaded
 * @param {{detector: string, antispoof?: string}} options.models model names by role
 * @param {import("./challenge.js").Challenge} options.challenge the session's
 * @param {{fps: number, maxSide: number, jpegQuality: number, centerMaxAbsYaw: number, minFaceHeight: number, minFaceLight: number, minFrameLuma: number}} options.capture
 * @param {CaptureHooks} [options.hooks]
 * @param {AbortSignal} [options.signal]
 * @returns {Promise<CapturedFrame[]>}
 */
export async function recordChallenge({ video, worker, models, challenge, capture, hooks = {}, signal }) {
  return record({
    video, worker, models, challenge, capture, onGuide: hooks.onGuide ?? (() => {}), onTick: hooks.onTick ?? (() => {}), signal,
  });
}

/**
 * Frames to keep a second for a capture of `captureMs`: `fps`, fewer if the burst would exceed
 * the server's frame limit (a longer `move_ms`).
 * @param {number} fps
 * @param {number} captureMs
 */
export const burstFps = (fps, captureMs) => Math.min(fps, (MAX_FRAMES - 6) / (captureMs / 1000));

/**
 * A pacer for frames arriving at the camera's rate: `keep(t)` says whether the frame captured at
 * `t` ms is kept, so that about `fps` a second are (12 of a 30 fps camera: gaps of 2 and 3
 * frames, not a flat every third). A camera that stalls restarts the pace; it never catches up
 * with a rush of frames.
 * @param {number} fps
 * @returns {(t: number) => boolean}
 */
export function framePacer(fps) {
  const period = 1000 / fps;
  const tolerance = Math.min(10, period / 4); // timestamps jitter by a few ms
  let due = -Infinity;
  return (t) => {
    if (t < due - tolerance) return false;
    due = t - due > period ? t + period : due + period;
    return true;
  };
}

/**
 * Show the schedule and record the burst.
 * @param {{video: HTMLVideoElement, worker: import("./inference.js").InferenceWorker, models: {detector: string, antispoof?: string}, challenge: import("./challenge.js").Challenge, capture: {fps: number, maxSide: number, jpegQuality: number, minFaceHeight: number, minFaceLight: number, minFrameLuma: number}, onGuide: NonNullable<CaptureHooks["onGuide"]>, onTick: NonNullable<CaptureHooks["onTick"]>, signal?: AbortSignal}} options
 * @returns {Promise<CapturedFrame[]>}
 */
async function record({ video, worker, models, challenge, capture, onGuide, onTick, signal }) {
  const t0 = await paintFirst(challenge, onTick);
  const scale = Math.min(1, capture.maxSide / Math.max(video.videoWidth, video.videoHeight));
  const canvas = new OffscreenCanvas(Math.round(video.videoWidth * scale), Math.round(video.videoHeight * scale));
  const context = canvas.getContext("2d");
  if (!context) throw new CameraError("unsupported", "no 2D canvas to draw frames on");
  const fps = burstFps(capture.fps, challenge.captureMs);
  const keep = framePacer(fps);
  // Each frame's share of the 1 MiB payload; the JPEG quality steps down when a frame is over it.
  const budget = Math.min(MAX_FRAME_BYTES, (MAX_PAYLOAD - META_BYTES) / (fps * challenge.captureMs / 1000 + 4));
  let quality = capture.jpegQuality;
  /** @type {Promise<CapturedFrame>[]} */
  const pending = [];
  let animation = 0;
  let capturing = true;
  const tick = (/** @type {number} */ now) => {
    const t = now - t0;
    onTick(colourAt(challenge, t), moveAt(challenge, t), t, t0);
    if (t < challenge.captureMs) animation = requestAnimationFrame(tick);
  };
  animation = requestAnimationFrame(tick);
  // Guidance during the challenge, on the small frame just drawn: never awaited here.
  let watching = false;
  let watched = -Infinity;
  const watch = (/** @type {number} */ t) => {
    if (watching || t - watched < WATCH_MS) return;
    watching = true;
    watched = t;
    createImageBitmap(canvas)
      .then((bitmap) => worker.analyze(bitmap, { detector: models.detector }))
      .then((analysis) => { if (capturing) onGuide(analysis, assessDuring(analysis, capture), true); })
      .catch(() => {}) // a hint only: the burst goes on
      .finally(() => { watching = false; });
  };
  try {
    for (;;) {
      signal?.throwIfAborted();
      const captured = await nextVideoFrame(video, signal);
      const t = captured - t0;
      if (t >= challenge.captureMs) break;
      if (pending.length >= MAX_FRAMES || !keep(t)) continue;
      context.drawImage(video, 0, 0, canvas.width, canvas.height); // unmirrored
      pending.push(toJpeg(canvas, quality).then((bytes) => {
        if (bytes.length > budget) quality = Math.max(0.4, quality - 0.1);
        return { bytes, t: Math.round(t) };
      }));
      watch(t);
    }
  } finally {
    capturing = false;
    cancelAnimationFrame(animation);
    onTick(null, null, challenge.captureMs, t0);
  }
  return fitPayload(await Promise.all(pending));
}

/**
 * Paint the first colour and resolve with its animation-frame timestamp: time zero.
 * @param {import("./challenge.js").Challenge} challenge
 * @param {NonNullable<CaptureHooks["onTick"]>} onTick
 * @returns {Promise<number>}
 */
function paintFirst(challenge, onTick) {
  return new Promise((resolve) => {
    requestAnimationFrame((now) => {
      onTick(colourAt(challenge, 0), moveAt(challenge, 0), 0, now);
      resolve(now);
    });
  });
}

/**
 * @param {OffscreenCanvas} canvas
 * @param {number} quality
 * @returns {Promise<Uint8Array>}
 */
async function toJpeg(canvas, quality) {
  const blob = await canvas.convertToBlob({ type: "image/jpeg", quality });
  return new Uint8Array(await blob.arrayBuffer());
}

/**
 * Keep the burst inside the server's limits, as a last resort after the quality steps: drop
 * oversized frames, then one frame in four until the whole fits.
 * @param {CapturedFrame[]} frames
 * @returns {CapturedFrame[]}
 */
export function fitPayload(frames) {
  let kept = frames.filter((f) => f.bytes.length <= MAX_FRAME_BYTES);
  const budget = MAX_PAYLOAD - META_BYTES;
  while (kept.length > 1 && kept.reduce((sum, f) => sum + f.bytes.length, 0) > budget) {
    kept = kept.filter((_, i) => i % 4 !== 3); // drop one frame in four
  }
  return kept;
}

/**
 * Resolve with the capture time (performance.now() clock) of the next video frame: the
 * frame's `captureTime` where the browser reports it, else its expected display time, else now.
 * A stalled camera resolves after FRAME_WAIT_MS with the current time.
 * @param {HTMLVideoElement} video
 * @param {AbortSignal} [signal]
 * @returns {Promise<number>}
 */
function nextVideoFrame(video, signal) {
  return new Promise((resolve, reject) => {
    let handle = 0;
    // requestVideoFrameCallback is missing in older browsers (Firefox before 132): feature-tested.
    const frames = /** @type {Partial<HTMLVideoElement>} */ (video);
    /** @param {number} now @param {VideoFrameCallbackMetadata} [metadata] */
    const done = (now, metadata) => {
      clearTimeout(timer);
      if (handle && frames.cancelVideoFrameCallback) frames.cancelVideoFrameCallback(handle);
      signal?.removeEventListener("abort", abort);
      resolve(metadata?.captureTime ?? metadata?.expectedDisplayTime ?? performance.now());
    };
    const abort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => done(performance.now()), frames.requestVideoFrameCallback ? FRAME_WAIT_MS : 40);
    if (frames.requestVideoFrameCallback) handle = frames.requestVideoFrameCallback(done);
    signal?.addEventListener("abort", abort, { once: true });
  });
}
