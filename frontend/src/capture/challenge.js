// The liveness challenge as the page performs it: parse the server's challenge from the signed
// transcript (as strictly as secureface.sessions.challenge.Challenge.check), and tell at any time
// of the capture which colour to show and which move to ask for. Pure (no DOM, no clock of its
// own), so it is tested in node. The page only shows and captures: the server re-reads the
// challenge from its own record and decides (secureface.verify.liveness).

// The challenge's constants (palette, moves, light bounds) are the protocol's: protocol/limits.js.
import {
  CENTER, DIRECTIONS, LIGHT_MAX_MS, LIGHT_MIN_MS, MIN_INTERVALS, MODES, MOVE_COUNT, PALETTE,
} from "../protocol/limits.js";

/**
 * @typedef {object} Challenge
 * @property {"light" | "motion"} mode
 * @property {string[]} moves `center` then the moves
 * @property {number} moveMs time given to each move
 * @property {[string, number][]} light `[colour, duration_ms]` covering the capture
 * @property {number} captureMs
 */

/** Guidance codes before the capture, in the order they are checked; sentences in messages.js. */
export const HINTS = Object.freeze(["no_face", "one_face", "more_light", "move_closer", "look_straight", "ready"]);

const isInt = (/** @type {unknown} */ v) => Number.isInteger(v);

/**
 * Parse a challenge; throws on anything the server could not have drawn.
 * @param {any} raw the transcript's `challenge`
 * @returns {Readonly<Challenge>}
 */
export function parseChallenge(raw) {
  /** @type {(why: string) => never} */
  const fail = (why) => { throw new Error(`challenge ${why}`); };
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) fail("is not an object");
  const { mode, moves, move_ms: moveMs, light } = raw;
  if (!MODES.includes(mode)) fail("mode");
  if (!Array.isArray(moves) || moves.length !== MOVE_COUNT + 1 || moves[0] !== CENTER
    || !moves.slice(1).every((m) => DIRECTIONS.includes(m)) || moves.some((m, i) => i > 0 && m === moves[i - 1])) fail("moves");
  if (!isInt(moveMs) || moveMs < 500 || moveMs > 5000) fail("move time");
  if (!Array.isArray(light)) fail("light");
  const captureMs = moveMs * moves.length;
  if (mode === "motion") {
    if (light.length) fail("light in motion mode");
  } else {
    const ok = light.length >= MIN_INTERVALS
      && light.every((/** @type {any} */ i) => Array.isArray(i) && i.length === 2 && Object.hasOwn(PALETTE, i[0]) && isInt(i[1])
        && i[1] >= LIGHT_MIN_MS && i[1] <= LIGHT_MAX_MS + LIGHT_MIN_MS)
      && light.every((/** @type {any} */ i, /** @type {number} */ k) => k === 0 || i[0] !== light[k - 1][0])
      && light.reduce((/** @type {number} */ sum, /** @type {any} */ i) => sum + i[1], 0) === captureMs;
    if (!ok) fail("light schedule");
  }
  return /** @type {Readonly<Challenge>} */ (Object.freeze({
    mode, moves: Object.freeze([...moves]), moveMs, captureMs,
    light: Object.freeze(light.map((/** @type {[string, number]} */ [c, d]) => Object.freeze([c, d]))),
  }));
}

/**
 * The colour shown at `t` ms of the capture, or null outside it (or in motion mode).
 * @param {Challenge} challenge
 * @param {number} t
 * @returns {string | null}
 */
export function colourAt(challenge, t) {
  if (t < 0) return null;
  let start = 0;
  for (const [colour, duration] of challenge.light) {
    if (t < start + duration) return colour;
    start += duration;
  }
  return null;
}

/**
 * The move asked for at `t` ms of the capture, or null outside it.
 * @param {Challenge} challenge
 * @param {number} t
 * @returns {{index: number, move: string, start: number} | null}
 */
export function moveAt(challenge, t) {
  if (t < 0 || t >= challenge.captureMs) return null;
  const index = Math.floor(t / challenge.moveMs);
  return { index, move: challenge.moves[index], start: index * challenge.moveMs };
}

/** `rgb(r g b)` of a palette colour. @param {string} colour */
export const cssColour = (colour) => `rgb(${PALETTE[/** @type {keyof typeof PALETTE} */ (colour)].join(" ")})`;

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
 * @property {{prepareMs: number, detectorMs: number, restMs: number}} steps of `ms`
 */

/**
 * Guidance for one frame before the capture starts: is the face placed well enough?
 * @param {FrameAnalysis} frame
 * @param {{centerMaxAbsYaw: number, minFaceHeight: number, minFaceLight: number, minFrameLuma: number, maxSide: number}} options
 * @returns {{hint: string, ready: boolean}}
 */
export function assess(frame, options) {
  if (frame.faces.length === 0) return { hint: frame.frameLuma < options.minFrameLuma ? "more_light" : "no_face", ready: false };
  if (frame.faces.length > 1) return { hint: "one_face", ready: false };
  const [face] = frame.faces;
  if ((frame.faceLight ?? 255) < options.minFaceLight) return { hint: "more_light", ready: false };
  const scale = Math.min(1, options.maxSide / Math.max(frame.width, frame.height));
  if (face.box[3] * scale < options.minFaceHeight) return { hint: "move_closer", ready: false };
  if (Math.abs(frame.yaw ?? 0) > options.centerMaxAbsYaw) return { hint: "look_straight", ready: false };
  return { hint: "ready", ready: true };
}

/**
 * Guidance during the challenge: what the person can fix while following the moves (the head
 * turns on purpose, so the pose is not judged). "" when nothing needs fixing.
 * @param {FrameAnalysis} frame
 * @param {{minFaceHeight: number, minFaceLight: number, minFrameLuma: number, maxSide: number}} options
 * @returns {"" | "no_face" | "one_face" | "more_light" | "move_closer"}
 */
export function assessDuring(frame, options) {
  const { hint } = assess(frame, { ...options, centerMaxAbsYaw: Infinity });
  return hint === "ready" ? "" : /** @type {"no_face" | "one_face" | "more_light" | "move_closer"} */ (hint);
}
