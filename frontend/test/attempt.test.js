// The attempt's result screens (src/attempt.js): what the person sees and where the button sends
// them, for a decision and for each kind of failure before one.
import assert from "node:assert/strict";
import { test } from "node:test";
import { errorView, resultView } from "../src/attempt.js";
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
