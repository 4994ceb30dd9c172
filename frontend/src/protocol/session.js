// The key exchange (PROTOCOL.md §3): POST /session with the transaction's client token and the
// session's purpose (model download, or the verify attempt), authenticate the answer against the
// pinned key (delegation → transcript signature → echo of our key and nonce → delegation hash →
// expiry), then derive the three session keys. Both ephemeral private keys are non-extractable
// and dropped once the keys are derived; the session keys are derived into non-extractable
// CryptoKeys, each with only its usage, and never kept as bytes (deriveSessionKeys).
import { apiFetch, jsonAnswer } from "./api.js";
import {
  ecdhHkdfKey, generateEcdhKeyPair, hkdfAesGcmKey, hkdfHkdfKey, importVerifyKey, randomBytes, sha256, sha256Hex,
  verifyEs256,
} from "./crypto.js";
import {
  b64urlDecode, b64urlEncode, bytesEqual, concatBytes, isInt, parseJsonBytes, utf8,
} from "./encoding.js";
import { parseChallenge } from "../capture/challenge.js";
import { verifyCompactJws } from "./jws.js";
import { ApiError, ProtocolError } from "./errors.js";
import {
  DELEGATION_CLOCK_SKEW_S, DELEGATION_TYP, DELEGATION_TYPE, EXCHANGE_NONCE_LEN, EXCHANGE_VERSION,
  MAX_DELEGATION_VALIDITY_S, POINT_LEN, SESSION_ID_LEN, SESSION_PURPOSES, TRANSCRIPT_CONTEXT, TRANSCRIPT_TYPE,
} from "./limits.js";

const TRANSCRIPT_PREFIX = utf8.encode(TRANSCRIPT_CONTEXT);

/**
 * @typedef {object} SessionKeys all non-extractable
 * @property {CryptoKey} model K_model as an HKDF key (`deriveKey` only): the input of each model
 *   stream's key (stream.js), which is AES-GCM decrypt-only
 * @property {CryptoKey} request K_request, AES-256-GCM, `encrypt` only (client → server payload)
 * @property {CryptoKey} response K_response, AES-256-GCM, `decrypt` only (server → client answers)
 */

/**
 * @typedef {object} Session
 * @property {string} sessionId base64url, sent as `X-SecureFace-Session`
 * @property {number} issuedAt
 * @property {number} expiresAt
 * @property {import("../capture/challenge.js").Challenge} challenge what the verify step will demand
 * @property {SessionKeys} keys
 */

const nowSeconds = () => Math.floor(Date.now() / 1000);

/**
 * Run the key exchange with the API for a transaction's client token, and authenticate the
 * server. A `models` session only carries model streams (the token stays usable); a `verify`
 * session is the transaction's single attempt (the token is used up).
 * @param {string} apiUrl
 * @param {CryptoKey} pinnedKey the server's long-term ES256 key
 * @param {object} options
 * @param {string} options.clientToken the transaction's client token (flow.js)
 * @param {"models" | "verify"} [options.purpose]
 * @param {"light" | "motion"} [options.liveness] `motion` asks for the motion-only challenge (no
 *   flashing colours), where the operator allows it
 * @param {() => number} [options.now] clock in Unix seconds
 * @returns {Promise<Session>}
 * @throws {ProtocolError | ApiError} 401 invalid_client_token: the token is
 *   unknown, expired or used up
 */
export async function openSession(apiUrl, pinnedKey, { clientToken, purpose = "verify", liveness = "light", now = nowSeconds }) {
  if (typeof clientToken !== "string" || !clientToken) throw new TypeError("openSession needs the client token");
  if (!SESSION_PURPOSES.includes(purpose)) throw new TypeError(`unknown session purpose ${purpose}`);
  const client = await generateEcdhKeyPair();
  const nonce = randomBytes(EXCHANGE_NONCE_LEN);
  const body = JSON.stringify({
    version: EXCHANGE_VERSION,
    client_public_key: b64urlEncode(client.publicRaw),
    client_nonce: b64urlEncode(nonce),
    ...(liveness === "light" ? {} : { liveness }),
    client_token: clientToken,
    purpose,
  });
  const response = await apiFetch(apiUrl, "/session", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body,
  });
  const answer = await jsonAnswer(response, "key-exchange");
  const session = await finishExchange(answer, client, nonce, pinnedKey, { now: now() });
  // Never flash colours at someone who asked for none, nor run a weaker check than asked for.
  if (session.challenge.mode !== liveness) throw new ProtocolError("challenge is not of the mode asked for");
  return session;
}

/**
 * Client side of the exchange once the answer is in (pure: used with the known-answer vector).
 * @param {any} answer the `POST /session` response body
 * @param {import("./crypto.js").EcdhKeyPair} client our ephemeral key pair
 * @param {Uint8Array} nonce our 32-byte nonce
 * @param {CryptoKey} pinnedKey
 * @param {{now: number}} options
 * @returns {Promise<Session>}
 * @throws {ProtocolError}
 */
export async function finishExchange(answer, client, nonce, pinnedKey, { now }) {
  let transcriptBytes, signature, token;
  try {
    transcriptBytes = b64urlDecode(answer.transcript);
    signature = b64urlDecode(answer.signature);
    token = answer.delegation;
  } catch {
    throw new ProtocolError("malformed key-exchange answer");
  }
  const delegatedKey = await verifyDelegation(token, pinnedKey, { now, usage: "session" });
  const signed = concatBytes(TRANSCRIPT_PREFIX, new Uint8Array([0]), transcriptBytes);
  if (!(await verifyEs256(delegatedKey, signature, signed))) {
    throw new ProtocolError("bad transcript signature");
  }
  const t = parseTranscript(transcriptBytes);
  if (!bytesEqual(t.clientPublicKey, client.publicRaw) || !bytesEqual(t.clientNonce, nonce)) {
    throw new ProtocolError("transcript does not echo this client's key and nonce");
  }
  if (t.delegationSha256 !== (await sha256Hex(utf8.encode(token)))) {
    throw new ProtocolError("transcript names another delegation");
  }
  if (now >= t.expiresAt) throw new ProtocolError("session already expired");
  const shared = await sharedSecret(client.privateKey, t.serverPublicKey);
  const keys = await deriveSessionKeys(shared, nonce, t.serverNonce, await sha256(transcriptBytes));
  return Object.freeze({
    sessionId: t.sessionId, issuedAt: t.issuedAt, expiresAt: t.expiresAt, challenge: t.challenge, keys,
  });
}

/**
 * Verify a delegation (PROTOCOL.md §3) and return the delegated ES256 key.
 * @param {string} token compact JWS signed by the pinned key
 * @param {CryptoKey} pinnedKey
 * @param {{now: number, usage: string}} options
 * @returns {Promise<CryptoKey>}
 * @throws {ProtocolError}
 */
export async function verifyDelegation(token, pinnedKey, { now, usage }) {
  const refuse = (/** @type {string} */ reason) => new ProtocolError(`delegation ${reason}`);
  const payload = await verifyCompactJws(token, pinnedKey, DELEGATION_TYP, refuse);
  let raw, key;
  try {
    raw = parseJsonBytes(payload);
    if (raw.type !== DELEGATION_TYPE) throw new Error("not a delegation");
    if (!isInt(raw.not_before) || !isInt(raw.expires_at) || !Array.isArray(raw.usage)) {
      throw new Error("fields");
    }
    key = await importVerifyKey(b64urlDecode(raw.public_key));
  } catch {
    throw refuse("malformed");
  }
  if (raw.expires_at - raw.not_before > MAX_DELEGATION_VALIDITY_S) throw refuse("validity is too long");
  if (now >= raw.expires_at) throw refuse("expired");
  if (raw.not_before > now + DELEGATION_CLOCK_SKEW_S) throw refuse("not yet valid");
  if (!raw.usage.includes(usage)) throw refuse(`not valid for ${usage}`);
  return key;
}

/**
 * @typedef {object} Transcript
 * @property {string} sessionId
 * @property {Uint8Array} clientPublicKey
 * @property {Uint8Array} clientNonce
 * @property {Uint8Array} serverPublicKey
 * @property {Uint8Array} serverNonce
 * @property {number} issuedAt
 * @property {number} expiresAt
 * @property {import("../capture/challenge.js").Challenge} challenge
 * @property {string} delegationSha256
 */

/**
 * Decode a transcript of this version (signature already checked).
 * @param {Uint8Array} bytes canonical JSON
 * @returns {Transcript}
 * @throws {ProtocolError}
 */
function parseTranscript(bytes) {
  try {
    const raw = parseJsonBytes(bytes);
    if (raw.type !== TRANSCRIPT_TYPE || raw.version !== EXCHANGE_VERSION) throw new Error(`not v${EXCHANGE_VERSION}`);
    const t = {
      sessionId: raw.session_id,
      clientPublicKey: b64urlDecode(raw.client_public_key),
      clientNonce: b64urlDecode(raw.client_nonce),
      serverPublicKey: b64urlDecode(raw.server_public_key),
      serverNonce: b64urlDecode(raw.server_nonce),
      issuedAt: raw.issued_at,
      expiresAt: raw.expires_at,
      challenge: parseChallenge(raw.challenge),
      delegationSha256: raw.delegation_sha256,
    };
    const ok = b64urlDecode(t.sessionId).length === SESSION_ID_LEN
      && t.serverNonce.length === EXCHANGE_NONCE_LEN && isInt(t.issuedAt) && isInt(t.expiresAt)
      && typeof t.delegationSha256 === "string";
    if (!ok) throw new Error("fields");
    return t;
  } catch {
    throw new ProtocolError("malformed transcript");
  }
}

/**
 * @param {CryptoKey} privateKey
 * @param {Uint8Array} serverPoint
 * @returns {Promise<CryptoKey>} Z as a non-extractable HKDF key
 */
async function sharedSecret(privateKey, serverPoint) {
  if (serverPoint.length !== POINT_LEN || serverPoint[0] !== 4) {
    throw new ProtocolError("server key is not an uncompressed P-256 point");
  }
  try {
    return await ecdhHkdfKey(privateKey, serverPoint);
  } catch {
    throw new ProtocolError("server key is not a point on P-256");
  }
}

/**
 * K_p = HKDF-SHA256(Z, client_nonce ‖ server_nonce, "secureface/v1 key " ‖ p ‖ 0x00 ‖ TH, 32), the
 * same bytes as the server's, each derived into a non-extractable CryptoKey: K_request
 * (encrypt) and K_response (decrypt) straight into AES-GCM by `deriveKey`; K_model, the input of
 * a further HKDF per model stream, into an HKDF key (`deriveKey` only; see crypto.js
 * hkdfHkdfKey).
 * @param {CryptoKey} shared Z as an HKDF key (crypto.js ecdhHkdfKey)
 * @param {Uint8Array} clientNonce
 * @param {Uint8Array} serverNonce
 * @param {Uint8Array} transcriptHash TH
 * @returns {Promise<Readonly<SessionKeys>>}
 */
export async function deriveSessionKeys(shared, clientNonce, serverNonce, transcriptHash) {
  const salt = concatBytes(clientNonce, serverNonce);
  const info = (/** @type {string} */ p) => concatBytes(utf8.encode(`secureface/v1 key ${p}`), new Uint8Array([0]), transcriptHash);
  const [model, request, response] = await Promise.all([
    hkdfHkdfKey(shared, salt, info("model")),
    hkdfAesGcmKey(shared, salt, info("request"), "encrypt"),
    hkdfAesGcmKey(shared, salt, info("response"), "decrypt"),
  ]);
  return Object.freeze({ model, request, response });
}
