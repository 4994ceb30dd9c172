// Entry point: the hosted flow of a relying party's sign-in (issue 9). At page open the client
// token is taken from the fragment (and removed from the address bar), the configuration loaded
// and the transaction read (flow.js); the consent screen names the relying party and the
// purpose, in the transaction's language or the browser's (i18n.js), while the models are loaded
// and checked in the background with the token (loader.js, a models-only session). "I agree"
// dates the consent; then: camera → guidance until the face is placed → the transaction's single
// verify session, whose signed transcript names the challenge (moves and light schedule) → the
// challenge: the screen shows the server's colours while the person follows the moves and the
// page records a burst of frames (capture/capture.js) → frames and consent sealed to the
// server, its decision opened and checked (protocol/verify.js) → result, whose button returns to
// the relying party (which redeems the signed result server to server); attempt.js runs this
// attempt. Declining, or leaving once the token is used, returns with error=access_denied. Every
// failure ends on a message, never on a spinner.
//
// src/ is laid out by flow (docs/ARCHITECTURE.md, docs/FRONTEND.md; test/layout.test.js):
//   protocol/  the wire, never the document: api (fetch, jsonAnswer: the one JSON parser),
//              crypto (the only WebCrypto user), encoding, errors (every error class), jws,
//              limits (the protocol's constants), manifest, models, session, stream, verify
//   capture/   the camera, the challenge, the face pipeline, the inference worker (its own bundle)
//   ./         the page: this file (wiring only), loader.js and attempt.js (the models' path and
//              the attempt's), config, consent, flow, i18n, messages, ui (the screens)
import { errorView, resultView, runAttempt } from "./attempt.js";
import { stopCamera } from "./capture/camera.js";
import { loadConfig } from "./config.js";
import { consentMeta } from "./consent.js";
import { fetchFlow, readToken, returnUrl, takeToken } from "./flow.js";
import { chooseLocale, getLocale, isLocale, msg, setLocale } from "./i18n.js";
import { InferenceWorker } from "./capture/inference.js";
import { mark, pinnedKeys, prepare } from "./loader.js";
import { describeError } from "./messages.js";
import {
  drawOverlay, element, setStartEnabled, showCaptureHint, showChallenge, showConsent, showFrameStats, showGuidance, showManifest,
  showModels, showNoFlow, showPhase, showProgress, showResult, showStatus, showSteps, translatePage, videoElement,
} from "./ui.js";
import { ApiError } from "./protocol/errors.js";
import { ACCESS_DENIED } from "./protocol/limits.js";

/** Per-frame analysis times kept for `#frame-stats`. */
const TIMINGS_KEPT = 300;

// First of all: the token leaves the address bar (and the session history).
const clientToken = takeToken(window);
setLocale(chooseLocale("", navigator.languages));
translatePage();

const worker = new InferenceWorker(); // starts loading its bundle while we talk to the API
/**
 * @type {{
 *   flow: Readonly<import("./flow.js").Flow> | null, config: any, ready: Promise<import("./loader.js").Prepared> | null,
 *   stream: MediaStream | null, abort: AbortController | null, timings: number[], spent: boolean,
 * }}
 */
const current = { flow: null, config: null, ready: null, stream: null, abort: null, timings: [], spent: false };
const cancelButton = /** @type {HTMLButtonElement} */ (element("cancel"));

/** Read the configuration and the transaction, then show the consent and load the models. */
async function open() {
  showStatus(msg("status.config"), "loading");
  let config, keys;
  try {
    config = await loadConfig();
    keys = await pinnedKeys(config);
  } catch (err) {
    return noFlow(err, msg("noflow.failed"), "");
  }
  current.config = config;
  mark("config");
  if (!clientToken) return noFlow(null, msg("noflow.missing"), config.startUrl);
  showStatus(msg("status.flow"), "loading");
  let flow;
  try {
    flow = await fetchFlow(config.apiUrl, clientToken);
  } catch (err) {
    const used = err instanceof ApiError && err.code === "invalid_client_token";
    return noFlow(err, msg(used ? "noflow.invalid" : "noflow.failed"), config.startUrl);
  }
  current.flow = flow;
  mark("flow");
  setLocale(chooseLocale(flow.locale, navigator.languages));
  showConsent(flow, { allowMotionOnly: config.allowMotionOnly });
  translatePage();
  showPhase("consent");
  const rp = flow.relyingParty.name;
  current.ready = prepare({
    worker, config, keys, clientToken,
    onStep: (step) => showStatus(step, "loading"),
    onManifest: showManifest,
    onProgress: showProgress,
  }).then((prepared) => {
    showModels(prepared.summary, prepared.timing);
    showStatus(msg("status.ready", { count: prepared.summary.length }), "ready");
    return prepared;
  }, (err) => {
    worker.terminate();
    console.error(err);
    showStatus(describeError(err, rp), "error");
    setStartEnabled(false, msg("consent.cannot_start"));
    throw err;
  });
  current.ready.catch(() => {}); // reported above; the attempt awaits it again
}

/**
 * The page cannot serve a sign-in: say where to start from.
 * @param {unknown} err null when there simply is no request
 * @param {import("./i18n.js").Message} text
 * @param {string} startUrl
 */
function noFlow(err, text, startUrl) {
  worker.terminate();
  if (err) console.error(err);
  showStatus(err ? describeError(err) : msg("status.no_flow"), "error");
  showNoFlow(text, startUrl);
}

/**
 * The transaction's one attempt (attempt.js), shown on the page: the capture screen, guidance,
 * the challenge, then the result screen.
 * @param {"light" | "motion"} liveness
 * @param {import("./consent.js").ConsentMeta} consent
 */
async function attempt(liveness, consent) {
  const flow = /** @type {Readonly<import("./flow.js").Flow>} */ (current.flow);
  const abort = new AbortController();
  current.abort = abort;
  const video = videoElement();
  cancelButton.hidden = false;
  showPhase("capture");
  showSteps([], 0);
  showCaptureHint("");
  drawOverlay(null, false);
  showGuidance("", msg("guide.camera"));
  mark("attempt");
  /** @type {readonly string[]} */
  let moves = [];
  try {
    const { answer, frames } = await runAttempt({
      worker, ready: /** @type {Promise<import("./loader.js").Prepared>} */ (current.ready),
      clientToken: /** @type {string} */ (clientToken), // the flow was read with it
      liveness, consent, video, signal: abort.signal,
      hooks: {
        onCamera: (stream) => { current.stream = stream; },
        onSpent: () => { current.spent = true; },
        onStage: (stage, challenge) => {
          if (stage === "models") showGuidance("", msg("guide.models"));
          if (stage === "challenge" && challenge) {
            moves = challenge.moves;
            showSteps(moves, -1);
          }
          if (stage === "checking") {
            cancelButton.hidden = true; // the frames are about to be sent: the server will decide
            drawOverlay(null, false);
            showCaptureHint("");
            showGuidance("", msg("guide.checking"));
          }
        },
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
          showSteps(moves, move ? move.index : moves.length);
        },
      },
    });
    showResult(resultView(answer, flow, frames));
  } catch (err) {
    if (abort.signal.aborted) return;
    console.error(err);
    const fatal = await /** @type {Promise<unknown>} */ (current.ready).then(() => false, () => true);
    showResult(errorView(err, flow, fatal));
  } finally {
    if (current.abort === abort) current.abort = null;
  }
}

/**
 * Go back to the relying party without a decision: the declined screen (what stays on screen if
 * the navigation does not happen, or when the person comes back), then the navigation.
 * @param {"declined" | "cancelled"} why
 */
function leave(why) {
  const flow = /** @type {Readonly<import("./flow.js").Flow>} */ (current.flow);
  const rp = flow.relyingParty.name;
  const url = returnUrl(flow, { error: ACCESS_DENIED });
  showResult({
    decision: why, reason: why,
    title: msg(why === "declined" ? "result.declined.title" : "result.cancelled.title"),
    text: msg(why === "declined" ? "result.declined.text" : "result.cancelled.text", { rp }),
    next: msg(why === "declined" ? "result.declined.next" : "result.cancelled.next", { rp }),
    action: { label: msg("result.return", { rp }), url },
    alternativeUrl: flow.relyingParty.alternativeUrl,
  });
  if (why === "declined") navigate(url);
}

/** @param {string} url a return URL (flow.js returnUrl) */
function navigate(url) {
  window.location.assign(url);
}

/**
 * Stop the attempt in progress (camera off) and go back to the consent screen; once the
 * transaction's verify session is open the request is used up, and the person can only return.
 */
function cancel() {
  if (cancelButton.hidden) return;
  current.abort?.abort(new DOMException("cancelled", "AbortError"));
  stopCamera(current.stream, videoElement());
  current.stream = null;
  if (current.spent) leave("cancelled");
  else showPhase("consent");
}

/**
 * "I agree": the consent is dated now, in the language it was read in, then the attempt starts.
 * @param {"light" | "motion"} liveness
 */
function agree(liveness) {
  const acceptedAt = Date.now();
  if (current.abort || current.spent || !current.flow) return; // one attempt per transaction
  const consent = consentMeta({ locale: getLocale(), acceptedAt, transactionId: current.flow.transactionId });
  attempt(liveness, consent);
}

element("consent-form").addEventListener("submit", (event) => {
  event.preventDefault();
  agree("light");
});
element("start-motion").addEventListener("click", () => agree("motion"));
element("decline").addEventListener("click", () => leave("declined"));
element("continue").addEventListener("click", (event) => {
  const url = /** @type {HTMLElement} */ (event.currentTarget).dataset.returnUrl;
  if (url) navigate(url);
});
element("cancel").addEventListener("click", cancel);
element("capture").addEventListener("keydown", (event) => {
  if (event.key === "Escape") cancel();
});
element("languages").addEventListener("click", (event) => {
  const locale = /** @type {HTMLElement} */ (event.target).closest("[data-locale]")?.getAttribute("data-locale");
  if (!isLocale(locale) || locale === getLocale()) return;
  setLocale(locale);
  translatePage();
});
window.addEventListener("pagehide", () => stopCamera(current.stream, videoElement()));
// A sign-in request opened in this very tab (only the fragment changes: no new page): start over
// with it, as a page of its own.
window.addEventListener("hashchange", () => {
  if (readToken(window.location.hash)) window.location.reload();
});

open().catch((err) => noFlow(err, msg("noflow.failed"), current.config?.startUrl ?? ""));
