// Entry point. At page open the models are loaded and checked in the background (loader.js);
// the person reads the consent screen and enters a user ID; then: camera → a fresh session whose
// signed transcript names the challenge (moves and light schedule) → guidance until the face is
// placed, then the challenge: the screen shows the server's colours while the person follows the
// moves and the page records a burst of frames (capture.js) → encrypted verify and the server's
// signed decision (verify.js) → result, with a retry that opens a new session. Every failure ends
// on a message, never on a spinner.
import { CameraError, openCamera, stopCamera } from "./camera.js";
import { performChallenge } from "./capture.js";
import { InferenceWorker } from "./inference.js";
import { mark, prepare } from "./loader.js";
import { describeDecision, describeError } from "./messages.js";
import { openSession } from "./session.js";
import {
  drawOverlay, setStartEnabled, showCaptureHint, showChallenge, showFrameStats, showGuidance, showManifest, showModels, showPhase,
  showProgress, showResult, showStatus, showSteps, showSubjectError, subjectInput, videoElement,
} from "./ui.js";
import { SUBJECT_RE, submitVerification } from "./verify.js";

/** Per-frame analysis times kept for `#frame-stats`. */
const TIMINGS_KEPT = 300;

const worker = new InferenceWorker(); // starts loading its bundle while we talk to the API
/** @type {{stream: MediaStream | null, abort: AbortController | null, timings: number[], liveness: "light" | "motion"}} */
const current = { stream: null, abort: null, timings: [], liveness: "light" };
const cancelButton = /** @type {HTMLButtonElement} */ (document.getElementById("cancel"));

const ready = prepare({
  worker,
  onStep: (text) => showStatus(text, "loading"),
  onConfig: (config) => {
    if (!subjectInput().value) subjectInput().value = config.defaultSubject;
    document.getElementById("start-motion").hidden = !config.allowMotionOnly;
    document.getElementById("motion-alternative-text").textContent = config.allowMotionOnly
      ? "; use the check without flashing colours below" : "; ask for another way to verify";
  },
  onManifest: showManifest,
  onProgress: showProgress,
}).then((prepared) => {
  showModels(prepared.summary, prepared.timing);
  showStatus(`Ready: ${prepared.summary.length} face models verified and loaded.`, "ready");
  return prepared;
}, (err) => {
  worker.terminate();
  console.error(err);
  showStatus(describeError(err), "error");
  setStartEnabled(false, "Cannot start");
  throw err;
});
ready.catch(() => {}); // reported above; attempts await it again

/**
 * One verification attempt, from the camera to the result screen.
 * @param {string} subjectId
 * @param {"light" | "motion"} liveness
 */
async function attempt(subjectId, liveness) {
  const abort = new AbortController();
  current.abort = abort;
  const video = videoElement();
  cancelButton.hidden = false;
  showPhase("capture");
  showSteps([], 0);
  showCaptureHint("");
  drawOverlay(null, false);
  showGuidance("", "Starting the camera…");
  mark("attempt");
  try {
    current.stream = await openCamera(video);
    abort.signal.throwIfAborted();
    showGuidance("", "Getting the face models ready…");
    const prepared = await ready;
    abort.signal.throwIfAborted();
    showGuidance("", "Opening a secure session…");
    const session = await openSession(prepared.config.apiUrl, prepared.key, { liveness });
    abort.signal.throwIfAborted();
    const { challenge } = session;
    showSteps(challenge.moves, -1);
    const frames = await performChallenge({
      video, worker, models: prepared.models, challenge, capture: prepared.config.capture, signal: abort.signal,
      hooks: {
        onGuide: (analysis, hint, capturing) => {
          drawOverlay(analysis, capturing ? hint === "" : hint === "ready");
          if (capturing) showCaptureHint(hint);
          else showGuidance(hint);
          current.timings.push(analysis.ms);
          if (current.timings.length > TIMINGS_KEPT) current.timings.shift();
          showFrameStats(current.timings, analysis);
        },
        onTick: (colour, move, t, t0) => {
          showChallenge(colour, move, t0);
          showSteps(challenge.moves, move ? move.index : challenge.moves.length);
        },
      },
    });
    mark("captured");
    cancelButton.hidden = true; // the frames are about to be sent: the server will decide
    stopCamera(current.stream, video);
    current.stream = null;
    drawOverlay(null, false);
    showCaptureHint("");
    showGuidance("", "Checking with the server…");
    const { assertion, bundle } = await submitVerification({
      apiUrl: prepared.config.apiUrl, session, pinnedKey: prepared.key, subjectId, frames,
    });
    mark("result");
    showResult({
      ...describeDecision(assertion), decision: assertion.decision, reason: assertion.hint, bundle,
      sessionId: session.sessionId,
      details: [
        ["User ID", assertion.subjectId],
        ["Server decision", assertion.decision],
        ["Liveness check", assertion.assurance === "light" ? "light and motion" : "motion only (lower assurance)"],
        ["Frames sent", String(frames.length)],
        ["Signature", "checked against the pinned server key"],
        ["Valid until", new Date(assertion.expiresAt * 1000).toLocaleTimeString()],
      ],
    });
  } catch (err) {
    if (abort.signal.aborted) return;
    console.error(err);
    const fatal = await ready.then(() => false, () => true);
    showResult({
      decision: "error", reason: err?.kind ?? err?.code ?? err?.name ?? "error",
      title: err instanceof CameraError ? "Camera unavailable" : fatal ? "Cannot start" : "Something went wrong",
      text: describeError(err),
      next: fatal ? "Reload the page later to try again." : "",
      retry: !fatal,
    });
  } finally {
    stopCamera(current.stream, video);
    current.stream = null;
    if (current.abort === abort) current.abort = null;
  }
}

/** Stop the attempt in progress (camera off) and go back to the consent screen. */
function cancel() {
  if (cancelButton.hidden) return;
  current.abort?.abort(new DOMException("cancelled", "AbortError"));
  stopCamera(current.stream, videoElement());
  current.stream = null;
  showPhase("consent");
}

/**
 * Start an attempt with the user ID typed, once it passes the server's rule.
 * @param {"light" | "motion"} [liveness]
 */
function start(liveness = "light") {
  if (current.abort) return; // one attempt at a time
  const subjectId = subjectInput().value.trim();
  if (!SUBJECT_RE.test(subjectId)) {
    showSubjectError("Enter your user ID: 1 to 64 letters, digits or . _ @ -, starting with a letter or digit.");
    return;
  }
  showSubjectError("");
  current.liveness = liveness;
  attempt(subjectId, liveness);
}

document.getElementById("consent-form").addEventListener("submit", (event) => {
  event.preventDefault();
  start();
});
document.getElementById("start-motion").addEventListener("click", () => start("motion"));
document.getElementById("retry").addEventListener("click", () => start(current.liveness));
document.getElementById("restart").addEventListener("click", () => showPhase("consent"));
document.getElementById("cancel").addEventListener("click", cancel);
document.getElementById("capture").addEventListener("keydown", (event) => {
  if (event.key === "Escape") cancel();
});
window.addEventListener("pagehide", () => stopCamera(current.stream, videoElement()));
