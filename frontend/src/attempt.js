// The transaction's one attempt, from the camera to the server's decision, as loader.js's
// `prepare` is the models' path: camera → the face placed (guidance) → the transaction's verify
// session (the client token is used up from here) → the challenge recorded → frames and consent
// sealed to the server, its decision opened. No DOM here: the page passes hooks, then shows what
// `resultView` or `errorView` describe (both pure, tested in node).
import { openCamera, stopCamera } from "./capture/camera.js";
import { placeFace, recordChallenge } from "./capture/capture.js";
import { returnUrl } from "./flow.js";
import { msg } from "./i18n.js";
import { mark } from "./loader.js";
import { ASSURANCE_TEXT, DECISION_TEXT, describeDecision, describeError } from "./messages.js";
import { ApiError, CameraError } from "./protocol/errors.js";
import { ACCESS_DENIED } from "./protocol/limits.js";
import { openSession } from "./protocol/session.js";
import { submitVerification } from "./protocol/verify.js";

/**
 * @typedef {import("./flow.js").Flow} Flow
 * @typedef {import("./protocol/verify.js").VerifyAnswer} VerifyAnswer
 * @typedef {import("./capture/challenge.js").FrameAnalysis} FrameAnalysis
 * @typedef {import("./capture/challenge.js").Challenge} Challenge
 * @typedef {import("./i18n.js").Message} Message
 */

/**
 * @typedef {object} AttemptHooks
 * @property {(stream: MediaStream | null) => void} onCamera the camera's stream while it is on
 *   (the page stops it when the person cancels or leaves), then null
 * @property {(stage: "models" | "challenge" | "checking", challenge?: Readonly<Challenge>) => void} onStage
 *   waiting for the models; the challenge starts (with it); the frames are being sent
 * @property {() => void} onSpent the face is placed: the verify session is about to be opened
 * @property {(analysis: FrameAnalysis, hint: string, capturing: boolean) => void} onGuide
 * @property {(colour: string | null, move: {index: number, move: string, start: number} | null, t: number, t0: number) => void} onTick
 */

/** What the attempt calls out to (tests replace them to check the order and the camera). */
export const ATTEMPT_STEPS = Object.freeze({
  openCamera, stopCamera, placeFace, recordChallenge, openSession, submitVerification, mark,
});

/**
 * Run the attempt; the camera is off when it returns or throws.
 * @param {object} options
 * @param {import("./capture/inference.js").InferenceWorker} options.worker
 * @param {Promise<import("./loader.js").Prepared>} options.ready the models (loader.js prepare)
 * @param {string} options.clientToken
 * @param {"light" | "motion"} options.liveness
 * @param {import("./consent.js").ConsentMeta} options.consent
 * @param {HTMLVideoElement} options.video
 * @param {AbortSignal} options.signal the person cancelled
 * @param {AttemptHooks} options.hooks
 * @param {typeof ATTEMPT_STEPS} [steps]
 * @returns {Promise<{answer: VerifyAnswer, frames: number}>}
 */
export async function runAttempt(
  { worker, ready, clientToken, liveness, consent, video, signal, hooks }, steps = ATTEMPT_STEPS,
) {
  const { openCamera, stopCamera, placeFace, recordChallenge, openSession, submitVerification, mark } = steps;
  /** @type {MediaStream | null} */
  let stream = null;
  try {
    stream = await openCamera(video);
    hooks.onCamera(stream);
    signal.throwIfAborted();
    hooks.onStage("models");
    const prepared = await ready;
    signal.throwIfAborted();
    const { apiUrl, capture } = prepared.config;
    const models = prepared.models;
    await placeFace({ video, worker, models, capture, hooks: { onGuide: hooks.onGuide }, signal });
    hooks.onSpent();
    const session = await openSession(apiUrl, prepared.keys.server, { clientToken, purpose: "verify", liveness });
    signal.throwIfAborted();
    const { challenge } = session;
    hooks.onStage("challenge", challenge);
    const frames = await recordChallenge({
      video, worker, models, challenge, capture, signal, hooks: { onGuide: hooks.onGuide, onTick: hooks.onTick },
    });
    mark("captured");
    stopCamera(stream, video);
    stream = null;
    hooks.onCamera(null);
    hooks.onStage("checking"); // the server decides from here: no cancelling
    const answer = await submitVerification({ apiUrl, session, frames, consent });
    mark("result");
    return { answer, frames: frames.length };
  } finally {
    stopCamera(stream, video);
    hooks.onCamera(null);
  }
}

/**
 * What the result screen shows for the server's decision (ui.js showResult).
 * @param {VerifyAnswer} answer
 * @param {Readonly<Flow>} flow
 * @param {number} frames how many frames were sent
 * @returns {import("./ui.js").ResultView}
 */
export function resultView(answer, flow, frames) {
  const rp = flow.relyingParty.name;
  const { alternative, ...words } = describeDecision(answer, rp);
  return {
    ...words, decision: answer.decision, reason: answer.hint,
    details: [
      [msg("details.rp"), rp],
      [msg("details.decision"), msg(DECISION_TEXT[answer.decision])],
      [msg("details.assurance"), msg(ASSURANCE_TEXT[answer.assurance])],
      [msg("details.frames"), String(frames)],
      [msg("details.answer"), msg("answer.checked")],
    ],
    action: { label: msg("result.continue", { rp }), url: returnUrl(flow) },
    alternativeUrl: alternative ? flow.relyingParty.alternativeUrl : "",
    answer: { assurance: answer.assurance, sessionId: answer.sessionId, transactionId: answer.transactionId },
  };
}

/**
 * What the result screen shows when the attempt failed before a decision: the relying party is
 * told no decision was seen here (`error=access_denied`; its redemption tells the rest).
 * @param {unknown} err
 * @param {Readonly<Flow>} flow
 * @param {boolean} fatal the models could not be prepared (nothing the person can retry)
 * @returns {import("./ui.js").ResultView}
 */
export function errorView(err, flow, fatal) {
  const rp = flow.relyingParty.name;
  const camera = err instanceof CameraError;
  const reason = camera ? err.kind : err instanceof ApiError ? err.code : err instanceof Error ? err.name : "error";
  return {
    decision: "error", reason,
    title: msg(camera ? "result.camera.title" : fatal ? "result.fatal.title" : "result.error.title"),
    text: describeError(err, rp),
    next: msg("result.error.next", { rp }),
    action: { label: msg("result.return", { rp }), url: returnUrl(flow, { error: ACCESS_DENIED }) },
    alternativeUrl: camera ? flow.relyingParty.alternativeUrl : "",
  };
}
