// The capture loop: every new camera frame goes to the worker for analysis; the challenge run
// (challenge.js) says when the current step is met, and that very frame is encoded as JPEG by the
// worker (or, when the step's time is up, the step's best frame, which the worker keeps). One
// frame is in flight at a time, so the page never queues work it cannot keep up with.
import { ChallengeRun } from "./challenge.js";
import { MAX_FRAME_BYTES } from "./verify.js";

/** Longest wait for a new video frame before analysing the current one again. */
const FRAME_WAIT_MS = 250;

/**
 * @typedef {object} FrameEvent
 * @property {import("./challenge.js").FrameAnalysis} analysis
 * @property {{hint: string, capture: boolean, forced: boolean, step: string}} verdict
 * @property {ChallengeRun} run
 * @property {number} now ms
 */

/**
 * Perform the challenge in front of the camera.
 * @param {object} options
 * @param {HTMLVideoElement} options.video playing
 * @param {import("./inference.js").InferenceWorker} options.worker with the models loaded
 * @param {{detector: string, antispoof?: string}} options.models model names by role
 * @param {string[]} options.challenge steps from the signed transcript
 * @param {import("./challenge.js").CaptureOptions} options.capture
 * @param {(event: FrameEvent) => void} [options.onFrame] after each analysed frame
 * @param {(step: string, index: number, forced: boolean) => void} [options.onCapture]
 * @param {AbortSignal} [options.signal]
 * @returns {Promise<import("./verify.js").CapturedFrame[]>} one JPEG per step, in order
 */
export async function performChallenge({ video, worker, models, challenge, capture, onFrame = () => {}, onCapture = () => {}, signal }) {
  const run = new ChallengeRun(challenge, capture, performance.now());
  const frames = [];
  let bestAt = 0;
  try {
    while (!run.done) {
      signal?.throwIfAborted();
      await nextVideoFrame(video, signal);
      const capturedAt = Date.now();
      const analysis = await worker.analyze(await createImageBitmap(video), models);
      signal?.throwIfAborted();
      const now = performance.now();
      const verdict = run.observe(analysis, now);
      onFrame({ analysis, verdict, run, now });
      if (verdict.better) {
        await worker.remember();
        bestAt = capturedAt;
      }
      if (!verdict.capture) continue;
      const best = verdict.forced ? run.best : null;
      const jpeg = await worker.encode({
        maxSide: capture.maxSide, quality: capture.jpegQuality, maxBytes: MAX_FRAME_BYTES, source: best ? "best" : "last",
      });
      frames.push({ bytes: new Uint8Array(jpeg.bytes), capturedAt: best ? bestAt : capturedAt });
      run.next(best ? best.frame : analysis, verdict.forced, performance.now());
      onCapture(verdict.step, frames.length - 1, verdict.forced);
    }
  } finally {
    worker.drop();
  }
  return frames;
}

/**
 * Resolve when the video shows a new frame (requestVideoFrameCallback where available), or
 * after FRAME_WAIT_MS at most, so a stalled camera never hangs the loop.
 * @param {HTMLVideoElement} video
 * @param {AbortSignal} [signal]
 * @returns {Promise<void>}
 */
function nextVideoFrame(video, signal) {
  return new Promise((resolve, reject) => {
    let handle = 0;
    const done = () => {
      clearTimeout(timer);
      if (handle && video.cancelVideoFrameCallback) video.cancelVideoFrameCallback(handle);
      signal?.removeEventListener("abort", abort);
      resolve();
    };
    const abort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(done, video.requestVideoFrameCallback ? FRAME_WAIT_MS : 66);
    if (video.requestVideoFrameCallback) handle = video.requestVideoFrameCallback(done);
    signal?.addEventListener("abort", abort, { once: true });
  });
}
