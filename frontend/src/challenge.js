// The liveness challenge as the person performs it: guidance for each analysed frame and when
// to capture. Pure (no DOM, no clock of its own), so it is tested in node. Every rule here only
// decides WHEN a frame is taken; the server re-measures the frames and decides on liveness
// (secureface.verify.liveness): a step not met in time is captured anyway and sent.

/**
 * Capture knobs; defaults and meaning in config.js (DEFAULTS.capture).
 * @typedef {object} CaptureOptions
 * @property {number} centerMaxAbsYaw
 * @property {number} turnMargin
 * @property {number} holdFrames
 * @property {number} stepTimeoutMs
 * @property {number} minFaceHeight
 * @property {number} minFaceLight
 * @property {number} minFrameLuma
 * @property {number} maxSide
 * @property {number} jpegQuality
 */

/**
 * @typedef {object} FrameAnalysis what the worker measured on one frame
 * @property {number} width frame width, px
 * @property {number} height
 * @property {import("./face.js").Face[]} faces
 * @property {number | null} yaw of the single face
 * @property {number | null} faceLight 90th-percentile luma inside the face box (0..255)
 * @property {number} frameLuma mean luma of the frame (0..255)
 * @property {number | null} antispoof the weak "real" score of the single face (hint only)
 * @property {number} ms detector + anti-spoof time in the worker, pre/post-processing included
 * @property {{prepareMs: number, detectorMs: number, restMs: number}} steps of `ms`: frame to
 *   tensor, YuNet, decoding + anti-spoof
 */

/** Guidance codes, in the order they are checked; the sentences are in messages.js. */
export const HINTS = Object.freeze([
  "no_face", "one_face", "more_light", "move_closer", "look_straight", "turn_left", "turn_right", "hold_still",
]);

/** The direction of each turn step's yaw change (> 0: the person's own left). */
const TURN_SIGN = Object.freeze({ turn_left: 1, turn_right: -1 });

/**
 * Guidance for one frame and whether it meets the step.
 * @param {FrameAnalysis} frame
 * @param {string} step `center`, `turn_left` or `turn_right`
 * @param {number} referenceYaw the captured center frame's yaw (0 before one)
 * @param {CaptureOptions} options
 * @returns {{hint: string, met: boolean}}
 */
export function assess(frame, step, referenceYaw, options) {
  if (frame.faces.length === 0) return { hint: frame.frameLuma < options.minFrameLuma ? "more_light" : "no_face", met: false };
  if (frame.faces.length > 1) return { hint: "one_face", met: false };
  const [face] = frame.faces;
  if ((frame.faceLight ?? 255) < options.minFaceLight) return { hint: "more_light", met: false };
  const captureScale = Math.min(1, options.maxSide / Math.max(frame.width, frame.height));
  // The box height, not the eye distance: turning the head shortens the eye distance, not the box.
  if (face.box[3] * captureScale < options.minFaceHeight) return { hint: "move_closer", met: false };
  const yaw = frame.yaw ?? 0;
  if (step === "center") {
    const met = Math.abs(yaw) <= options.centerMaxAbsYaw;
    return { hint: met ? "hold_still" : "look_straight", met };
  }
  const met = progress(yaw, step, referenceYaw) >= options.turnMargin;
  return { hint: met ? "hold_still" : step, met };
}

/**
 * How far a yaw goes toward the step's pose (higher is better): -|yaw| for `center`, the yaw
 * change from the reference in the turn's direction for a turn.
 * @param {number} yaw
 * @param {string} step
 * @param {number} referenceYaw
 */
export function progress(yaw, step, referenceYaw) {
  if (step === "center") return -Math.abs(yaw);
  const sign = TURN_SIGN[step];
  if (!sign) throw new Error(`unknown challenge step ${step}`);
  return (yaw - referenceYaw) * sign;
}

/**
 * One run through the challenge's steps: feed it every analysed frame; it says when to capture.
 * A step met for `holdFrames` frames in a row is captured at once. A step not met in
 * `stepTimeoutMs` is captured anyway, with the step's best frame so far (one face, closest to the
 * pose), or the current frame if none had a face: the server decides.
 */
export class ChallengeRun {
  /**
   * @param {string[]} challenge the steps from the signed transcript
   * @param {CaptureOptions} options
   * @param {number} now ms (performance.now() or a test clock)
   */
  constructor(challenge, options, now) {
    if (!Array.isArray(challenge) || challenge.length === 0) throw new Error("empty challenge");
    for (const step of challenge) if (step !== "center" && !TURN_SIGN[step]) throw new Error(`unknown challenge step ${step}`);
    this.challenge = challenge;
    this.options = options;
    this.index = 0;
    this.held = 0;
    this.stepStarted = now;
    this.referenceYaw = 0;
    /** @type {{score: number, frame: FrameAnalysis} | null} the step's best frame so far */
    this.best = null;
    /** @type {{step: string, forced: boolean, yaw: number | null}[]} */
    this.captured = [];
  }

  /** The step being performed, or null when all are captured. */
  get step() {
    return this.index < this.challenge.length ? this.challenge[this.index] : null;
  }

  get done() {
    return this.step === null;
  }

  /**
   * Look at one analysed frame.
   * @param {FrameAnalysis} frame
   * @param {number} now ms
   * @returns {{hint: string, capture: boolean, forced: boolean, better: boolean, step: string}}
   *   capture: take a frame for the step now (then call `next`): this one, or when `forced` (the
   *   step's time ran out) the best one if there is one; better: this frame is the step's best
   */
  observe(frame, now) {
    const step = /** @type {string} */ (this.step);
    const { hint, met } = assess(frame, step, this.referenceYaw, this.options);
    const score = frame.faces.length === 1 ? progress(frame.yaw ?? 0, step, this.referenceYaw) : null;
    const better = score !== null && (this.best === null || score > this.best.score);
    if (better) this.best = { score, frame };
    this.held = met ? this.held + 1 : 0;
    if (this.held >= this.options.holdFrames) return { hint, capture: true, forced: false, better, step };
    const forced = now - this.stepStarted >= this.options.stepTimeoutMs;
    return { hint, capture: forced, forced, better, step };
  }

  /**
   * The frame was captured: remember it and move to the next step.
   * @param {FrameAnalysis | null} frame
   * @param {boolean} forced
   * @param {number} now ms
   */
  next(frame, forced, now) {
    const step = /** @type {string} */ (this.step);
    const yaw = frame && frame.faces.length === 1 ? frame.yaw : null;
    if (step === "center" && yaw !== null && !this.captured.some((c) => c.step === "center" && c.yaw !== null)) {
      this.referenceYaw = yaw;
    }
    this.captured.push({ step, forced, yaw });
    this.index += 1;
    this.held = 0;
    this.best = null;
    this.stepStarted = now;
  }

  /**
   * Time left for the current step, ms.
   * @param {number} now
   */
  remaining(now) {
    return Math.max(0, this.options.stepTimeoutMs - (now - this.stepStarted));
  }
}
