// What the person reads: one clear sentence per kind of failure, per guidance hint and per
// server decision, with what to do next. The `reason` of a refusal is kept (for support) but
// the wording never blames the person.
import { ApiError } from "./api.js";
import { CameraError } from "./camera.js";
import { ConfigError } from "./config.js";
import { ManifestError, ProtocolError } from "./errors.js";
import { InferenceError } from "./inference.js";
import { PayloadError } from "./verify.js";

const CAMERA = {
  denied: "Camera access was refused, so we cannot verify you. Allow the camera for this site "
    + "(the camera icon in the address bar, or your browser's site settings), then press Try again.",
  missing: "No camera was found. Connect a camera, or use a device that has one, then press Try again.",
  busy: "The camera could not be started: another application may be using it. Close video calls "
    + "or other camera apps, then press Try again.",
  unsupported: "This browser cannot use the camera on this page. Use a recent Chrome, Edge, Firefox "
    + "or Safari.",
  failed: "The camera could not be started. Press Try again, or restart your browser.",
};

/**
 * @param {unknown} err
 * @returns {string} a message for the page
 */
export function describeError(err) {
  if (err instanceof CameraError) return CAMERA[err.kind] ?? CAMERA.failed;
  if (err instanceof ApiError) {
    if (err.status === 0) return err.message; // unreachable or timed out: already worded
    if (err.code === "model_unavailable") {
      return "Refused to start: a face model on the server does not match the signed model manifest "
        + `(it may have been replaced), so nothing was run. Please try again later (${err.status} ${err.code}).`;
    }
    if (err.code === "session_invalid") {
      return "This attempt took too long and its secure session expired. Press Try again to start a new one.";
    }
    if (err.status === 429 || err.code === "service_unavailable") {
      return `The service is busy or unavailable right now (${err.status} ${err.code}). Please try again in a few minutes.`;
    }
    return `The service answered with an error (${err.status} ${err.code}): ${err.message}`;
  }
  if (err instanceof ManifestError) {
    if (err.reason.startsWith("rollback")) {
      return "Refused: the server offered an older model manifest than this browser has already "
        + `accepted, a possible rollback attack (${err.reason}).`;
    }
    return `Refused: the model manifest could not be verified against the pinned server key (${err.reason}).`;
  }
  if (err instanceof ProtocolError) {
    if (err.reason.startsWith("assertion") || err.reason.startsWith("verify answer")) {
      return `Refused: the server's answer could not be verified, so it is not shown (${err.reason}). Press Try again.`;
    }
    return `Refused: the secure channel to the server could not be verified (${err.reason}).`;
  }
  if (err instanceof PayloadError) return `The photos cannot be sent: ${err.message}.`;
  if (err instanceof ConfigError) return `The app is misconfigured: ${err.message}.`;
  if (err instanceof InferenceError) return `The face models were verified but could not run: ${err.message}.`;
  return `Unexpected error: ${err instanceof Error ? err.message : String(err)}`;
}

/** The instruction for each move (the person's own directions). */
export const MOVE_LABELS = Object.freeze({
  center: "Look at the camera",
  left: "Turn your head to your left",
  right: "Turn your head to your right",
  up: "Look up",
  down: "Look down",
});

/** An arrow for each move, as seen in the mirrored preview. */
export const MOVE_ARROWS = Object.freeze({ center: "●", left: "←", right: "→", up: "↑", down: "↓" });

/** Guidance for each hint of challenge.js (`assess` before the challenge, `assessDuring` in it). */
export const HINT_TEXT = Object.freeze({
  no_face: "Look at the camera: we cannot see your face.",
  one_face: "Only one face, please: make sure nobody else is in view.",
  more_light: "More light, please: face a window or a lamp.",
  move_closer: "Move closer to the camera.",
  look_straight: "Look straight at the screen.",
  ready: "Good — hold still, starting…",
});

/**
 * What the server decided, in plain words, and what to do next. The server never says which
 * liveness signal refused (no oracle for an attacker): only a hint the person can act on.
 * @param {{decision: string, hint: string}} assertion
 * @returns {{title: string, text: string, next: string, retry: boolean}}
 */
export function describeDecision({ decision, hint }) {
  if (decision === "verified") {
    return { title: "Verified", text: "The server confirmed it is you.", next: "You can close this page or continue where you were.", retry: false };
  }
  if (decision === "locked") {
    return {
      title: "Locked for now",
      text: "There were too many unsuccessful attempts, so verification is paused for your security.",
      next: "Please try again in 30 minutes. If this keeps happening, contact support.",
      retry: false,
    };
  }
  const [text, next] = HINTS[hint] ?? HINTS[""];
  return { title: "Not verified", text, next, retry: true };
}

const HINTS = {
  no_face: ["We could not see your face clearly during the check.",
    "Face the screen in good light, close enough that your face fills about a third of the picture."],
  multiple_faces: ["More than one face was in view.", "Make sure only you are in front of the camera, then try again."],
  too_dark: ["Your face was too dark to see the screen's colours on it.",
    "Turn your screen's brightness up, come a little closer to the screen, and try again."],
  too_far: ["Your face was too far from the camera.", "Come closer, so that your face fills about a third of the picture."],
  moves_not_followed: ["The head movements we asked for were not seen in time.",
    "Follow each instruction as it appears — turn or tilt your head clearly, then come back to the centre."],
  "": ["We could not verify you.",
    "Make sure your face is well lit by the screen, follow the moves, and try again."],
};
