// The verify step (PROTOCOL.md §5): the Python vectors of tests/vectors/verify.json byte for
// byte, then submitVerification against the fake API, and every refusal of the answer.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { ApiError } from "../src/api.js";
import { importAesGcmEncryptKey, importAesGcmKey, importVerifyKey } from "../src/crypto.js";
import { b64urlDecode, b64urlEncode, fromHex, utf8 } from "../src/encoding.js";
import { ProtocolError } from "../src/errors.js";
import { openSession } from "../src/session.js";
import {
  PayloadError, REQUEST_LABEL, RESPONSE_LABEL, encodePayload, openMessage, sealMessage, submitVerification, verifyAssertion,
} from "../src/verify.js";
import { fakeApi, flipBit, signJws, withFetch } from "../testing/helpers.js";

const v = JSON.parse(readFileSync(new URL("../../tests/vectors/verify.json", import.meta.url), "utf8"));
const NOW = 1_764_316_800;
const frames = v.request.frames.map((f, i) => ({ bytes: b64urlDecode(f), t: v.request.times_ms[i] }));
const expected = { now: v.now, sessionId: v.session_id, subjectId: "alice" };

test("the payload container and the sealed request equal Python's byte for byte", async () => {
  const payload = encodePayload(v.request.subject_id, frames);
  assert.equal(b64urlEncode(payload), v.request.payload);
  const key = await importAesGcmEncryptKey(fromHex(v.request_key));
  const sealed = await sealMessage(key, REQUEST_LABEL, v.session_id, payload, b64urlDecode(v.request.nonce));
  assert.deepEqual(sealed, { nonce: v.request.nonce, ciphertext: v.request.ciphertext });
});

test("the answer sealed by Python opens, and its assertion verifies against the root key", async () => {
  const key = await importAesGcmKey(fromHex(v.response_key));
  const bundle = JSON.parse(new TextDecoder().decode(await openMessage(key, RESPONSE_LABEL, v.session_id, v.answer.body)));
  assert.deepEqual(bundle, v.answer.bundle);
  const root = await importVerifyKey(b64urlDecode(v.root_spki));
  const a = v.answer.assertion;
  assert.deepEqual({ ...(await verifyAssertion(bundle, root, expected)) }, {
    subjectId: a.subject_id, decision: a.decision, hint: a.hint, assurance: a.assurance, sessionId: a.session_id,
    issuedAt: a.issued_at, expiresAt: a.expires_at,
  });
});

test("the answer is refused under another key, session, direction or with a flipped bit", async () => {
  const key = await importAesGcmKey(fromHex(v.response_key));
  const body = v.answer.body;
  const refused = (k, label, session, b) => assert.rejects(openMessage(k, label, session, b), ProtocolError);
  await refused(await importAesGcmKey(fromHex(v.request_key)), RESPONSE_LABEL, v.session_id, body);
  await refused(key, RESPONSE_LABEL, "another-session", body);
  await refused(key, REQUEST_LABEL, v.session_id, body);
  await refused(key, RESPONSE_LABEL, v.session_id, { ...body, ciphertext: b64urlEncode(flipBit(b64urlDecode(body.ciphertext), 5)) });
  await refused(key, RESPONSE_LABEL, v.session_id, { ...body, nonce: "AAAA" });
  await refused(key, RESPONSE_LABEL, v.session_id, { nonce: 7 });
});

test("an assertion is refused: another key, expired, another session or subject, session-only delegation", async () => {
  const root = await importVerifyKey(b64urlDecode(v.root_spki));
  const bundle = v.answer.bundle;
  const reason = (p) => p.then(() => assert.fail("accepted"), (err) => {
    assert.ok(err instanceof ProtocolError, String(err));
    return err.reason;
  });
  const other = await fakeApi({ now: NOW });
  assert.equal(await reason(verifyAssertion(bundle, await importVerifyKey(other.root.spki), expected)), "delegation bad signature");
  assert.equal(await reason(verifyAssertion(bundle, root, { ...expected, now: v.answer.assertion.expires_at })), "assertion expired");
  assert.equal(await reason(verifyAssertion(bundle, root, { ...expected, sessionId: "x" })), "assertion names another session or subject");
  assert.equal(await reason(verifyAssertion(bundle, root, { ...expected, subjectId: "bob" })), "assertion names another session or subject");
  assert.equal(await reason(verifyAssertion({ ...bundle, delegation: v.session_only_delegation }, root, expected)), "delegation not valid for assertion");
  const [h, p, s] = bundle.assertion.split(".");
  const forged = `${h}.${b64urlEncode(utf8.encode(JSON.stringify({ ...v.answer.assertion, decision: "verified", subject_id: "mallory" })))}.${s}`;
  assert.equal(await reason(verifyAssertion({ ...bundle, assertion: forged }, root, expected)), "assertion bad signature");
  assert.equal(await reason(verifyAssertion({ assertion: p }, root, expected)), "assertion bundle malformed");
});

test("the payload: u32 meta length, meta with each frame's size and integer t, then the frames in order", () => {
  const burst = [
    { bytes: Uint8Array.of(0xff, 0xd8, 0xff, 1), t: -3 },
    { bytes: Uint8Array.of(0xff, 0xd8, 0xff, 2, 2), t: 83 },
    { bytes: Uint8Array.of(0xff, 0xd8, 0xff, 3, 3, 3), t: 5991 },
  ];
  const payload = encodePayload("alice", burst);
  const length = new DataView(payload.buffer, payload.byteOffset).getUint32(0, false);
  const meta = JSON.parse(new TextDecoder().decode(payload.subarray(4, 4 + length)));
  assert.deepEqual(meta, { subject_id: "alice", frames: [{ size: 4, t: -3 }, { size: 5, t: 83 }, { size: 6, t: 5991 }] });
  assert.deepEqual([...payload.subarray(4 + length)], burst.flatMap((f) => [...f.bytes]));
  assert.equal(payload.length, 4 + length + 15);
});

test("the payload refuses what the server would: subject id, frame count and sizes", () => {
  for (const bad of ["", "-x", "a b", "a".repeat(65), { $ne: null }, "é"]) {
    assert.throws(() => encodePayload(bad, frames), PayloadError, String(bad));
  }
  assert.throws(() => encodePayload("alice", []), PayloadError);
  assert.throws(() => encodePayload("alice", Array(97).fill(frames[0])), PayloadError);
  assert.throws(() => encodePayload("alice", [{ bytes: new Uint8Array(64 * 1024 + 1), t: 1 }]), PayloadError);
  assert.throws(() => encodePayload("alice", [{ bytes: new Uint8Array(0), t: 1 }]), PayloadError);
  assert.throws(() => encodePayload("alice", [{ bytes: new Uint8Array(3), t: 1.5 }]), PayloadError);
  const big = { bytes: new Uint8Array(64 * 1024), t: 1 };
  assert.throws(() => encodePayload("alice", Array(17).fill(big)), /over 1048576 bytes/);
});

/** A session with the fake API, then one verify; returns the result or the error. */
async function attempt(api, { subjectId = "alice", now = () => NOW } = {}) {
  const pinned = await importVerifyKey(api.root.spki);
  return withFetch(api.fetch, async () => {
    const session = await openSession(api.apiUrl, pinned, { now });
    const result = await submitVerification({ apiUrl: api.apiUrl, session, pinnedKey: pinned, subjectId, frames, now })
      .catch((err) => err);
    return { session, result };
  });
}

test("submitVerification sends the frames sealed and returns the verified decision", async () => {
  const api = await fakeApi({ now: NOW });
  const { session, result } = await attempt(api);
  assert.equal(result.assertion.decision, "verified");
  assert.equal(result.assertion.sessionId, session.sessionId);
  assert.equal(typeof result.bundle.assertion, "string");
  const request = api.requests.find((r) => r.url.pathname === "/verify");
  assert.equal(request.method, "POST");
  assert.equal(request.headers.get("content-type"), "application/json");
  const received = api.verified.get(session.sessionId);
  assert.deepEqual(received.meta, {
    subject_id: "alice", frames: frames.map((f) => ({ size: f.bytes.length, t: f.t })),
  });
  assert.deepEqual([...received.frames], frames.flatMap((f) => [...f.bytes]));
});

test("not_verified and locked decisions come back as signed, with their hint", async () => {
  for (const [decision, hint] of [["not_verified", "moves_not_followed"], ["not_verified", ""], ["locked", ""]]) {
    const { result } = await attempt(await fakeApi({ now: NOW, tamper: { decision: { decision, hint } } }));
    assert.deepEqual([result.assertion.decision, result.assertion.hint], [decision, hint]);
  }
});

test("a forged, replayed or misdirected answer is refused", async () => {
  const cases = {
    "assertion names another session or subject": { decision: { session_id: "another" } },
    "assertion expired": { decision: { expires_at: NOW } },
    "verify answer does not authenticate": { verifyAnswer: (a) => ({ ...a, ciphertext: b64urlEncode(flipBit(b64urlDecode(a.ciphertext), 0)) }) },
    "assertion bundle malformed": { bundle: (b) => ({ delegation: b.delegation }) },
    // a hint outside the allowed set would let a server (or a bug) leak which signal refused
    "assertion malformed": { decision: { decision: "not_verified", hint: "light_not_reflected" } },
  };
  for (const [reason, tamper] of Object.entries(cases)) {
    const { result } = await attempt(await fakeApi({ now: NOW, tamper }));
    assert.ok(result instanceof ProtocolError, `${reason}: ${result}`);
    assert.equal(result.reason, reason);
  }
  // An assertion signed by a key the pinned key never delegated.
  const impostor = await fakeApi({ now: NOW });
  const token = await signJws(impostor.delegated.privateKey, { typ: "secureface-assertion+jws" }, { type: "secureface-assertion" });
  const { result } = await attempt(await fakeApi({ now: NOW, tamper: { bundle: (b) => ({ ...b, assertion: token }) } }));
  assert.equal(result.reason, "assertion bad signature");
});

test("a used session answers session_invalid as an ApiError", async () => {
  const api = await fakeApi({ now: NOW });
  const pinned = await importVerifyKey(api.root.spki);
  await withFetch(api.fetch, async () => {
    const session = await openSession(api.apiUrl, pinned, { now: () => NOW });
    const send = () => submitVerification({ apiUrl: api.apiUrl, session, pinnedKey: pinned, subjectId: "alice", frames, now: () => NOW });
    await send();
    const err = await send().catch((e) => e);
    assert.ok(err instanceof ApiError);
    assert.deepEqual([err.status, err.code], [401, "session_invalid"]);
  });
});

test("the session's raw key bytes are wiped once the keys are imported", async () => {
  const api = await fakeApi({ now: NOW });
  const { session, result } = await attempt(api);
  assert.equal(result.assertion.decision, "verified");
  for (const key of Object.values(session.keys)) assert.ok(key.every((b) => b === 0));
});
