// openSession against a fake API: the whole exchange for a transaction's client token, and every
// refusal of PROTOCOL.md §3.
import assert from "node:assert/strict";
import { test } from "node:test";
import { generateEcdhKeyPair, importEcdhKeyPair, importVerifyKey } from "../src/protocol/crypto.js";
import { b64urlDecode, b64urlEncode, utf8 } from "../src/protocol/encoding.js";
import { finishExchange, openSession, verifyDelegation } from "../src/protocol/session.js";
import { createOpener, streamId } from "../src/protocol/stream.js";
import { REQUEST_LABEL, RESPONSE_LABEL } from "../src/protocol/limits.js";
import { openMessage, sealMessage } from "../src/protocol/verify.js";
import {
  CHALLENGE, CLIENT_TOKEN, MOTION_CHALLENGE, aesGcmKey, entryFor, es256KeyPair, fakeApi, sealStream, signJws, vectors,
  watchSubtle, withFetch,
} from "../testing/helpers.js";
import { ApiError, ProtocolError } from "../src/protocol/errors.js";

const NOW = 1_764_316_800;
/** A models-only session of the fake API's transaction (it may open five). */
const MODELS = Object.freeze({ clientToken: CLIENT_TOKEN, purpose: "models" });
const clock = () => NOW;
const pinned = (api) => importVerifyKey(api.root.spki);

/** @returns {Promise<ProtocolError>} the refusal of an exchange with this fake API */
async function refusal(api, now = clock) {
  const key = await pinned(api);
  return withFetch(api.fetch, () => openSession(api.apiUrl, key, { ...MODELS, now }).then(
    () => assert.fail("session accepted"), (err) => err));
}

/** The session's keys, checked against the (fake) server's raw ones by using them. */
async function assertKeysAgree(keys, server, sessionId) {
  const aad = (label) => utf8.encode(`${label}\0${sessionId}`);
  const plain = utf8.encode("frames and consent");
  // K_request: what the page seals, the server opens (and K_response would not)
  const { nonce, ciphertext } = await sealMessage(keys.request, REQUEST_LABEL, sessionId, plain);
  const open = async (raw) => new Uint8Array(await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: b64urlDecode(nonce), additionalData: aad(REQUEST_LABEL) }, await aesGcmKey(raw, ["decrypt"]), b64urlDecode(ciphertext)));
  assert.deepEqual(await open(server.request), plain);
  await assert.rejects(open(server.response));
  // K_response: what the server seals, the page opens
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const answer = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: aad(RESPONSE_LABEL) },
    await aesGcmKey(server.response, ["encrypt"]), plain));
  const sealed = { nonce: b64urlEncode(iv), ciphertext: b64urlEncode(answer) };
  assert.deepEqual(await openMessage(keys.response, RESPONSE_LABEL, sessionId, sealed), plain);
  // K_model: a stream the server seals, the page opens
  const model = crypto.getRandomValues(new Uint8Array(40_000));
  const entry = await entryFor("m", model);
  const stream = await sealStream(server.model, streamId(sessionId, entry), model, 16 * 1024);
  const opener = await createOpener(keys.model, streamId(sessionId, entry), stream.header);
  assert.deepEqual(await opener.openAll(Buffer.concat(stream.segments)), model);
  return opener;
}

test("openSession authenticates the server and agrees on the keys", async () => {
  const api = await fakeApi({ now: NOW });
  const session = await withFetch(api.fetch, async () => openSession(api.apiUrl, await pinned(api), { ...MODELS, now: clock }));
  await assertKeysAgree(session.keys, api.sessions.get(session.sessionId), session.sessionId);
  assert.equal(session.expiresAt, NOW + 300);
  const [request] = api.requests;
  assert.equal(request.method, "POST");
  assert.equal(request.url.href, "https://api.test/session");
  assert.equal(request.headers.get("content-type"), "application/json");
});

test("no session key is extractable, and each has only the usage it needs", async () => {
  const api = await fakeApi({ now: NOW });
  const session = await withFetch(api.fetch, async () => openSession(api.apiUrl, await pinned(api), { ...MODELS, now: clock }));
  const { model, request, response } = session.keys;
  assert.deepEqual(Object.keys(session.keys).sort(), ["model", "request", "response"]);
  assert.ok(Object.isFrozen(session.keys));
  const opener = await assertKeysAgree(session.keys, api.sessions.get(session.sessionId), session.sessionId);
  const streamKey = opener._key;
  for (const key of [model, request, response, streamKey]) {
    assert.ok(key instanceof CryptoKey);
    assert.equal(key.extractable, false);
    for (const format of ["raw", "jwk"]) await assert.rejects(crypto.subtle.exportKey(format, key));
  }
  // K_model only derives (each stream's key); K_request only encrypts; K_response and a stream
  // key only decrypt
  assert.deepEqual([model.algorithm, model.usages], [{ name: "HKDF" }, ["deriveKey"]]);
  assert.deepEqual([request.algorithm, request.usages], [{ name: "AES-GCM", length: 256 }, ["encrypt"]]);
  assert.deepEqual([response.algorithm, response.usages], [{ name: "AES-GCM", length: 256 }, ["decrypt"]]);
  assert.deepEqual([streamKey.algorithm, streamKey.usages], [{ name: "AES-GCM", length: 256 }, ["decrypt"]]);
  const iv = new Uint8Array(12);
  const data = new Uint8Array(48);
  await assert.rejects(crypto.subtle.decrypt({ name: "AES-GCM", iv }, request, data));
  await assert.rejects(crypto.subtle.encrypt({ name: "AES-GCM", iv }, response, data));
  await assert.rejects(crypto.subtle.encrypt({ name: "AES-GCM", iv }, streamKey, data));
  await assert.rejects(crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: data, info: data }, model, 256));
});

test("the ephemeral ECDH private key is generated non-extractable", async () => {
  const { privateKey, publicRaw } = await generateEcdhKeyPair();
  assert.equal(privateKey.extractable, false);
  assert.deepEqual(privateKey.usages, ["deriveBits"]);
  for (const format of ["pkcs8", "jwk"]) await assert.rejects(crypto.subtle.exportKey(format, privateKey));
  assert.equal(publicRaw.length, 65);
});

test("the exchange handles no session key as bytes: only Z and K_model pass through JS, each zeroed once imported", async () => {
  const x = vectors.exchange;
  const client = await importEcdhKeyPair(x.client_private_jwk);
  const root = await importVerifyKey(b64urlDecode(vectors.root_spki));
  let session;
  const calls = await watchSubtle(async () => {
    session = await finishExchange(x.response, client, b64urlDecode(x.client_nonce), root, { now: x.now });
  });
  assert.equal(session.sessionId, x.expected.session_id);
  assert.ok(calls.every((c) => c.page), "every call is the page's");
  assert.deepEqual(calls.filter((c) => c.name === "exportKey"), []);
  // deriveBits: Z (ECDH) and K_model (HKDF) only, both zeroed by the time the exchange returns
  const bits = calls.filter((c) => c.name === "deriveBits");
  assert.deepEqual(bits.map((c) => c.args[0].name), ["ECDH", "HKDF"]);
  for (const { result } of bits) assert.ok(new Uint8Array(result).every((b) => b === 0), "derived bits left in memory");
  // raw imports: the server's public point, and those two as HKDF keys (deriving only); never an AES key
  const raw = calls.filter((c) => c.name === "importKey" && c.args[0] === "raw");
  assert.deepEqual(raw.map((c) => [c.args[2].name ?? c.args[2], c.args[3], c.args[4]]), [
    ["ECDH", false, []], ["HKDF", false, ["deriveKey", "deriveBits"]], ["HKDF", false, ["deriveKey"]],
  ]);
  // K_request and K_response come straight out of deriveKey
  const derived = calls.filter((c) => c.name === "deriveKey").map((c) => [c.args[2].name, c.args[3], c.args[4]]);
  assert.deepEqual(derived, [["AES-GCM", false, ["encrypt"]], ["AES-GCM", false, ["decrypt"]]]);
  // and a model stream is opened without any key bytes at all
  const s = vectors.stream;
  const streamCalls = await watchSubtle(async () => {
    const opener = await createOpener(session.keys.model, streamId(session.sessionId, s.entry), Buffer.from(s.header, "hex"));
    await opener.openAll(Buffer.concat(s.segments.map(b64urlDecode)));
  });
  assert.deepEqual(streamCalls.map((c) => [c.name, c.args[2].name, c.args[3], c.args[4]]), [["deriveKey", "AES-GCM", false, ["decrypt"]]]);
});

test("the hello carries a fresh 65-byte point and 32-byte nonce each time", async () => {
  const bodies = [];
  const api = await fakeApi({ now: NOW });
  const spy = (url, init) => {
    if (init?.method === "POST") bodies.push(JSON.parse(init.body));
    return api.fetch(url, init);
  };
  const key = await pinned(api);
  await withFetch(spy, async () => {
    await openSession(api.apiUrl, key, { ...MODELS, now: clock });
    await openSession(api.apiUrl, key, { ...MODELS, now: clock });
  });
  for (const body of bodies) {
    assert.equal(body.version, 2);
    assert.equal(b64urlDecode(body.client_public_key).length, 65);
    assert.equal(b64urlDecode(body.client_nonce).length, 32);
  }
  assert.notEqual(bodies[0].client_public_key, bodies[1].client_public_key);
  assert.notEqual(bodies[0].client_nonce, bodies[1].client_nonce);
});

test("a server not chaining to the pinned key is refused", async () => {
  const api = await fakeApi({ now: NOW });
  const impostor = await fakeApi({ now: NOW });
  const key = await pinned(api);
  const err = await withFetch(impostor.fetch, () => openSession(api.apiUrl, key, { ...MODELS, now: clock }).catch((e) => e));
  assert.ok(err instanceof ProtocolError);
  assert.equal(err.reason, "delegation bad signature");
});

/** A fetch that rewrites the exchange's answer (a man in the middle). */
const rewriting = (api, rewrite) => async (url, init) => {
  const response = await api.fetch(url, init);
  if (init?.method !== "POST") return response;
  return new Response(JSON.stringify(await rewrite(await response.json())), { status: 200 });
};

test("an answer replayed to another hello is refused (echo of our key and nonce)", async () => {
  const api = await fakeApi({ now: NOW });
  let first;
  const replay = rewriting(api, (answer) => (first ??= answer));
  const key = await pinned(api);
  await withFetch(replay, () => openSession(api.apiUrl, key, { ...MODELS, now: clock }));
  const err = await withFetch(replay, () => openSession(api.apiUrl, key, { ...MODELS, now: clock }).catch((e) => e));
  assert.equal(err.reason, "transcript does not echo this client's key and nonce");
});

test("a transcript naming another delegation is refused", async () => {
  const api = await fakeApi({ now: NOW });
  // Another delegation of the same delegated key, validly signed by the root.
  const other = await signJws(api.root.privateKey, { typ: "secureface-delegation+jws" }, {
    type: "secureface-delegation", public_key: b64urlEncode(api.delegated.spki), not_before: NOW,
    expires_at: NOW + 3600, usage: ["session"],
  });
  assert.notEqual(other, api.delegationToken);
  const err = await withFetch(rewriting(api, (answer) => ({ ...answer, delegation: other })),
    async () => openSession(api.apiUrl, await pinned(api), { ...MODELS, now: clock }).catch((e) => e));
  assert.equal(err.reason, "transcript names another delegation");
});

test("a delegation of another key does not authenticate the transcript", async () => {
  const api = await fakeApi({ now: NOW });
  const intruder = await es256KeyPair();
  const other = await signJws(api.root.privateKey, { typ: "secureface-delegation+jws" }, {
    type: "secureface-delegation", public_key: b64urlEncode(intruder.spki), not_before: NOW,
    expires_at: NOW + 3600, usage: ["session"],
  });
  const err = await withFetch(rewriting(api, (answer) => ({ ...answer, delegation: other })),
    async () => openSession(api.apiUrl, await pinned(api), { ...MODELS, now: clock }).catch((e) => e));
  assert.equal(err.reason, "bad transcript signature");
});

test("expired sessions and delegations are refused", async () => {
  const api = await fakeApi({ now: NOW });
  assert.equal((await refusal(api, () => NOW + 300)).reason, "session already expired");
  assert.equal((await refusal(api, () => NOW + 3540)).reason, "delegation expired");
  assert.equal((await refusal(api, () => NOW - 60 - 301)).reason, "delegation not yet valid");
});

test("delegation rules: 24 h at most, usage, type", async () => {
  const root = await es256KeyPair();
  const delegated = await es256KeyPair();
  const payload = { type: "secureface-delegation", public_key: b64urlEncode(delegated.spki),
    not_before: NOW, expires_at: NOW + 3600, usage: ["session"] };
  const check = async (changes, header = { typ: "secureface-delegation+jws" }) => {
    const token = await signJws(root.privateKey, header, { ...payload, ...changes });
    return verifyDelegation(token, await importVerifyKey(root.spki), { now: NOW + 1, usage: "session" })
      .then(() => "ok", (err) => err.reason);
  };
  assert.equal(await check({}), "ok");
  assert.equal(await check({ expires_at: NOW + 24 * 3600 }), "ok");
  assert.equal(await check({ expires_at: NOW + 24 * 3600 + 1 }), "delegation validity is too long");
  assert.equal(await check({ usage: ["assertion"] }), "delegation not valid for session");
  // Dated in the future: within the 300 s skew it is taken, beyond it refused.
  assert.equal(await check({ not_before: NOW + 301, expires_at: NOW + 3600 }), "ok");
  assert.equal(await check({ not_before: NOW + 302, expires_at: NOW + 3600 }), "delegation not yet valid");
  assert.equal(await check({ not_before: NOW + 30 * 24 * 3600, expires_at: NOW + 30 * 24 * 3600 + 60 }),
    "delegation not yet valid");
  assert.equal(await check({ type: "secureface-manifest" }), "delegation malformed");
  assert.equal(await check({ public_key: "AAAA" }), "delegation malformed");
  assert.equal(await check({ not_before: "0" }), "delegation malformed");
  assert.equal(await check({}, { typ: "secureface-manifest+jws" }), "delegation wrong algorithm or type");
  assert.equal(await check({}, { typ: "secureface-delegation+jws", alg: "none" }), "delegation wrong algorithm or type");
});

test("API errors and malformed answers end the exchange with a clear error", async () => {
  const key = (await es256KeyPair()).publicKey;
  const answer = (status, body) => async () => new Response(body, { status });
  const run = (fetchImpl) => withFetch(fetchImpl, () => openSession("https://api.test", key, { ...MODELS, now: clock }).catch((e) => e));
  const down = await run(async () => { throw new TypeError("fetch failed"); });
  assert.ok(down instanceof ApiError);
  assert.equal(down.status, 0);
  assert.match(down.message, /^The service cannot be reached/);
  const busy = await run(answer(503, JSON.stringify({ statusCode: 503, code: "service_unavailable", message: "Try later" })));
  assert.deepEqual([busy.status, busy.code, busy.message], [503, "service_unavailable", "Try later"]);
  assert.equal((await run(answer(200, "not json"))).reason, "key-exchange answer is not JSON");
  assert.equal((await run(answer(200, "{}"))).reason, "malformed key-exchange answer");
});

test("the motion-only check is asked for in the hello, and the challenge must be of the mode asked", async () => {
  const bodies = [];
  const api = await fakeApi({ now: NOW });
  const spy = (url, init) => {
    if (init?.method === "POST") bodies.push(JSON.parse(init.body));
    return api.fetch(url, init);
  };
  const key = await pinned(api);
  const motion = await withFetch(spy, () => openSession(api.apiUrl, key, { ...MODELS, now: clock, liveness: "motion" }));
  const light = await withFetch(spy, () => openSession(api.apiUrl, key, { ...MODELS, now: clock }));
  assert.deepEqual([bodies[0].liveness, "liveness" in bodies[1]], ["motion", false]);
  assert.deepEqual([motion.challenge.mode, motion.challenge.light.length, light.challenge.mode], ["motion", 0, "light"]);
  // A server answering a request for no flashing colours with a light schedule is refused (and
  // the other way round: a weaker check than asked for).
  for (const [liveness, challenge] of [["motion", CHALLENGE], ["light", MOTION_CHALLENGE]]) {
    const other = await fakeApi({ now: NOW, tamper: { challenge: () => challenge } });
    const err = await withFetch(other.fetch, async () => openSession(other.apiUrl, await pinned(other), { ...MODELS, now: clock, liveness })
      .then(() => assert.fail("accepted"), (e) => e));
    assert.ok(err instanceof ProtocolError);
    assert.equal(err.reason, "challenge is not of the mode asked for");
  }
});

test("the hello names the transaction's client token and the session's purpose", async () => {
  const bodies = [];
  const api = await fakeApi({ now: NOW });
  const spy = (url, init) => {
    if (init?.method === "POST") bodies.push(JSON.parse(init.body));
    return api.fetch(url, init);
  };
  const key = await pinned(api);
  const models = await withFetch(spy, () => openSession(api.apiUrl, key, { ...MODELS, now: clock }));
  const verify = await withFetch(spy, () => openSession(api.apiUrl, key, { clientToken: CLIENT_TOKEN, now: clock }));
  assert.deepEqual(bodies.map((b) => [b.client_token, b.purpose]), [[CLIENT_TOKEN, "models"], [CLIENT_TOKEN, "verify"]]);
  assert.deepEqual([api.purposes.get(models.sessionId), api.purposes.get(verify.sessionId)], ["models", "verify"]);
  // No token, or an unknown purpose, never reaches the network.
  await assert.rejects(openSession(api.apiUrl, key, { now: clock }), TypeError);
  await assert.rejects(openSession(api.apiUrl, key, { clientToken: CLIENT_TOKEN, purpose: "assertion" }), TypeError);
  assert.equal(bodies.length, 2);
});

test("a verify session uses the token up; models sessions do not (five at most)", async () => {
  const api = await fakeApi({ now: NOW });
  const key = await pinned(api);
  const open = (options) => withFetch(api.fetch, () => openSession(api.apiUrl, key, { clientToken: CLIENT_TOKEN, now: clock, ...options })
    .then(() => "opened", (err) => (err instanceof ApiError ? `${err.status} ${err.code}` : err)));
  for (let i = 0; i < 5; i++) assert.equal(await open({ purpose: "models" }), "opened");
  assert.equal(await open({ purpose: "models" }), "401 invalid_client_token");
  assert.equal(await open({}), "opened");
  assert.equal(await open({}), "401 invalid_client_token");
  assert.equal(await open({ clientToken: "A".repeat(43) }), "401 invalid_client_token");
});
