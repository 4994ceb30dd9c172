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

/** The instruction for each challenge step. */
export const STEP_LABELS = Object.freeze({
  center: "Look at the camera",
  turn_left: "Turn to your left",
  turn_right: "Turn to your right",
});

/** Guidance for each hint of challenge.js. */
export const HINT_TEXT = Object.freeze({
  no_face: "Look at the camera: we cannot see your face.",
  one_face: "Only one face, please: make sure nobody else is in view.",
  more_light: "More light, please: face a window or a lamp.",
  move_closer: "Move closer to the camera.",
  look_straight: "Look straight at the camera.",
  turn_left: "Slowly turn your head to your left.",
  turn_right: "Slowly turn your head to your right.",
  hold_still: "Good — hold still…",
});

/**
 * What the server decided, in plain words, and what to do next.
 * @param {{decision: string, reason: string}} assertion
 * @returns {{title: string, text: string, next: string, retry: boolean}}
 */
export function describeDecision({ decision, reason }) {
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
  const [text, next] = REASONS[reason] ?? REASONS.default;
  return { title: "Not verified", text, next, retry: true };
}

const REASONS = {
  no_face: ["We could not see exactly one clear face in every photo.",
    "Face the camera in good light, close enough that your face fills about a third of the picture."],
  multiple_faces: ["More than one face was in view.", "Make sure only you are in front of the camera, then try again."],
  repeated_frame: ["The photos were identical, as if they came from a still picture rather than a live camera.",
    "Use a live camera and follow the head movements when asked."],
  liveness_failed: ["The head movements we asked for were not seen.",
    "When asked, turn your head clearly to the side named (your own left or right), then back."],
  identity_changed: ["The photos did not all show the same person.", "Stay in front of the camera for the whole check."],
  spoof_suspected: ["The photos looked like a picture or a screen rather than a live person.",
    "Make sure you are in front of the camera yourself, in good light, and try again."],
  no_match: ["Your face did not match the one enrolled for this user ID.",
    "Check the user ID, then try again in good light, looking at the camera."],
  default: ["The server could not verify you.", "Please try again."],
};
