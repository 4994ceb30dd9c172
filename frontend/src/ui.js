// The DOM: screens (no request, consent, capture, result), status line, download progress,
// guidance, face overlay, result, and the technical details. Only this module and main.js touch
// the DOM. Every sentence is a message (i18n.js) written with setMessage, which remembers its key
// and parameters on the element (`data-i18n`, `data-i18n-args`): translatePage renders every
// one of them again in another language. Text only (textContent), never markup.
import { cssColour } from "./capture/challenge.js";
import { getLocale, msg, render } from "./i18n.js";
import { HINT_TEXT, MOVE_ARROWS, MOVE_LABELS, PURPOSE_TEXT } from "./messages.js";

/** @typedef {import("./i18n.js").Message} Message */

/**
 * An element of index.html (its absence is a build error, not a state of the page).
 * @param {string} id
 * @returns {HTMLElement}
 */
export function element(id) {
  const found = document.getElementById(id);
  if (!found) throw new Error(`#${id} is missing from index.html`);
  return found;
}
const $ = element;
const PHASES = Object.freeze(["no-flow", "consent", "capture", "result"]);

/**
 * Write a message into an element (or clear it with null), remembered for translatePage.
 * @param {HTMLElement} node
 * @param {Message | null} message
 */
export function setMessage(node, message) {
  if (!message) {
    delete node.dataset.i18n;
    delete node.dataset.i18nArgs;
    node.textContent = "";
    return;
  }
  node.dataset.i18n = message.key;
  if (message.params) node.dataset.i18nArgs = JSON.stringify(message.params);
  else delete node.dataset.i18nArgs;
  node.textContent = render(message);
}

/** @param {string | undefined} raw `data-i18n-args` */
const args = (raw) => (raw ? JSON.parse(raw) : undefined);

/**
 * Render the whole page in the current locale: every `[data-i18n]` (text), `[data-i18n-label]`
 * (aria-label), `<html lang>`, and which language button is pressed.
 */
export function translatePage() {
  const locale = getLocale();
  document.documentElement.lang = locale;
  for (const node of document.querySelectorAll("[data-i18n]")) {
    const element = /** @type {HTMLElement} */ (node);
    element.textContent = render({ key: element.dataset.i18n ?? "", params: args(element.dataset.i18nArgs) });
  }
  for (const node of document.querySelectorAll("[data-i18n-label]")) {
    node.setAttribute("aria-label", render(msg(/** @type {HTMLElement} */ (node).dataset.i18nLabel ?? "")));
  }
  for (const button of document.querySelectorAll("[data-locale]")) {
    button.setAttribute("aria-pressed", String(/** @type {HTMLElement} */ (button).dataset.locale === locale));
  }
}

/**
 * Show the app-wide status (loading steps, readiness, blocking errors) in the live region.
 * @param {Message} message
 * @param {"loading" | "ready" | "error"} state
 */
export function showStatus(message, state) {
  if (state === "error") $("download").hidden = true; // no progress bar left standing still
  const status = $("status");
  setMessage(status, message);
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
  setMessage($("progress-text"), msg("download.progress", { received: mb(received), total: mb(total) }));
}

/** @param {number} bytes */
const mb = (bytes) => (bytes / 1e6).toFixed(1);

/**
 * Switch screens; focus moves to the new screen's heading (keyboard and screen-reader users
 * land where the action is).
 * @param {"no-flow" | "consent" | "capture" | "result"} phase
 * @param {{focus?: boolean}} [options]
 */
export function showPhase(phase, { focus = true } = {}) {
  for (const id of PHASES) $(id).hidden = id !== phase;
  document.body.dataset.phase = phase;
  if (focus) $(`${phase}-title`).focus();
}

/**
 * @param {boolean} enabled
 * @param {Message} [label]
 */
export function setStartEnabled(enabled, label) {
  const button = /** @type {HTMLButtonElement} */ ($("start"));
  button.disabled = !enabled;
  if (label) setMessage(button, label);
  /** @type {HTMLButtonElement} */ ($("start-motion")).disabled = !enabled;
}

/**
 * The screen of a page opened without a usable sign-in request: where to start instead.
 * @param {Message} text why (no request, an invalid or used one, an unreadable one)
 * @param {string} startUrl config.json `startUrl` ("" for no link)
 */
export function showNoFlow(text, startUrl) {
  setMessage($("no-flow-text"), text);
  setLink($("start-link"), startUrl);
  showPhase("no-flow");
}

/**
 * Fill the consent screen for the transaction: who asks (the relying party's name), for what
 * (its purpose), the notice, the request's expiry, and the choices.
 * @param {import("./flow.js").Flow} flow
 * @param {{allowMotionOnly: boolean}} options
 */
export function showConsent(flow, { allowMotionOnly }) {
  const rp = flow.relyingParty.name;
  const [lead, short] = PURPOSE_TEXT[flow.purpose];
  setMessage($("consent-title"), msg("consent.title", { rp }));
  setMessage($("consent-purpose"), msg(lead, { rp }));
  setMessage($("notice-what"), msg("notice.what", { rp }));
  setMessage($("notice-why"), msg("notice.why", { rp, purpose: msg(short) }));
  setMessage($("notice-who"), msg("notice.who", { rp }));
  setMessage($("notice-withdraw"), msg("notice.withdraw", { rp }));
  setMessage($("consent-expires"), msg("consent.expires", { time: { time: flow.expiresAt } }));
  setMessage($("decline"), msg("consent.decline", { rp }));
  // Someone who must not see flashing colours: the motion-only check where the operator allows
  // it, the relying party's other way to sign in where it has one, else declining.
  const alternative = flow.relyingParty.alternativeUrl;
  $("start-motion").hidden = !allowMotionOnly;
  $("flash-motion").hidden = !allowMotionOnly;
  const link = $("flash-alternative");
  setMessage(link, msg(allowMotionOnly ? "flash.alternative_also" : "flash.alternative"));
  setLink(link, alternative);
  const decline = $("flash-decline");
  setMessage(decline, allowMotionOnly || alternative ? null : msg("flash.decline", { rp }));
  decline.hidden = Boolean(allowMotionOnly || alternative);
}

/**
 * @param {HTMLElement} link an <a>
 * @param {string} url "" hides it
 */
function setLink(link, url) {
  if (url) link.setAttribute("href", url);
  else link.removeAttribute("href");
  link.hidden = !url;
}

/**
 * The challenge's moves, the current one highlighted.
 * @param {readonly string[]} moves
 * @param {number} current index of the move being performed (moves.length when done, -1 before)
 */
export function showSteps(moves, current) {
  $("steps").replaceChildren(...moves.map((move, i) => {
    const item = document.createElement("li");
    setMessage(item, msg(MOVE_LABELS[move]));
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
  showGuidance(`move_${move.move}`, msg(MOVE_LABELS[move.move]));
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
 * @param {string} hint a code of challenge.js HINTS, `move_<move>`, or "" with `message`
 * @param {Message | null} [message] by default the hint's sentence
 */
export function showGuidance(hint, message = HINT_TEXT[hint] ? msg(HINT_TEXT[hint]) : null) {
  const guidance = $("guidance");
  const args = message?.params ? JSON.stringify(message.params) : undefined;
  if (guidance.dataset.hint === hint && guidance.dataset.i18n === message?.key && guidance.dataset.i18nArgs === args) return;
  guidance.dataset.hint = hint;
  setMessage(guidance, message);
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
  setMessage(note, hint && HINT_TEXT[hint] ? msg(HINT_TEXT[hint]) : null);
  note.hidden = !hint;
}

/** @returns {HTMLVideoElement} */
export const videoElement = () => /** @type {HTMLVideoElement} */ ($("video"));

/**
 * Draw the detected faces over the video (same size and mirroring as the video).
 * @param {import("./capture/challenge.js").FrameAnalysis | null} analysis null clears
 * @param {boolean} good the face meets the current step
 */
export function drawOverlay(analysis, good) {
  const canvas = /** @type {HTMLCanvasElement} */ ($("overlay"));
  if (analysis && (canvas.width !== analysis.width || canvas.height !== analysis.height)) {
    canvas.width = analysis.width;
    canvas.height = analysis.height;
  }
  const context = canvas.getContext("2d");
  if (!context) return; // no 2D canvas: the overlay is a guide only
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
 * @param {import("./capture/challenge.js").FrameAnalysis} last
 */
export function showFrameStats(timings, last) {
  const output = $("frame-stats");
  const round = (/** @type {unknown} */ v) => (typeof v === "number" ? Math.round(v * 1000) / 1000 : v);
  output.dataset.ms = JSON.stringify(timings.map((t) => Math.round(t * 10) / 10));
  output.dataset.last = JSON.stringify({
    width: last.width, height: last.height, faces: last.faces.length, yaw: round(last.yaw),
    antispoof: round(last.antispoof), faceLight: last.faceLight, steps: last.steps,
  });
  const sorted = [...timings].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  setMessage(output, msg("tech.frames", { count: timings.length, median: median.toFixed(0) }));
}

/**
 * @typedef {object} ResultView
 * @property {string} decision verified / not_verified / locked (the server's), or error /
 *   declined / cancelled (no decision)
 * @property {string} reason the server's hint, or the error kind
 * @property {Message} title
 * @property {Message} text
 * @property {Message | null} next
 * @property {[Message, string | Message][]} [details] facts of the decision (term, value)
 * @property {{label: Message, url: string} | null} action the primary button: back to the
 *   relying party (`url`: flow.js returnUrl)
 * @property {string} alternativeUrl the relying party's other way to sign in ("" for none)
 * @property {{assurance: string, sessionId: string, transactionId: string}} [answer] of a
 *   decision, exposed for tests as `#result[data-assurance][data-session-id][data-transaction-id]`
 */

/**
 * The result screen.
 * @param {ResultView} view
 */
export function showResult(view) {
  const title = $("result-title");
  setMessage(title, view.title);
  title.dataset.decision = view.decision;
  const section = $("result");
  section.dataset.decision = view.decision;
  section.dataset.reason = view.reason;
  for (const [name, value] of Object.entries({
    assurance: view.answer?.assurance, sessionId: view.answer?.sessionId, transactionId: view.answer?.transactionId,
  })) {
    if (value) section.dataset[name] = value;
    else delete section.dataset[name];
  }
  setMessage($("result-text"), view.text);
  setMessage($("result-next"), view.next);
  const details = $("result-details");
  details.replaceChildren(...(view.details ?? []).flatMap(([term, value]) => {
    const dt = message("dt", term);
    dt.dataset.term = term.key;
    return [dt, typeof value === "string" ? el("dd", value) : message("dd", value)];
  }));
  details.hidden = !view.details?.length;
  const button = /** @type {HTMLButtonElement} */ ($("continue"));
  if (view.action) {
    setMessage(button, view.action.label);
    button.dataset.returnUrl = view.action.url;
  } else {
    setMessage(button, null);
    delete button.dataset.returnUrl;
  }
  button.hidden = !view.action;
  setLink($("alternative"), view.alternativeUrl);
  showPhase("result");
}

/**
 * @param {import("./protocol/manifest.js").Manifest} manifest
 */
export function showManifest(manifest) {
  /** @type {[Message, string][]} */
  const rows = [[msg("tech.manifest_version"), String(manifest.manifest_version)],
    [msg("tech.valid_until"), new Date(manifest.expires_at * 1000).toISOString()]];
  const list = $("manifest");
  list.replaceChildren(...rows.flatMap(([term, value]) => [message("dt", term), el("dd", value)]));
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
    row.append(el("td", m.name), el("td", m.version), el("td", m.role),
      message("td", msg("tech.size_mb", { size: (m.size / 1e6).toFixed(2) })),
      el("td", `${m.sha256.slice(0, 12)}…`), el("td", m.inputs.join(", ")));
    return row;
  }));
  $("model-table").hidden = false;
  const output = $("models");
  output.dataset.models = JSON.stringify(models);
  output.dataset.verifiedMs = String(Math.round(timing.verifiedMs));
  output.dataset.readyMs = String(Math.round(timing.readyMs));
  setMessage(output, msg("tech.timing", {
    verified: (timing.verifiedMs / 1000).toFixed(1), ready: (timing.readyMs / 1000).toFixed(1),
  }));
}

/**
 * @param {string} tag
 * @param {string} text not translated (names, numbers, hashes)
 */
function el(tag, text) {
  const node = document.createElement(tag);
  node.textContent = text;
  return node;
}

/**
 * @param {string} tag
 * @param {Message} text
 */
function message(tag, text) {
  const node = document.createElement(tag);
  setMessage(node, text);
  return node;
}
