// What the person reads: one clear sentence per kind of failure, per guidance hint and per
// server decision, with what to do next, as messages (i18n.js: a catalog key and its
// parameters, rendered in the page's language by ui.js). The `reason` of a refusal is kept (for
// support) but the wording never blames the person. Every key is written out here (no key built
// from a code), so that test/i18n.test.js finds each one in the catalogs.
import { msg } from "./i18n.js";
import {
  ApiError, CameraError, ConfigError, InferenceError, ManifestError, PayloadError, ProtocolError,
} from "./protocol/errors.js";

/** @typedef {import("./i18n.js").Message} Message */
/** @typedef {string | Message} RpName the relying party's name, or a message naming it */

const CAMERA = Object.freeze({
  denied: "camera.denied", missing: "camera.missing", busy: "camera.busy", unsupported: "camera.unsupported",
  failed: "camera.failed",
});

/** The relying party's name where it is not known (no flow). */
export const SOME_SERVICE = msg("rp.fallback");

/**
 * @param {unknown} err
 * @param {RpName} [rp] who to go back to
 * @returns {Message} a message for the page
 */
export function describeError(err, rp = SOME_SERVICE) {
  if (err instanceof CameraError) return msg(CAMERA[err.kind] ?? CAMERA.failed, { rp });
  if (err instanceof ApiError) {
    const { status, code } = err;
    if (code === "network_error") return msg("error.unreachable");
    if (code === "timeout") return msg("error.timeout");
    if (code === "model_unavailable") return msg("error.model_unavailable", { status, code });
    if (code === "session_invalid") return msg("error.session_invalid", { rp });
    if (code === "invalid_client_token") return msg("error.client_token", { rp });
    if (status === 429 || code === "service_unavailable") return msg("error.busy", { status, code });
    if (status === 0) return msg("error.unreachable");
    return msg("error.api", { status, code, message: err.message });
  }
  if (err instanceof ManifestError) {
    return msg(err.reason.startsWith("rollback") ? "error.rollback" : "error.manifest", { reason: err.reason });
  }
  if (err instanceof ProtocolError) {
    if (err.reason.startsWith("verify answer")) return msg("error.answer", { reason: err.reason });
    if (err.reason.startsWith("flow")) return msg("error.flow", { reason: err.reason });
    return msg("error.channel", { reason: err.reason });
  }
  if (err instanceof PayloadError) return msg("error.payload", { reason: err.message });
  if (err instanceof ConfigError) return msg("error.config", { reason: err.message });
  if (err instanceof InferenceError) return msg("error.inference", { reason: err.message });
  return msg("error.unexpected", { reason: err instanceof Error ? err.message : String(err) });
}

/** The instruction for each move (the person's own directions): catalog keys. */
/** @type {Readonly<Record<string, string>>} */
export const MOVE_LABELS = Object.freeze({
  center: "move.center",
  left: "move.left",
  right: "move.right",
  up: "move.up",
  down: "move.down",
});

/** An arrow for each move, as seen in the mirrored preview. */
/** @type {Readonly<Record<string, string>>} */
export const MOVE_ARROWS = Object.freeze({ center: "●", left: "←", right: "→", up: "↑", down: "↓" });

/** Guidance for each hint of challenge.js (`assess` before the challenge, `assessDuring` in
 * it): catalog keys. */
/** @type {Readonly<Record<string, string>>} */
export const HINT_TEXT = Object.freeze({
  no_face: "hint.no_face",
  one_face: "hint.one_face",
  more_light: "hint.more_light",
  move_closer: "hint.move_closer",
  look_straight: "hint.look_straight",
  ready: "hint.ready",
});

/** What the purpose of a transaction is called (protocol/limits.js PURPOSES): the consent's lead sentence
 * and the short name used inside the notice. */
export const PURPOSE_TEXT = Object.freeze({
  sign_in: ["purpose.sign_in", "purpose.short.sign_in"],
  step_up: ["purpose.step_up", "purpose.short.step_up"],
  recovery: ["purpose.recovery", "purpose.short.recovery"],
});

/** The server's decision and liveness check, as details of the result. */
/** @type {Readonly<Record<string, string>>} */
export const DECISION_TEXT = Object.freeze({
  verified: "decision.verified", not_verified: "decision.not_verified", locked: "decision.locked",
});
/** @type {Readonly<Record<string, string>>} */
export const ASSURANCE_TEXT = Object.freeze({ light: "assurance.light", motion: "assurance.motion" });

/**
 * @typedef {object} DecisionView
 * @property {Message} title
 * @property {Message} text
 * @property {Message} next
 * @property {boolean} alternative whether the relying party's other way to sign in is offered
 */

/**
 * What the server decided, in plain words, and what to do next: always to continue to the
 * relying party (a transaction has one attempt). The server never says which liveness signal
 * refused (no oracle for an attacker): only a hint the person can act on.
 * @param {{decision: string, hint: string}} answer
 * @param {RpName} rp
 * @returns {DecisionView}
 */
export function describeDecision({ decision, hint }, rp) {
  if (decision === "verified") {
    return {
      title: msg("result.verified.title"), text: msg("result.verified.text"), next: msg("result.verified.next", { rp }),
      alternative: false,
    };
  }
  if (decision === "locked") {
    return {
      title: msg("result.locked.title"), text: msg("result.locked.text"), next: msg("result.locked.next", { rp }),
      alternative: true,
    };
  }
  /** @type {Readonly<Record<string, readonly string[]>>} */
  const refusals = REFUSALS;
  const [text, advice] = (Object.hasOwn(refusals, hint) ? refusals[hint] : undefined) ?? refusals[""];
  return {
    title: msg("result.not_verified.title"), text: msg(text),
    next: msg("result.not_verified.next", { advice: msg(advice), rp }), alternative: true,
  };
}

const REFUSALS = Object.freeze({
  no_face: ["refusal.no_face", "advice.no_face"],
  multiple_faces: ["refusal.multiple_faces", "advice.multiple_faces"],
  too_dark: ["refusal.too_dark", "advice.too_dark"],
  too_far: ["refusal.too_far", "advice.too_far"],
  moves_not_followed: ["refusal.moves_not_followed", "advice.moves_not_followed"],
  "": ["refusal.generic", "advice.generic"],
});
