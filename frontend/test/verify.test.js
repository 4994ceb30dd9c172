// The verify step (PROTOCOL.md §5, issue 9): the payload container with the person's consent,
// the Python vectors of tests/vectors/verify.json byte for byte, then submitVerification against
// the fake API, and every refusal of the answer.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { consentMeta } from "../src/consent.js";
import { importVerifyKey } from "../src/protocol/crypto.js";
import { b64urlDecode, b64urlEncode, fromHex, utf8 } from "../src/protocol/encoding.js";
import { openSession } from "../src/protocol/session.js";
import {
  ANSWER_HINTS, ANSWER_TYPE, ASSURANCES, CONSENT_NOTICE, DECISIONS, LOCALES, REQUEST_LABEL, RESPONSE_LABEL,
} from "../src/protocol/limits.js";
import { encodePayload, openMessage, parseAnswer, sealMessage, submitVerification } from "../src/protocol/verify.js";
import { CLIENT_TOKEN, TRANSACTION, aesGcmKey, fakeApi, flipBit, watchSubtle, withFetch } from "../testing/helpers.js";
import { ApiError, PayloadError, ProtocolError } from "../src/protocol/errors.js";

const v = JSON.parse(readFileSync(new URL("../../tests/vectors/verify.json", import.meta.url), "utf8"));
const NOW = 1_764_316_800;
const frames = v.request.frames.map((f, i) => ({ bytes: b64urlDecode(f), t: v.request.times_ms[i] }));
const consent = consentMeta({ locale: "en", acceptedAt: NOW * 1000 + 123, transactionId: TRANSACTION.transaction_id });

test("the page's verify constants are the server's (verify.json constants)", () => {
  const c = v.constants;
  assert.deepEqual([CONSENT_NOTICE, [...LOCALES], ANSWER_TYPE], [c.consent_notice, c.locales, c.answer_type]);
  assert.deepEqual([[...DECISIONS], [...ANSWER_HINTS], [...ASSURANCES]], [c.decisions, c.hints, c.assurances]);
});

test("the payload container (frames + consent) and the sealed request equal Python's byte for byte", async () => {
  assert.equal(v.request.consent.transaction_id, v.transaction_id);
  const payload = encodePayload(frames, consentMeta({
    locale: v.request.consent.locale, acceptedAt: v.request.consent.accepted_at, transactionId: v.request.consent.transaction_id,
  }));
  assert.equal(b64urlEncode(payload), v.request.payload);
  const key = await aesGcmKey(fromHex(v.request_key), ["encrypt"]);
  const sealed = await sealMessage(key, REQUEST_LABEL, v.session_id, payload, b64urlDecode(v.request.nonce));
  assert.deepEqual(sealed, { nonce: v.request.nonce, ciphertext: v.request.ciphertext });
});

test("the answer sealed by Python opens and is a decision on this attempt", async () => {
  const key = await aesGcmKey(fromHex(v.response_key), ["decrypt"]);
  const opened = await openMessage(key, RESPONSE_LABEL, v.session_id, v.answer.body);
  assert.equal(b64urlEncode(opened), v.answer.plaintext);
  assert.deepEqual(JSON.parse(new TextDecoder().decode(opened)), v.answer.answer);
  const a = v.answer.answer;
  assert.deepEqual({ ...parseAnswer(opened, { sessionId: v.session_id, transactionId: v.transaction_id }) }, {
    decision: a.decision, hint: a.hint, assurance: a.assurance, transactionId: a.transaction_id, sessionId: a.session_id,
  });
  const reason = (expected) => {
    try {
      parseAnswer(opened, expected);
    } catch (err) {
      assert.ok(err instanceof ProtocolError);
      return err.reason;
    }
    return "accepted";
  };
  assert.equal(reason({ sessionId: "another", transactionId: v.transaction_id }), "verify answer is about another attempt");
  assert.equal(reason({ sessionId: v.session_id, transactionId: "another" }), "verify answer is about another attempt");
});

test("the answer is refused under another key, session, direction or with a flipped bit", async () => {
  const key = await aesGcmKey(fromHex(v.response_key), ["decrypt"]);
  const body = v.answer.body;
  const refused = (k, label, session, b) => assert.rejects(openMessage(k, label, session, b), ProtocolError);
  await openMessage(key, RESPONSE_LABEL, v.session_id, body); // opens as sealed
  await refused(await aesGcmKey(fromHex(v.request_key), ["decrypt"]), RESPONSE_LABEL, v.session_id, body);
  await refused(key, RESPONSE_LABEL, "another-session", body);
  await refused(key, REQUEST_LABEL, v.session_id, body);
  await refused(key, RESPONSE_LABEL, v.session_id, { ...body, ciphertext: b64urlEncode(flipBit(b64urlDecode(body.ciphertext), 5)) });
  await refused(key, RESPONSE_LABEL, v.session_id, { ...body, nonce: "AAAA" });
  await refused(key, RESPONSE_LABEL, v.session_id, { nonce: 7 });
});

test("the consent record: the notice version, the locale, the time of agreement, the transaction", () => {
  assert.equal(CONSENT_NOTICE, "2026-12.1");
  assert.deepEqual([...LOCALES], ["en", "hi"]);
  const record = consentMeta({ locale: "hi", acceptedAt: 1_764_316_800_123, transactionId: TRANSACTION.transaction_id });
  assert.deepEqual(Object.keys(record), ["notice", "locale", "accepted_at", "transaction_id"]);
  assert.deepEqual({ ...record }, {
    notice: "2026-12.1", locale: "hi", accepted_at: 1_764_316_800_123, transaction_id: TRANSACTION.transaction_id,
  });
  assert.ok(Object.isFrozen(record));
  const good = { locale: "en", acceptedAt: 1_764_316_800_123, transactionId: TRANSACTION.transaction_id };
  for (const bad of [{ locale: "fr" }, { locale: "" }, { acceptedAt: 1.5 }, { acceptedAt: "1764316800123" }, { acceptedAt: 0 },
    { transactionId: "short" }, { transactionId: undefined }]) {
    assert.throws(() => consentMeta({ ...good, ...bad }), TypeError, JSON.stringify(bad));
  }
});

test("the payload: u32 meta length, meta with each frame's size and integer t and the consent, then the frames", () => {
  const burst = [
    { bytes: Uint8Array.of(0xff, 0xd8, 0xff, 1), t: -3 },
    { bytes: Uint8Array.of(0xff, 0xd8, 0xff, 2, 2), t: 83 },
    { bytes: Uint8Array.of(0xff, 0xd8, 0xff, 3, 3, 3), t: 5991 },
  ];
  const payload = encodePayload(burst, consentMeta({ locale: "hi", acceptedAt: 1_764_316_800_123, transactionId: TRANSACTION.transaction_id }));
  const length = new DataView(payload.buffer, payload.byteOffset).getUint32(0, false);
  // Byte for byte what Python's json.dumps(meta, separators=(",", ":")) writes
  // (secureface.verify.request.encode_payload): frames, then consent, keys in this order.
  assert.equal(new TextDecoder().decode(payload.subarray(4, 4 + length)),
    '{"frames":[{"size":4,"t":-3},{"size":5,"t":83},{"size":6,"t":5991}],'
    + `"consent":{"notice":"2026-12.1","locale":"hi","accepted_at":1764316800123,"transaction_id":"${TRANSACTION.transaction_id}"}}`);
  assert.deepEqual([...payload.subarray(4 + length)], burst.flatMap((f) => [...f.bytes]));
  assert.equal(payload.length, 4 + length + 15);
  assert.ok(!new TextDecoder().decode(payload).includes("subject"));
});

test("the payload refuses what the server would: frame count and sizes, a consent that is not complete", () => {
  assert.throws(() => encodePayload([], consent), PayloadError);
  assert.throws(() => encodePayload(Array(97).fill(frames[0]), consent), PayloadError);
  assert.throws(() => encodePayload([{ bytes: new Uint8Array(64 * 1024 + 1), t: 1 }], consent), PayloadError);
  assert.throws(() => encodePayload([{ bytes: new Uint8Array(0), t: 1 }], consent), PayloadError);
  assert.throws(() => encodePayload([{ bytes: new Uint8Array(3), t: 1.5 }], consent), PayloadError);
  const big = { bytes: new Uint8Array(64 * 1024), t: 1 };
  assert.throws(() => encodePayload(Array(17).fill(big), consent), /over 1048576 bytes/);
  for (const bad of [undefined, "alice", { ...consent, notice: "2025-01.1" }, { ...consent, locale: "fr" },
    { ...consent, accepted_at: 1.5 }, { ...consent, transaction_id: "x" }]) {
    assert.throws(() => encodePayload(frames, bad), /consent record is incomplete/, JSON.stringify(bad));
  }
});

/** The transaction's verify session with the fake API, then one verify; the result or the error. */
async function attempt(api, { purpose = "verify" } = {}) {
  const pinned = await importVerifyKey(api.root.spki);
  return withFetch(api.fetch, async () => {
    const session = await openSession(api.apiUrl, pinned, { clientToken: CLIENT_TOKEN, purpose, now: () => NOW });
    const result = await submitVerification({ apiUrl: api.apiUrl, session, frames, consent }).catch((err) => err);
    return { session, result };
  });
}

test("submitVerification sends the frames and the consent sealed, and returns the decision", async () => {
  const api = await fakeApi({ now: NOW });
  const { session, result } = await attempt(api);
  assert.deepEqual({ ...result }, {
    decision: "verified", hint: "", assurance: "light", transactionId: TRANSACTION.transaction_id, sessionId: session.sessionId,
  });
  const request = api.requests.find((r) => r.url.pathname === "/verify");
  assert.equal(request.method, "POST");
  assert.equal(request.headers.get("content-type"), "application/json");
  const received = api.verified.get(session.sessionId);
  assert.deepEqual(received.meta, {
    frames: frames.map((f) => ({ size: f.bytes.length, t: f.t })),
    consent: { notice: "2026-12.1", locale: "en", accepted_at: NOW * 1000 + 123, transaction_id: TRANSACTION.transaction_id },
  });
  assert.deepEqual([...received.frames], frames.flatMap((f) => [...f.bytes]));
});

test("not_verified and locked decisions come back with their hint and assurance", async () => {
  const cases = [["not_verified", "moves_not_followed", "light"], ["not_verified", "", "motion"], ["locked", "", "light"]];
  for (const [decision, hint, assurance] of cases) {
    const { result } = await attempt(await fakeApi({ now: NOW, tamper: { decision: { decision, hint, assurance } } }));
    assert.deepEqual([result.decision, result.hint, result.assurance], [decision, hint, assurance]);
  }
});

test("an answer about another attempt, or not a decision, is a ProtocolError", async () => {
  const cases = {
    // replayed from another session, or another transaction
    "verify answer is about another attempt": [{ decision: { session_id: "c2Vzc2lvbi1vdGhlci0wMQ" } }, { decision: { transaction_id: "dHJhbnNhY3Rpb24tMDAwMg" } }],
    "verify answer is malformed": [
      { decision: { decision: "approved" } }, { decision: { decision: "VERIFIED" } },
      // a hint outside the allowed set would let a server (or a bug) leak which signal refused
      { decision: { decision: "not_verified", hint: "light_not_reflected" } },
      { decision: { assurance: "none" } }, { decision: { type: "secureface-assertion" } },
      { decision: { subject_id: "alice" } }, // nothing but the answer's own fields
      { answerJson: ({ session_id: _, ...rest }) => rest }, { answerJson: () => "not json" }, { answerJson: () => [] },
      { answerJson: () => "null" }, { answerJson: (a) => ({ ...a, session_id: 7 }) },
    ],
    "verify answer does not authenticate": [{ verifyAnswer: (a) => ({ ...a, ciphertext: b64urlEncode(flipBit(b64urlDecode(a.ciphertext), 0)) }) }],
    "verify answer nonce has the wrong length": [{ verifyAnswer: (a) => ({ ...a, nonce: "AAAA" }) }],
  };
  for (const [reason, tampers] of Object.entries(cases)) {
    for (const tamper of tampers) {
      const { result } = await attempt(await fakeApi({ now: NOW, tamper }));
      assert.ok(result instanceof ProtocolError, `${reason}: ${result}`);
      assert.equal(result.reason, reason, JSON.stringify(tamper.decision ?? String(Object.values(tamper)[0])));
    }
  }
  assert.throws(() => parseAnswer(utf8.encode("{"), { sessionId: "s", transactionId: "t" }), /verify answer is malformed/);
});

test("a used session, or a models-only session, answers session_invalid as an ApiError", async () => {
  const api = await fakeApi({ now: NOW });
  const pinned = await importVerifyKey(api.root.spki);
  await withFetch(api.fetch, async () => {
    const models = await openSession(api.apiUrl, pinned, { clientToken: CLIENT_TOKEN, purpose: "models", now: () => NOW });
    const refused = await submitVerification({ apiUrl: api.apiUrl, session: models, frames, consent }).catch((e) => e);
    assert.ok(refused instanceof ApiError);
    assert.deepEqual([refused.status, refused.code], [401, "session_invalid"]);
    const session = await openSession(api.apiUrl, pinned, { clientToken: CLIENT_TOKEN, now: () => NOW });
    const send = () => submitVerification({ apiUrl: api.apiUrl, session, frames, consent });
    await send();
    const err = await send().catch((e) => e);
    assert.ok(err instanceof ApiError);
    assert.deepEqual([err.status, err.code], [401, "session_invalid"]);
  });
});

test("the attempt seals and opens with the session's non-extractable keys: no key bytes to import or wipe", async () => {
  const api = await fakeApi({ now: NOW });
  const pinned = await importVerifyKey(api.root.spki);
  await withFetch(api.fetch, async () => {
    const session = await openSession(api.apiUrl, pinned, { clientToken: CLIENT_TOKEN, now: () => NOW });
    let result;
    const calls = await watchSubtle(async () => {
      result = await submitVerification({ apiUrl: api.apiUrl, session, frames, consent });
    });
    assert.equal(result.decision, "verified");
    assert.ok(calls.some((c) => !c.page), "the fake server's own imports are seen");
    assert.deepEqual(calls.filter((c) => c.page), []);
    for (const key of [session.keys.request, session.keys.response]) {
      assert.equal(key.extractable, false);
      await assert.rejects(crypto.subtle.exportKey("raw", key));
    }
  });
});
