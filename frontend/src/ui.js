// The DOM: screens (consent, capture, result), status line, download progress, guidance, face
// overlay, result, and the technical details. Only this module and main.js touch the DOM.
import { cssColour } from "./challenge.js";
import { HINT_TEXT, MOVE_ARROWS, MOVE_LABELS } from "./messages.js";

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/**
 * Show the app-wide status (loading steps, readiness, blocking errors) in the live region.
 * @param {string} text
 * @param {"loading" | "ready" | "error"} state
 */
export function showStatus(text, state) {
  if (state === "error") $("download").hidden = true; // no progress bar left standing still
  const status = $("status");
  status.textContent = text;
  status.dataset.state = state;
  document.body.dataset.state = state;
}

/**
 * Download progress in bytes on the wire.
 * @param {{received: number, total: number}} progress
 */
export function showProgress({ received, total }) {
  const bar = /** @type {HTMLProgressElement} */ ($("progress"));
  $("download").hidden = received >= total;
  bar.max = total;
  bar.value = received;
  $("progress-text").textContent = `${mb(received)} of ${mb(total)} MB`;
}

/** @param {number} bytes */
const mb = (bytes) => (bytes / 1e6).toFixed(1);

/**
 * Switch screens; focus moves to the new screen's heading (keyboard and screen-reader users
 * land where the action is).
 * @param {"consent" | "capture" | "result"} phase
 * @param {{focus?: boolean}} [options]
 */
export function showPhase(phase, { focus = true } = {}) {
  for (const id of ["consent", "capture", "result"]) $(id).hidden = id !== phase;
  document.body.dataset.phase = phase;
  if (!focus) return;
  const target = phase === "consent" ? $("subject") : $(`${phase}-title`);
  target.focus();
}

/**
 * @param {boolean} enabled
 * @param {string} [label]
 */
export function setStartEnabled(enabled, label) {
  const button = /** @type {HTMLButtonElement} */ ($("start"));
  button.disabled = !enabled;
  if (label) button.textContent = label;
}

/** @returns {HTMLInputElement} */
export const subjectInput = () => /** @type {HTMLInputElement} */ ($("subject"));

/**
 * Show or clear the user ID's error (linked to the input with aria-describedby).
 * @param {string} message empty to clear
 */
export function showSubjectError(message) {
  const error = $("subject-error");
  error.textContent = message;
  error.hidden = !message;
  subjectInput().setAttribute("aria-invalid", message ? "true" : "false");
  if (message) subjectInput().focus();
}

/**
 * The challenge's moves, the current one highlighted.
 * @param {readonly string[]} moves
 * @param {number} current index of the move being performed (moves.length when done, -1 before)
 */
export function showSteps(moves, current) {
  $("steps").replaceChildren(...moves.map((move, i) => {
    const item = document.createElement("li");
    item.textContent = MOVE_LABELS[move] ?? move;
    item.dataset.step = move;
    item.dataset.state = i < current ? "done" : i === current ? "current" : "pending";
    if (i === current) item.setAttribute("aria-current", "step");
    return item;
  }));
}

/**
 * The capture's light and move of the moment. The screen is filled with `colour` (the server
 * chose it: the face must reflect it); the instruction sits on a contrasting panel. For test
 * harnesses the page also exposes, on <html>, `data-secureface-light` (the colour name, absent
 * outside the capture), `data-secureface-move` and `data-secureface-move-start` (the
 * performance.now() time the current move began), documented in docs/FRONTEND.md.
 * @param {string | null} colour a palette name, or null for none
 * @param {{index: number, move: string, start: number} | null} move null when the capture is over
 * @param {number} t0 performance.now() of the capture's time zero
 */
export function showChallenge(colour, move, t0) {
  const root = document.documentElement;
  const fill = $("light");
  fill.style.backgroundColor = colour ? cssColour(colour) : "";
  fill.hidden = !colour;
  setAttribute(root, "data-secureface-light", colour);
  document.body.dataset.capturing = move ? "true" : "false";
  const start = move ? String(Math.round((t0 + move.start) * 1000) / 1000) : null;
  if (root.getAttribute("data-secureface-move-start") === start) return;
  setAttribute(root, "data-secureface-move", move?.move ?? null);
  setAttribute(root, "data-secureface-move-start", start);
  if (!move) return;
  $("move-arrow").textContent = MOVE_ARROWS[move.move] ?? "";
  showGuidance(`move_${move.move}`, MOVE_LABELS[move.move] ?? move.move);
}

/**
 * @param {Element} node
 * @param {string} name
 * @param {string | null} value null removes the attribute
 */
function setAttribute(node, name, value) {
  if (value === null) node.removeAttribute(name);
  else if (node.getAttribute(name) !== value) node.setAttribute(name, value);
}

/**
 * The guidance sentence; rewritten only when it changes, so the live region is not chatty.
 * @param {string} hint a code of challenge.js HINTS, `move_<move>`, or "" with `text`
 * @param {string} [text]
 */
export function showGuidance(hint, text = HINT_TEXT[hint] ?? "") {
  const guidance = $("guidance");
  if (guidance.dataset.hint === hint && guidance.textContent === text) return;
  guidance.dataset.hint = hint;
  guidance.textContent = text;
}

/**
 * During the challenge: what the person can fix (no face, several, too dark, too far) under
 * the move's instruction; "" hides it.
 * @param {string} hint "" or a code of challenge.js assessDuring
 */
export function showCaptureHint(hint) {
  const note = $("capture-hint");
  if (note.dataset.hint === hint) return;
  note.dataset.hint = hint;
  note.textContent = hint ? HINT_TEXT[hint] ?? "" : "";
  note.hidden = !hint;
}

/** @returns {HTMLVideoElement} */
export const videoElement = () => /** @type {HTMLVideoElement} */ ($("video"));

/**
 * Draw the detected faces over the video (same size and mirroring as the video).
 * @param {import("./challenge.js").FrameAnalysis | null} analysis null clears
 * @param {boolean} good the face meets the current step
 */
export function drawOverlay(analysis, good) {
  const canvas = /** @type {HTMLCanvasElement} */ ($("overlay"));
  if (analysis && (canvas.width !== analysis.width || canvas.height !== analysis.height)) {
    canvas.width = analysis.width;
    canvas.height = analysis.height;
  }
  const context = canvas.getContext("2d");
  context.clearRect(0, 0, canvas.width, canvas.height);
  if (!analysis) return;
  const line = Math.max(2, Math.round(analysis.width / 320));
  context.lineWidth = line;
  for (const face of analysis.faces) {
    const single = analysis.faces.length === 1;
    context.strokeStyle = single && good ? "#34c759" : single ? "#ffd60a" : "#ff453a";
    const [x, y, w, h] = face.box;
    context.strokeRect(x, y, w, h);
    context.fillStyle = context.strokeStyle;
    for (const [px, py] of face.landmarks) {
      context.beginPath();
      context.arc(px, py, line * 1.5, 0, 2 * Math.PI);
      context.fill();
    }
  }
}

/**
 * The page's own per-frame timings and the last frame's hints, for tests and support
 * (`#frame-stats[data-ms]`, `[data-last]`).
 * @param {number[]} timings ms per analysed frame, most recent last
 * @param {import("./challenge.js").FrameAnalysis} last
 */
export function showFrameStats(timings, last) {
  const output = $("frame-stats");
  const round = (v) => (typeof v === "number" ? Math.round(v * 1000) / 1000 : v);
  output.dataset.ms = JSON.stringify(timings.map((t) => Math.round(t * 10) / 10));
  output.dataset.last = JSON.stringify({
    width: last.width, height: last.height, faces: last.faces.length, yaw: round(last.yaw),
    antispoof: round(last.antispoof), faceLight: last.faceLight, steps: last.steps,
  });
  const sorted = [...timings].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  output.textContent = `Face analysis: ${timings.length} frames, median ${median.toFixed(0)} ms per frame.`;
}

/**
 * @typedef {object} ResultView
 * @property {string} decision verified / not_verified / locked / error
 * @property {string} reason the server's hint, or the error kind
 * @property {string} title
 * @property {string} text
 * @property {string} next
 * @property {boolean} retry whether "Try again" is offered
 * @property {[string, string][]} [details] facts from the signed assertion (term, value)
 * @property {object} [bundle] the verified assertion bundle (relying party, tests)
 * @property {string} [sessionId]
 */

/**
 * The result screen.
 * @param {ResultView} view
 */
export function showResult(view) {
  const title = $("result-title");
  title.textContent = view.title;
  title.dataset.decision = view.decision;
  const section = $("result");
  section.dataset.decision = view.decision;
  section.dataset.reason = view.reason;
  $("result-text").textContent = view.text;
  $("result-next").textContent = view.next;
  const details = $("result-details");
  details.replaceChildren(...(view.details ?? []).flatMap(([term, value]) => [el("dt", term), el("dd", value)]));
  details.hidden = !view.details?.length;
  $("retry").hidden = !view.retry;
  const output = $("assertion");
  output.textContent = view.bundle ? JSON.stringify(view.bundle) : "";
  if (view.bundle) output.dataset.sessionId = view.sessionId ?? "";
  else delete output.dataset.sessionId;
  showPhase("result");
}

/**
 * @param {import("./manifest.js").Manifest} manifest
 */
export function showManifest(manifest) {
  const rows = [["Manifest version", String(manifest.manifest_version)],
    ["Valid until", new Date(manifest.expires_at * 1000).toISOString()]];
  const list = $("manifest");
  list.replaceChildren(...rows.flatMap(([term, value]) => [el("dt", term), el("dd", value)]));
  list.hidden = false;
}

/**
 * @typedef {object} ModelSummary
 * @property {string} name
 * @property {string} version
 * @property {string} role
 * @property {string} sha256 verified
 * @property {number} size verified
 * @property {string[]} inputs input names reported by onnxruntime-web
 */

/**
 * The loaded models, for people (a table) and for tests (`#models[data-models]`).
 * @param {ModelSummary[]} models
 * @param {{verifiedMs: number, readyMs: number}} timing ms since navigation start
 */
export function showModels(models, timing) {
  const body = $("model-rows");
  body.replaceChildren(...models.map((m) => {
    const row = document.createElement("tr");
    row.append(el("td", m.name), el("td", m.version), el("td", m.role), el("td", `${(m.size / 1e6).toFixed(2)} MB`),
      el("td", `${m.sha256.slice(0, 12)}…`), el("td", m.inputs.join(", ")));
    return row;
  }));
  $("model-table").hidden = false;
  const output = $("models");
  output.dataset.models = JSON.stringify(models);
  output.dataset.verifiedMs = String(Math.round(timing.verifiedMs));
  output.dataset.readyMs = String(Math.round(timing.readyMs));
  output.textContent = `Verified in ${(timing.verifiedMs / 1000).toFixed(1)} s, ready in ${(timing.readyMs / 1000).toFixed(1)} s.`;
}

/**
 * @param {string} tag
 * @param {string} text
 */
function el(tag, text) {
  const node = document.createElement(tag);
  node.textContent = text;
  return node;
}
