// Test helpers: the known-answer vectors, and a fake SecureFace API written directly on
// WebCrypto (a second, independent implementation of the server side, raw keys and all: checked
// against the vectors in vectors.test.js before the other tests rely on it).
import { readFileSync } from "node:fs";
import { b64urlEncode, concatBytes, fromHex, u32be, utf8 } from "../src/protocol/encoding.js";
import { streamId } from "../src/protocol/stream.js";

const subtle = globalThis.crypto.subtle;

/** The vectors written by python -m vectors. */
export const vectors = JSON.parse(readFileSync(new URL("../../tests/vectors/protocol.json", import.meta.url), "utf8"));

/**
 * Plaintext of the stream vector: byte i = (7*i + 3) mod 256.
 * @param {number} size
 */
export const formulaPlaintext = (size) => Uint8Array.from({ length: size }, (_, i) => (7 * i + 3) % 256);

/**
 * Canonical JSON: sorted keys, no whitespace (ASCII input only in these tests).
 * @param {unknown} value
 * @returns {string}
 */
export function canonicalJson(value) {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const object = /** @type {Record<string, unknown>} */ (value);
    return `{${Object.keys(object).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(object[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** A fresh ES256 key pair; `spki` is the DER public key. */
export async function es256KeyPair() {
  const pair = await subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
  return { ...pair, spki: new Uint8Array(await subtle.exportKey("spki", pair.publicKey)) };
}

/**
 * Raw r‖s ES256 signature.
 * @param {CryptoKey} privateKey
 * @param {Uint8Array<ArrayBuffer>} message
 */
export async function signEs256(privateKey, message) {
  return new Uint8Array(await subtle.sign({ name: "ECDSA", hash: "SHA-256" }, privateKey, message));
}

/**
 * A compact JWS over canonical JSON.
 * @param {CryptoKey} privateKey
 * @param {Record<string, unknown>} header `alg` is ES256 unless given
 * @param {unknown} payload
 */
export async function signJws(privateKey, header, payload) {
  const input = `${b64urlEncode(utf8.encode(canonicalJson({ alg: "ES256", ...header })))}.${b64urlEncode(utf8.encode(canonicalJson(payload)))}`;
  return `${input}.${b64urlEncode(await signEs256(privateKey, utf8.encode(input)))}`;
}

/**
 * The server's key schedule (PROTOCOL.md §3), as bytes: the fake API is a server and holds its
 * keys raw, as the real one does. K_p = HKDF-SHA256(Z, client_nonce ‖ server_nonce,
 * "secureface/v1 key " ‖ p ‖ 0x00 ‖ TH, 32).
 * @param {Uint8Array<ArrayBuffer>} shared the ECDH shared secret Z
 * @param {Uint8Array} clientNonce
 * @param {Uint8Array} serverNonce
 * @param {Uint8Array} transcriptHash TH
 * @returns {Promise<SessionKeyBytes>}
 */
export async function serverSessionKeys(shared, clientNonce, serverNonce, transcriptHash) {
  const ikm = await subtle.importKey("raw", shared, "HKDF", false, ["deriveBits"]);
  const salt = concatBytes(clientNonce, serverNonce);
  const derive = async (/** @type {string} */ p) => new Uint8Array(await subtle.deriveBits({
    name: "HKDF", hash: "SHA-256", salt, info: concatBytes(utf8.encode(`secureface/v1 key ${p}`), new Uint8Array([0]), transcriptHash),
  }, ikm, 256));
  const [model, request, response] = await Promise.all(["model", "request", "response"].map(derive));
  return { model, request, response };
}

/**
 * @typedef {{model: Uint8Array<ArrayBuffer>, request: Uint8Array<ArrayBuffer>, response: Uint8Array<ArrayBuffer>}} SessionKeyBytes
 */

/**
 * A raw AES-256-GCM key for `usages` (known-answer tests: the page never imports one).
 * @param {Uint8Array<ArrayBuffer>} raw
 * @param {KeyUsage[]} usages
 */
export const aesGcmKey = (raw, usages) => subtle.importKey("raw", raw, "AES-GCM", false, usages);

/**
 * A raw K_model as the HKDF key the page holds (known-answer tests).
 * @param {Uint8Array<ArrayBuffer>} raw
 */
export const modelKey = (raw) => subtle.importKey("raw", raw, "HKDF", false, ["deriveKey"]);

/**
 * Flip one bit of a copy.
 * @param {Uint8Array} bytes
 * @param {number} index
 */
export function flipBit(bytes, index, bit = 0) {
  const copy = bytes.slice();
  copy[index] ^= 1 << bit;
  return copy;
}

/**
 * Seal a plaintext as a stream (PROTOCOL.md §4): {header, segments}.
 * @param {Uint8Array<ArrayBuffer>} modelKey K_model, raw
 * @param {Uint8Array} streamIdBytes
 * @param {Uint8Array<ArrayBuffer>} plaintext
 * @param {number} segmentSize
 */
export async function sealStream(modelKey, streamIdBytes, plaintext, segmentSize) {
  const ikm = await subtle.importKey("raw", modelKey, "HKDF", false, ["deriveBits"]);
  const info = concatBytes(utf8.encode("secureface/v1/model-stream\0"), streamIdBytes);
  const okm = new Uint8Array(await subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info }, ikm, 39 * 8));
  const key = await subtle.importKey("raw", okm.subarray(0, 32), "AES-GCM", false, ["encrypt"]);
  const prefix = okm.subarray(32);
  const count = Math.max(1, Math.ceil(plaintext.length / segmentSize));
  const header = new Uint8Array(32);
  const view = new DataView(header.buffer);
  header.set(utf8.encode("SFS1"));
  view.setUint32(4, segmentSize);
  view.setBigUint64(8, BigInt(plaintext.length));
  view.setUint32(16, count);
  header.set(prefix, 20);
  const segments = [];
  for (let i = 0; i < count; i++) {
    const iv = concatBytes(prefix, u32be(i), new Uint8Array([i === count - 1 ? 1 : 0]));
    const chunk = plaintext.subarray(i * segmentSize, (i + 1) * segmentSize);
    segments.push(new Uint8Array(await subtle.encrypt({ name: "AES-GCM", iv, additionalData: header }, key, chunk)));
  }
  return { header, segments };
}

const sha256Hex = async (/** @type {Uint8Array<ArrayBuffer>} */ bytes) => Buffer.from(await subtle.digest("SHA-256", bytes)).toString("hex");

/**
 * A manifest entry for `bytes`.
 * @param {string} name
 * @param {Uint8Array<ArrayBuffer>} bytes
 */
export async function entryFor(name, bytes, role = "detector") {
  return { name, version: "v1", role, sha256: await sha256Hex(bytes), size: bytes.length };
}

const json = (/** @type {number} */ status, /** @type {unknown} */ body) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

/** The fake API's transaction: ids of the right shape, a registered relying party. */
export const TRANSACTION = Object.freeze({
  transaction_id: "dHJhbnNhY3Rpb24tMDAwMQ",
  relying_party: Object.freeze({ client_id: "acme-bank", name: "Acme Bank", alternative_url: "https://acme.example/other-ways" }),
  purpose: "sign_in",
  locale: "",
  return_url: "https://acme.example/secureface/return",
  state: "st4te-0f.the_rp~",
});
/** The fake API's client token (43 base64url characters). */
export const CLIENT_TOKEN = "Y2xpZW50LXRva2VuLWZvci10aGUtdGVzdHMtMDEyMzQ";

/**
 * @typedef {object} FakeModel a model the fake API publishes
 * @property {string} name
 * @property {Uint8Array<ArrayBuffer>} bytes what its manifest entry describes
 * @property {string} [role] "detector" unless given
 * @property {Uint8Array<ArrayBuffer>} [served] what its segments carry instead (a replaced model)
 */

/**
 * @typedef {object} RangeTamper one range response, before it is sent
 * @property {string} name
 * @property {number} first
 * @property {number} count
 * @property {Uint8Array<ArrayBuffer>} body
 * @property {string} sessionId
 */

/**
 * @typedef {object} Tamper the attacker's hooks (fakeApi)
 * @property {(answer: ExchangeAnswer) => unknown} [answer]
 * @property {(range: RangeTamper) => Uint8Array<ArrayBuffer> | Promise<Uint8Array<ArrayBuffer>>} [range]
 * @property {Record<string, unknown>} [decision]
 * @property {(answer: Record<string, unknown>) => unknown} [answerJson] an answer, or a string sealed as is
 * @property {(body: {nonce: string, ciphertext: string}) => unknown} [verifyAnswer]
 * @property {(challenge: Readonly<Record<string, unknown>>) => unknown} [challenge] the transcript's
 */

/**
 * @typedef {object} FakeApiOptions
 * @property {FakeModel[]} [models]
 * @property {number} [now] Unix seconds
 * @property {number} [manifestVersion]
 * @property {Tamper} [tamper]
 * @property {Record<string, unknown>} [delegation] fields of the delegation's payload
 * @property {Record<string, unknown>} [flow] fields of the transaction
 */

/** @typedef {{transcript: string, signature: string, delegation: string}} ExchangeAnswer */

/**
 * A fake API answering POST /v1/flow, POST /session (with a transaction's client token: at most
 * 5 `models` sessions, one `verify` session), GET /models/manifest, segment ranges and
 * POST /verify, as `fetch`. `tamper` hooks let a test play the attacker: `answer(body) → body` on
 * the exchange, `range({name, first, count, body}) → body` on each range response,
 * `decision: {...}` sets (or adds) fields of the verify answer, `answerJson(answer) → answer or
 * string` rewrites it whole, `verifyAnswer(body) → body` rewrites the sealed body,
 * `challenge(challenge) → challenge` in the transcript (the challenge follows the hello's
 * `liveness`). `flow` overrides fields of the transaction (TRANSACTION).
 * @param {FakeApiOptions} [options]
 */
export async function fakeApi({ models = [], now = Math.floor(Date.now() / 1000), manifestVersion = 3, tamper = {}, delegation = {}, flow = {} } = {}) {
  const root = await es256KeyPair();
  const delegated = await es256KeyPair();
  const delegationToken = await signJws(root.privateKey, { kid: "root", typ: "secureface-delegation+jws" }, {
    type: "secureface-delegation", public_key: b64urlEncode(delegated.spki), not_before: now - 60,
    expires_at: now + 3540, usage: ["session"], ...delegation,
  });
  const transaction = { ...TRANSACTION, expires_at: now + 600, ...flow };
  /** The transaction's progress: model sessions opened, its verify session (once started). */
  const claims = { models: 0, verifySession: "" };
  const entries = await Promise.all(models.map(({ name, bytes, role }) => entryFor(name, bytes, role)));
  // The manifest has a key of its own (the deploy role's), never the server's.
  const manifestSigner = await es256KeyPair();
  const manifestToken = await signJws(manifestSigner.privateKey, { kid: "manifest", typ: "secureface-manifest+jws" }, {
    type: "secureface-model-manifest", manifest_version: manifestVersion, issued_at: now - 10,
    expires_at: now + 86400, models: entries,
  });
  /** @type {Map<string, SessionKeyBytes>} */
  const sessions = new Map();
  /** Each session's purpose: "models" or "verify". @type {Map<string, string>} */
  const purposes = new Map();
  /** @type {{method: string, url: URL, headers: Headers}[]} */
  const requests = [];
  /** Decrypted verify payloads, by session id; each session is single-use as on the server.
   * @type {Map<string, {meta: unknown, frames: Uint8Array}>} */
  const verified = new Map();

  /**
   * POST /v1/flow: the transaction of a live token (not used up).
   * @param {{client_token?: unknown}} body
   */
  function describe(body) {
    if (typeof body.client_token !== "string" || !/^[A-Za-z0-9_-]{43}$/.test(body.client_token)) {
      return json(400, { statusCode: 400, code: "bad_request", message: "client_token is missing or malformed" });
    }
    if (body.client_token !== CLIENT_TOKEN || claims.verifySession || now >= transaction.expires_at) return invalidToken();
    return json(200, transaction);
  }

  const invalidToken = () => json(401, { statusCode: 401, code: "invalid_client_token", message: "This verification link is invalid or expired" });

  /**
   * The claim a POST /session makes on the transaction; an error Response if refused.
   * @param {{client_token?: unknown, purpose?: unknown}} body
   * @returns {"models" | "verify" | Response}
   */
  function claim(body) {
    const purpose = body.purpose ?? "verify";
    if (typeof body.client_token !== "string" || !/^[A-Za-z0-9_-]{43}$/.test(body.client_token) || (purpose !== "models" && purpose !== "verify")) {
      return json(400, { statusCode: 400, code: "bad_request", message: "Bad request" });
    }
    if (body.client_token !== CLIENT_TOKEN || claims.verifySession || now >= transaction.expires_at) return invalidToken();
    if (purpose === "models" && claims.models >= 5) return invalidToken();
    return purpose;
  }

  /**
   * @param {{client_public_key: string, client_nonce: string, liveness?: string}} body
   * @param {"models" | "verify"} purpose
   * @returns {Promise<ExchangeAnswer>}
   */
  async function exchange(body, purpose) {
    const server = await subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"]);
    const clientPoint = Uint8Array.from(Buffer.from(body.client_public_key, "base64url"));
    const clientKey = await subtle.importKey("raw", clientPoint, { name: "ECDH", namedCurve: "P-256" }, false, []);
    const shared = new Uint8Array(await subtle.deriveBits({ name: "ECDH", public: clientKey }, server.privateKey, 256));
    const sessionId = b64urlEncode(globalThis.crypto.getRandomValues(new Uint8Array(16)));
    const serverNonce = globalThis.crypto.getRandomValues(new Uint8Array(32));
    const transcript = utf8.encode(canonicalJson({
      type: "secureface-session", version: 2, session_id: sessionId,
      client_public_key: body.client_public_key, client_nonce: body.client_nonce,
      server_public_key: b64urlEncode(new Uint8Array(await subtle.exportKey("raw", server.publicKey))),
      server_nonce: b64urlEncode(serverNonce), issued_at: now, expires_at: now + 300,
      challenge: (tamper.challenge ?? ((c) => c))(body.liveness === "motion" ? MOTION_CHALLENGE : CHALLENGE),
      delegation_sha256: await sha256Hex(utf8.encode(delegationToken)),
    }));
    const signature = await signEs256(delegated.privateKey, concatBytes(utf8.encode("secureface/v1/session-transcript\0"), transcript));
    const th = new Uint8Array(await subtle.digest("SHA-256", transcript));
    const keys = await serverSessionKeys(shared, Uint8Array.from(Buffer.from(body.client_nonce, "base64url")), serverNonce, th);
    sessions.set(sessionId, keys);
    purposes.set(sessionId, purpose);
    if (purpose === "verify") claims.verifySession = sessionId;
    else claims.models += 1;
    return { transcript: b64urlEncode(transcript), signature: b64urlEncode(signature), delegation: delegationToken };
  }

  /**
   * @param {URL} url
   * @param {Headers} headers
   */
  async function segments(url, headers) {
    const [, name] = url.pathname.split("/").slice(1);
    const model = models.find((m) => m.name === name);
    const entry = entries.find((e) => e.name === name);
    const sessionId = headers.get("x-secureface-session") ?? "";
    const keys = sessions.get(sessionId);
    if (!keys) return json(401, { statusCode: 401, code: "session_invalid", message: "Session invalid" });
    if (!model || !entry) return json(404, { statusCode: 404, code: "not_found", message: "Unknown model" });
    const first = Number(url.searchParams.get("first"));
    const count = Number(url.searchParams.get("count"));
    const { header, segments: sealed } = await sealStream(keys.model, streamId(sessionId, entry), model.served ?? model.bytes, 1 << 20);
    let body = concatBytes(header, ...sealed.slice(first, first + count));
    if (tamper.range) body = await tamper.range({ name, first, count, body, sessionId });
    return new Response(body, { status: 200, headers: { "content-type": "application/octet-stream" } });
  }

  /**
   * POST /verify: open the payload under K_request, answer the decision under K_response.
   * @param {{session_id: string, nonce: string, ciphertext: string}} body
   */
  async function verify(body) {
    const keys = sessions.get(body.session_id);
    if (!keys || verified.has(body.session_id) || purposes.get(body.session_id) !== "verify") {
      return json(401, { statusCode: 401, code: "session_invalid", message: "Session invalid" });
    }
    const aad = (/** @type {string} */ label) => utf8.encode(`secureface/v1/${label}\0${body.session_id}`);
    const requestKey = await subtle.importKey("raw", keys.request, "AES-GCM", false, ["decrypt"]);
    let payload;
    try {
      payload = new Uint8Array(await subtle.decrypt({ name: "AES-GCM", iv: Uint8Array.from(Buffer.from(body.nonce, "base64url")), additionalData: aad("verify-request") },
        requestKey, Uint8Array.from(Buffer.from(body.ciphertext, "base64url"))));
    } catch {
      return json(400, { statusCode: 400, code: "integrity_error", message: "Request does not open" });
    }
    const metaLength = new DataView(payload.buffer).getUint32(0);
    const meta = JSON.parse(new TextDecoder().decode(payload.subarray(4, 4 + metaLength)));
    verified.set(body.session_id, { meta, frames: payload.subarray(4 + metaLength) });
    // As the server: exactly frames and consent; the consent names this transaction.
    if (Object.keys(meta).sort().join() !== "consent,frames" || meta.consent?.transaction_id !== transaction.transaction_id) {
      return json(400, { statusCode: 400, code: "bad_request", message: "Verify payload metadata is malformed" });
    }
    /** @type {unknown} */
    let answer = {
      type: "secureface-verify-answer", decision: "verified", hint: "", assurance: "light",
      transaction_id: transaction.transaction_id, session_id: body.session_id, ...tamper.decision,
    };
    if (tamper.answerJson) answer = await tamper.answerJson(/** @type {Record<string, unknown>} */ (answer));
    const responseKey = await subtle.importKey("raw", keys.response, "AES-GCM", false, ["encrypt"]);
    const nonce = globalThis.crypto.getRandomValues(new Uint8Array(12));
    const plaintext = utf8.encode(typeof answer === "string" ? answer : JSON.stringify(answer));
    const sealed = new Uint8Array(await subtle.encrypt({ name: "AES-GCM", iv: nonce, additionalData: aad("verify-response") },
      responseKey, plaintext));
    /** @type {unknown} */
    let sealedBody = { nonce: b64urlEncode(nonce), ciphertext: b64urlEncode(sealed) };
    if (tamper.verifyAnswer) sealedBody = await tamper.verifyAnswer(/** @type {{nonce: string, ciphertext: string}} */ (sealedBody));
    return json(200, sealedBody);
  }

  /**
   * The fake API as `fetch` (the page sends its bodies as JSON strings).
   * @param {string | URL} input
   * @param {RequestInit} [init]
   * @returns {Promise<Response>}
   */
  async function fetch(input, init = {}) {
    const url = new URL(input);
    const headers = new Headers(init.headers);
    const body = () => JSON.parse(String(init.body));
    requests.push({ method: init.method || "GET", url, headers });
    if (init.method === "POST" && url.pathname === "/v1/flow") return describe(body());
    if (init.method === "POST" && url.pathname === "/session") {
      const hello = body();
      const purpose = claim(hello);
      if (purpose instanceof Response) return purpose;
      const answer = await exchange(hello, purpose);
      return json(200, tamper.answer ? await tamper.answer(answer) : answer);
    }
    if (init.method === "POST" && url.pathname === "/verify") return verify(body());
    if (url.pathname === "/models/manifest") return json(200, { format: "jws-compact", manifest: manifestToken });
    if (url.pathname.endsWith("/segments")) return segments(url, headers);
    return json(404, { statusCode: 404, code: "not_found", message: "No route" });
  }

  return {
    fetch, root, manifestSigner, delegated, delegationToken, requests, entries, manifestToken, sessions, purposes, verified, transaction, claims,
    clientToken: CLIENT_TOKEN, apiUrl: "https://api.test",
  };
}

/**
 * Run `fn` and record the WebCrypto calls made meanwhile that can carry key bytes (`importKey`,
 * `exportKey`, `deriveBits`, `deriveKey`): `{name, args, result, page}` each, after it resolved;
 * `page` is whether the page's code (frontend/src) made it, not a fake server.
 * @param {() => Promise<unknown>} fn
 * @returns {Promise<{name: string, args: unknown[], result: unknown, page: boolean}[]>}
 */
export async function watchSubtle(fn) {
  /** @type {{name: string, args: unknown[], result: unknown, page: boolean}[]} */
  const calls = [];
  const names = ["importKey", "exportKey", "deriveBits", "deriveKey"];
  // Its methods are replaced in place by one generic wrapper each, then the wrappers deleted
  // (the prototype's methods show again): seen as a table of functions for that.
  const methods = /** @type {Record<string, (...args: unknown[]) => Promise<unknown>>} */ (/** @type {unknown} */ (subtle));
  for (const name of names) {
    const original = methods[name];
    methods[name] = async (...args) => {
      const caller = new Error().stack?.split("\n")[2] ?? "";
      const result = await original.apply(subtle, args);
      calls.push({ name, args, result, page: caller.includes("/frontend/src/") });
      return result;
    };
  }
  try {
    await fn();
  } finally {
    for (const name of names) delete methods[name];
  }
  return calls;
}

/**
 * Run `fn` with `globalThis.fetch` replaced.
 * @template T
 * @param {(input: string | URL | Request, init?: RequestInit) => Promise<Response>} fetchImpl
 * @param {() => T | Promise<T>} fn
 * @returns {Promise<T>}
 */
export async function withFetch(fetchImpl, fn) {
  const original = globalThis.fetch;
  globalThis.fetch = fetchImpl;
  try {
    return await fn();
  } finally {
    globalThis.fetch = original;
  }
}

/** A well-formed challenge (as python -m vectors's), for fake servers and tests. */
export const CHALLENGE = Object.freeze({
  mode: "light",
  moves: ["center", "left", "up", "right"],
  move_ms: 1500,
  light: [["red", 500], ["cyan", 650], ["blue", 400], ["yellow", 700], ["green", 550], ["magenta", 350],
    ["red", 600], ["blue", 450], ["green", 700], ["yellow", 500], ["cyan", 600]],
});

/** The motion-only challenge (no light schedule), what a `"liveness": "motion"` hello gets. */
export const MOTION_CHALLENGE = Object.freeze({ ...CHALLENGE, mode: "motion", light: [] });
