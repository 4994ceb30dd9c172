// Known-answer vectors (tests/vectors/protocol.json, python -m vectors): the browser modules
// must agree with the Python implementation byte for byte; the relying party's result token is
// checked by a second implementation (WebCrypto).
import assert from "node:assert/strict";
import { test } from "node:test";
import { importEcdhKeyPair, importVerifyKey, sha256, sha256Hex } from "../src/protocol/crypto.js";
import { b64urlDecode, b64urlEncode, fromHex, toHex } from "../src/protocol/encoding.js";
import { verifyManifest } from "../src/protocol/manifest.js";
import { finishExchange } from "../src/protocol/session.js";
import { createOpener, parseHeader, streamId } from "../src/protocol/stream.js";
import { REQUEST_LABEL, RESPONSE_LABEL } from "../src/protocol/limits.js";
import { openMessage, sealMessage } from "../src/protocol/verify.js";
import {
  canonicalJson, flipBit, formulaPlaintext, modelKey, sealStream, serverSessionKeys, vectors,
} from "../testing/helpers.js";
import { ManifestError, ProtocolError } from "../src/protocol/errors.js";

const rootKey = () => importVerifyKey(b64urlDecode(vectors.root_spki));
const s = vectors.stream;
const body = () => s.segments.map(b64urlDecode);

test("manifest vector verifies with the pinned key", async () => {
  const m = vectors.manifest;
  const manifest = await verifyManifest(m.token, await rootKey(), { now: m.now });
  assert.equal(manifest.manifest_version, m.manifest_version);
  assert.equal(manifest.expires_at, m.expires_at);
  assert.deepEqual(manifest.models, m.models);
});

test("manifest vector is refused once expired", async () => {
  const m = vectors.manifest;
  await assert.rejects(verifyManifest(m.token, await rootKey(), { now: m.expires_at }),
    (err) => err instanceof ManifestError && err.reason === "expired");
});

test("manifest vector is refused with any tampered byte", async () => {
  const { token, now } = vectors.manifest;
  const key = await rootKey();
  const [header, payload, signature] = token.split(".");
  const payloadBytes = b64urlDecode(payload);
  const tampered = [
    [header, Buffer.from(flipBit(payloadBytes, 40)).toString("base64url"), signature].join("."),
    [header, payload, Buffer.from(flipBit(b64urlDecode(signature), 10)).toString("base64url")].join("."),
    [Buffer.from(flipBit(b64urlDecode(header), 3)).toString("base64url"), payload, signature].join("."),
  ];
  for (const bad of tampered) {
    await assert.rejects(verifyManifest(bad, key, { now }), ManifestError);
  }
});

test("manifest vector is refused below the high-water mark (rollback), accepted at it", async () => {
  const { token, now, manifest_version: version } = vectors.manifest;
  const key = await rootKey();
  await assert.rejects(verifyManifest(token, key, { now, minVersion: version + 1 }),
    (err) => err.reason === `rollback: version ${version} < ${version + 1}`);
  assert.equal((await verifyManifest(token, key, { now, minVersion: version })).manifest_version, version);
});

test("manifest vector is refused under another key", async () => {
  const other = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
  await assert.rejects(verifyManifest(vectors.manifest.token, other.publicKey, { now: vectors.manifest.now }),
    (err) => err.reason === "bad signature");
});

const exchangeInputs = async () => {
  const x = vectors.exchange;
  return [await importEcdhKeyPair(x.client_private_jwk), b64urlDecode(x.client_nonce), await rootKey()];
};

test("exchange vector derives the expected session id and keys (known answers: non-extractable keys)", async () => {
  const x = vectors.exchange;
  const [client, nonce, root] = await exchangeInputs();
  assert.equal(Buffer.from(client.publicRaw).toString("base64url"), x.client_public_key);
  const session = await finishExchange(x.response, client, nonce, root, { now: x.now });
  assert.equal(session.sessionId, x.expected.session_id);
  // K_request seals the known plaintext to Python's ciphertext, byte for byte
  const req = x.expected.request_sealed;
  const sealed = await sealMessage(session.keys.request, REQUEST_LABEL, session.sessionId, b64urlDecode(req.plaintext), b64urlDecode(req.nonce));
  assert.deepEqual(sealed, { nonce: req.nonce, ciphertext: req.ciphertext });
  // K_response opens Python's
  const res = x.expected.response_sealed;
  assert.equal(b64urlEncode(await openMessage(session.keys.response, RESPONSE_LABEL, session.sessionId, res)), res.plaintext);
  // K_model opens the stream vector, sealed by Python under this session's K_model
  assert.deepEqual([s.model_key, s.session_id], [x.expected.model_key, session.sessionId]);
  const opener = await createOpener(session.keys.model, streamId(session.sessionId, s.entry), fromHex(s.header));
  assert.deepEqual(await opener.openAll(Buffer.concat(body())), formulaPlaintext(s.entry.size));
  assert.deepEqual([...session.challenge.moves], ["center", "left", "up", "right"]);
  assert.equal(session.challenge.captureMs, 6000);
  assert.equal(session.challenge.light.length, 11);
});

test("exchange vector: ECDH, transcript hash and the fake server's key schedule match", async () => {
  const x = vectors.exchange;
  const [client, nonce] = await exchangeInputs();
  const transcript = JSON.parse(Buffer.from(x.response.transcript, "base64url"));
  assert.equal(canonicalJson(transcript), Buffer.from(x.response.transcript, "base64url").toString());
  const peer = await crypto.subtle.importKey("raw", b64urlDecode(transcript.server_public_key), { name: "ECDH", namedCurve: "P-256" }, false, []);
  const shared = new Uint8Array(await crypto.subtle.deriveBits({ name: "ECDH", public: peer }, client.privateKey, 256));
  assert.equal(toHex(shared), x.expected.shared_secret);
  const th = b64urlDecode(x.response.transcript);
  assert.equal(await sha256Hex(th), x.expected.transcript_sha256);
  assert.equal(client.privateKey.extractable, false);
  // The fake API (testing/helpers.js) derives the server's raw keys: Python's, byte for byte.
  const keys = await serverSessionKeys(shared, nonce, b64urlDecode(transcript.server_nonce), await sha256(th));
  assert.deepEqual(Object.fromEntries(Object.entries(keys).map(([p, k]) => [p, toHex(k)])),
    { model: x.expected.model_key, request: x.expected.request_key, response: x.expected.response_key });
});

test("exchange vector is refused when tampered, expired or for another client", async () => {
  const x = vectors.exchange;
  const [client, nonce, root] = await exchangeInputs();
  const sig = b64urlDecode(x.response.signature);
  const cases = [
    [{ ...x.response, signature: Buffer.from(flipBit(sig, 5)).toString("base64url") }, nonce, x.now, "bad transcript signature"],
    [{ ...x.response, transcript: Buffer.from(flipBit(b64urlDecode(x.response.transcript), 30)).toString("base64url") }, nonce, x.now, "bad transcript signature"],
    [x.response, flipBit(nonce, 0), x.now, "transcript does not echo this client's key and nonce"],
    [x.response, nonce, x.now + 290, "session already expired"],
    [x.response, nonce, x.now + 3600, "delegation expired"],
    [x.response, nonce, x.now - 10 - 301, "delegation not yet valid"],
    [{ ...x.response, delegation: x.response.delegation.slice(0, -2) + "AA" }, nonce, x.now, "delegation bad signature"],
  ];
  for (const [answer, n, now, reason] of cases) {
    await assert.rejects(finishExchange(answer, client, n, root, { now }),
      (err) => err instanceof ProtocolError && err.reason === reason, reason);
  }
});

const opener = async (header = fromHex(s.header), sid = s.session_id) =>
  createOpener(await modelKey(fromHex(s.model_key)), streamId(sid, s.entry), header);

test("stream vector: stream id and header", () => {
  assert.equal(toHex(streamId(s.session_id, s.entry)), s.stream_id);
  const h = parseHeader(fromHex(s.header));
  assert.equal(h.segmentSize, s.segment_size);
  assert.equal(h.plaintextSize, s.entry.size);
  assert.equal(h.segmentCount, s.segments.length);
});

test("stream vector opens to the formula plaintext", async () => {
  const plain = await (await opener()).openAll(Buffer.concat(body()));
  assert.deepEqual(plain, formulaPlaintext(s.entry.size));
  assert.equal(await sha256Hex(plain), s.entry.sha256);
});

test("the test sealer reproduces the stream vector byte for byte", async () => {
  const sealed = await sealStream(fromHex(s.model_key), streamId(s.session_id, s.entry), formulaPlaintext(s.entry.size), s.segment_size);
  assert.equal(toHex(sealed.header), s.header);
  assert.deepEqual(sealed.segments.map((x) => Buffer.from(x).toString("base64url")), s.segments);
});

test("stream vector: a flipped bit in any segment is refused", async () => {
  const o = await opener();
  for (const [i, seg] of body().entries()) {
    const segs = body();
    segs[i] = flipBit(seg, (i * 7919) % seg.length, 3);
    await assert.rejects(o.openAll(Buffer.concat(segs)), (err) => err.reason === `segment ${i} failed authentication`);
  }
});

test("stream vector: reordered segments are refused", async () => {
  const [a, b, c] = body();
  await assert.rejects((await opener()).openAll(Buffer.concat([b, a, c])), ProtocolError);
  // the last segment moved to an earlier position has the wrong length
  await assert.rejects((await opener()).openAll(Buffer.concat([a, c, b])), ProtocolError);
});

test("stream vector: truncation and trailing bytes are refused", async () => {
  const o = await opener();
  const segs = body();
  await assert.rejects(o.openAll(Buffer.concat(segs.slice(0, 2))), (err) => err.reason === "stream body is truncated");
  await assert.rejects(o.openAll(Buffer.concat(segs).subarray(0, -1)), (err) => err.reason === "stream body is truncated");
  await assert.rejects(o.openAll(Buffer.concat([...segs, new Uint8Array(1)])), (err) => err.reason === "stream body has trailing bytes");
  // a stream whose header claims fewer segments (dropping the last) fails: `last` flag and AAD
  const shortHeader = fromHex(s.header);
  new DataView(shortHeader.buffer).setBigUint64(8, BigInt(2 * s.segment_size));
  new DataView(shortHeader.buffer).setUint32(16, 2);
  await assert.rejects(async () => (await opener(shortHeader)).openAll(Buffer.concat(segs.slice(0, 2))), ProtocolError);
});

test("stream vector: segments spliced from another session or model are refused", async () => {
  const plaintext = formulaPlaintext(s.entry.size);
  const otherSession = "AAAAAAAAAAAAAAAAAAAAAA";
  const other = await sealStream(fromHex(s.model_key), streamId(otherSession, s.entry), plaintext, s.segment_size);
  const otherBody = Buffer.concat(other.segments);
  // the other stream, header and all, does not open under this stream's key
  await assert.rejects((await opener(other.header)).openAll(otherBody), (err) => /^segment \d failed authentication$/.test(err.reason));
  // nor under this stream's header (another nonce prefix in the AAD and the nonces)
  await assert.rejects((await opener()).openAll(otherBody), (err) => /^segment \d failed authentication$/.test(err.reason));
  // its segments, under this stream's header, fail authentication
  const segs = body();
  segs[1] = other.segments[1];
  await assert.rejects((await opener()).openAll(Buffer.concat(segs)), (err) => err.reason === "segment 1 failed authentication");
  // the same bytes announced as another model version: another stream id, another key
  const renamed = await createOpener(await modelKey(fromHex(s.model_key)), streamId(s.session_id, { ...s.entry, version: "2024" }), fromHex(s.header));
  await assert.rejects(renamed.openAll(Buffer.concat(body())), ProtocolError);
});

test("stream vector: a header whose nonce prefix was altered does not open", async () => {
  for (const index of [20, 23, 26]) {
    await assert.rejects((await opener(flipBit(fromHex(s.header), index))).openAll(Buffer.concat(body())),
      (err) => /^segment \d failed authentication$/.test(err.reason), `prefix byte ${index}`);
  }
});

test("stream vector: a tampered header is refused", async () => {
  for (const index of [0, 5, 12, 19, 30]) {
    await assert.rejects(opener(flipBit(fromHex(s.header), index)), ProtocolError, `header byte ${index}`);
  }
  await assert.rejects(opener(fromHex(s.header).subarray(0, 31)), (err) => err.reason === "stream header has the wrong length");
});

const r = vectors.result_token;

/** The result token's header, claims and whether its ES256 signature verifies with `jwk`. */
async function readResult(token, jwk) {
  const [h, p, s] = token.split(".");
  const key = await crypto.subtle.importKey("jwk", { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y },
    { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
  const valid = await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, b64urlDecode(s), new TextEncoder().encode(`${h}.${p}`));
  const json = (part) => JSON.parse(new TextDecoder().decode(b64urlDecode(part)));
  return { header: json(h), claims: json(p), valid };
}

test("result token vector: ES256 under the JWKS key its kid names (RFC 7638), with the expected claims", async () => {
  // What a relying party checks (PROTOCOL.md §7); the page never sees a result token, but the
  // vector is checked by a second implementation here (WebCrypto) besides Python's and PyJWT.
  const [jwk] = r.jwks.keys;
  const thumbprint = b64urlEncode(new Uint8Array(await crypto.subtle.digest("SHA-256",
    new TextEncoder().encode(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })))));
  assert.equal(jwk.kid, thumbprint);
  const { header, claims, valid } = await readResult(r.token, jwk);
  assert.ok(valid);
  assert.deepEqual(header, { alg: "ES256", kid: jwk.kid, typ: "secureface-result+jwt" });
  assert.deepEqual(claims, r.expected.claims);
  assert.deepEqual([claims.iss, claims.aud, claims.nonce, claims.sub], [r.expected.issuer, r.expected.audience, r.expected.nonce, r.expected.subject]);
  assert.ok(claims.iat <= r.now && r.now < claims.exp);
  const [h, p, s] = r.token.split(".");
  const forged = `${h}.${b64urlEncode(new TextEncoder().encode(JSON.stringify({ ...claims, sub: "mallory" })))}.${s}`;
  assert.equal((await readResult(forged, jwk)).valid, false);
});
