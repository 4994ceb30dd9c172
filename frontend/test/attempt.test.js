// The attempt's result screens (src/attempt.js): what the person sees and where the button sends
// them, for a decision and for each kind of failure before one.
import assert from "node:assert/strict";
import { test } from "node:test";
import { errorView, resultView, runAttempt } from "../src/attempt.js";
import { parseFlow } from "../src/flow.js";
import { setLocale } from "../src/i18n.js";
import { ApiError, CameraError, ProtocolError } from "../src/protocol/errors.js";
import { TRANSACTION } from "../testing/helpers.js";

const FLOW = parseFlow({ ...TRANSACTION, expires_at: 4_000_000_000 });
const BACK = `${TRANSACTION.return_url}?transaction_id=${TRANSACTION.transaction_id}&state=${encodeURIComponent(TRANSACTION.state)}`;
const ANSWER = Object.freeze({
  type: "secureface-verify-answer", decision: "verified", hint: "", assurance: "light",
  transactionId: TRANSACTION.transaction_id, sessionId: "c2Vzc2lvbi0wMDAwMDAwMQ",
});
setLocale("en");

test("a decision returns to the relying party without an error, with its facts", () => {
  const view = resultView(ANSWER, FLOW, 57);
  assert.equal(view.decision, "verified");
  assert.equal(view.action?.url, BACK);
  assert.equal(view.alternativeUrl, "");
  assert.deepEqual(view.details?.map(([, value]) => (typeof value === "string" ? value : value.key)),
    ["Acme Bank", "decision.verified", "assurance.light", "57", "answer.checked"]);
  assert.deepEqual(view.answer, { assurance: "light", sessionId: ANSWER.sessionId, transactionId: ANSWER.transactionId });
});

test("a refusal offers the relying party's other way to sign in", () => {
  const view = resultView({ ...ANSWER, decision: "not_verified", hint: "too_dark" }, FLOW, 40);
  assert.equal(view.decision, "not_verified");
  assert.equal(view.reason, "too_dark");
  assert.equal(view.alternativeUrl, TRANSACTION.relying_party.alternative_url);
});

test("a failure before a decision returns with error=access_denied and names its kind", () => {
  const cases = [
    [new CameraError("denied", "NotAllowedError"), "denied", "result.camera.title", TRANSACTION.relying_party.alternative_url],
    [new ApiError(401, "invalid_client_token", "used"), "invalid_client_token", "result.error.title", ""],
    [new ProtocolError("transcript"), "ProtocolError", "result.error.title", ""],
    [new DOMException("stopped", "AbortError"), "AbortError", "result.error.title", ""],
    ["not an error", "error", "result.error.title", ""],
  ];
  for (const [err, reason, title, alternative] of cases) {
    const view = errorView(err, FLOW, false);
    assert.equal(view.decision, "error");
    assert.equal(view.reason, reason);
    assert.equal(view.title.key, title);
    assert.equal(view.action?.url, `${BACK}&error=access_denied`);
    assert.equal(view.alternativeUrl, alternative);
  }
  assert.equal(errorView(new ProtocolError("x"), FLOW, true).title.key, "result.fatal.title");
});

/**
 * runAttempt with every step replaced by a recorder: `fail` names the step that throws.
 * @param {{fail?: string, abortAfter?: string}} [options]
 */
async function recordedAttempt({ fail = "", abortAfter = "" } = {}) {
  const calls = [];
  const abort = new AbortController();
  const stream = { id: "camera" };
  const step = (name, value) => async (...args) => {
    calls.push(name);
    if (name === fail) throw new Error(`${name} failed`);
    if (name === abortAfter) abort.abort(new DOMException("cancelled", "AbortError"));
    return typeof value === "function" ? value(...args) : value;
  };
  const steps = {
    openCamera: step("openCamera", stream),
    stopCamera: (s) => calls.push(s ? "stopCamera(on)" : "stopCamera(off)"),
    placeFace: step("placeFace", undefined),
    openSession: step("openSession", (_url, _key, { purpose }) => ({ purpose, challenge: { moves: ["center"] } })),
    recordChallenge: step("recordChallenge", [{ bytes: new Uint8Array(1), t: 0 }, { bytes: new Uint8Array(1), t: 100 }]),
    submitVerification: step("submitVerification", ANSWER),
    mark: () => 0,
  };
  const hooks = {
    onCamera: (s) => calls.push(s ? "onCamera(on)" : "onCamera(off)"),
    onStage: (stage) => calls.push(`stage:${stage}`),
    onSpent: () => calls.push("spent"),
    onGuide: () => {},
    onTick: () => {},
  };
  const ready = Promise.resolve({ config: { apiUrl: "https://api.example", capture: {} }, keys: { server: {} }, models: {} });
  const options = { worker: {}, ready, clientToken: "t", liveness: "light", consent: {}, video: {}, signal: abort.signal, hooks };
  try {
    return { result: await runAttempt(/** @type {any} */ (options), /** @type {any} */ (steps)), calls };
  } catch (err) {
    return { error: err, calls };
  }
}

test("an attempt: camera, models, face placed, then spent, the verify session, the challenge, camera off before sending", async () => {
  const { result, calls } = await recordedAttempt();
  assert.deepEqual(result, { answer: ANSWER, frames: 2 });
  assert.deepEqual(calls, [
    "openCamera", "onCamera(on)", "stage:models", "placeFace", "spent", "openSession", "stage:challenge",
    "recordChallenge", "stopCamera(on)", "onCamera(off)", "stage:checking", "submitVerification",
    "stopCamera(off)", "onCamera(off)",
  ]);
});

for (const [fail, spent] of [["openCamera", false], ["placeFace", false], ["openSession", true], ["recordChallenge", true]]) {
  test(`a failure at ${fail} ends with the camera off, the token spent only once the face was placed`, async () => {
    const { error, calls } = await recordedAttempt({ fail });
    assert.equal(error?.message, `${fail} failed`);
    assert.equal(calls.includes("spent"), spent);
    assert.ok(!calls.includes("submitVerification"));
    if (fail !== "openCamera") assert.ok(calls.includes("stopCamera(on)"), "the open camera is stopped");
    assert.equal(calls.at(-1), "onCamera(off)");
  });
}

test("cancelled during the challenge's session: nothing is sent and the camera is stopped", async () => {
  const { error, calls } = await recordedAttempt({ abortAfter: "openSession" });
  assert.equal(error?.name, "AbortError");
  assert.ok(!calls.includes("recordChallenge") && !calls.includes("submitVerification"));
  assert.deepEqual(calls.slice(-2), ["stopCamera(on)", "onCamera(off)"]);
});
