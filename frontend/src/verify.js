// The verify step (PROTOCOL.md §5): the captured frames and the subject id in the payload
// container, sealed with AES-256-GCM under K_request (associated data: direction label and
// session id), POST /verify; the answer opened under K_response, and the signed assertion checked
// against the pinned key (delegation for "assertion" → assertion JWS → expiry → session id and
// subject). The browser never decides: it shows the server's signed decision.
import { apiFetch } from "./api.js";
import { aesGcmDecrypt, aesGcmEncrypt, importAesGcmEncryptKey, importAesGcmKey, randomBytes } from "./crypto.js";
import { b64urlDecode, b64urlEncode, concatBytes, isInt, parseJsonBytes, u32be, utf8 } from "./encoding.js";
import { ProtocolError } from "./errors.js";
import { verifyCompactJws } from "./jws.js";
import { verifyDelegation } from "./session.js";

export const REQUEST_LABEL = "secureface/v1/verify-request";
export const RESPONSE_LABEL = "secureface/v1/verify-response";
export const ASSERTION_TYP = "secureface-assertion+jws";
const ASSERTION_TYPE = "secureface-assertion";
export const DECISIONS = Object.freeze(["verified", "not_verified", "locked"]);
/** The server's subject id rule (secureface.verify.request.SUBJECT_RE). */
export const SUBJECT_RE = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
/** The server's limits (secureface.verify.request): frames per burst, bytes per frame, bytes
 * per payload, how far a frame time may lie outside the capture. */
export const MAX_FRAMES = 96;
export const MAX_FRAME_BYTES = 64 * 1024;
export const MAX_PAYLOAD = 1024 * 1024;
export const TIME_SLACK_MS = 2000;
/** What the person may be told about a refusal (secureface.verify.liveness.CLIENT_HINTS). */
export const HINTS = Object.freeze(["", "no_face", "multiple_faces", "too_dark", "too_far", "moves_not_followed"]);
export const ASSURANCES = Object.freeze(["light", "motion"]);
const NONCE_LEN = 12;
/** Time allowed for the server to analyse the frames and answer. */
export const VERIFY_TIMEOUT_MS = 60_000;

/**
 * @typedef {object} Assertion the server's verified decision
 * @property {string} subjectId
 * @property {"verified" | "not_verified" | "locked"} decision
 * @property {string} hint "" or what the person can act on (HINTS)
 * @property {"light" | "motion"} assurance the challenge performed
 * @property {string} sessionId
 * @property {number} issuedAt
 * @property {number} expiresAt
 */

/** The frames or the subject id cannot be sent (checked before anything leaves the browser). */
export class PayloadError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = "PayloadError";
  }
}

/**
 * The plaintext: u32 meta_length ‖ meta (UTF-8 JSON) ‖ frame 0 ‖ frame 1 ‖ … (big-endian);
 * meta = {"subject_id", "frames": [{"size", "t"}, …]}, `t` ms from the challenge's time zero.
 * @param {string} subjectId
 * @param {import("./capture.js").CapturedFrame[]} frames in capture order
 * @returns {Uint8Array}
 * @throws {PayloadError}
 */
export function encodePayload(subjectId, frames) {
  if (typeof subjectId !== "string" || !SUBJECT_RE.test(subjectId)) {
    throw new PayloadError("the user ID must be 1 to 64 letters, digits or . _ @ -, starting with a letter or digit");
  }
  if (!Array.isArray(frames) || frames.length < 1 || frames.length > MAX_FRAMES) {
    throw new PayloadError(`between 1 and ${MAX_FRAMES} frames are needed`);
  }
  if (frames.some((f) => !(f.bytes?.length > 0 && f.bytes.length <= MAX_FRAME_BYTES) || !isInt(f.t))) {
    throw new PayloadError(`every frame must be 1 byte to ${MAX_FRAME_BYTES} bytes, with its capture time`);
  }
  const meta = utf8.encode(JSON.stringify({
    subject_id: subjectId,
    frames: frames.map((f) => ({ size: f.bytes.length, t: f.t })),
  }));
  const payload = concatBytes(u32be(meta.length), meta, ...frames.map((f) => f.bytes));
  if (payload.length > MAX_PAYLOAD) throw new PayloadError(`the frames are over ${MAX_PAYLOAD} bytes in all`);
  return payload;
}

/** @param {string} label @param {string} sessionId */
const aad = (label, sessionId) => utf8.encode(`${label}\0${sessionId}`);

/**
 * Seal a message for `sessionId` in the direction named by `label`.
 * @param {CryptoKey} key AES-256-GCM, encrypt-only
 * @param {string} label
 * @param {string} sessionId
 * @param {Uint8Array} plaintext
 * @param {Uint8Array} [nonce] 12 random bytes (fixed only by known-answer tests)
 * @returns {Promise<{nonce: string, ciphertext: string}>}
 */
export async function sealMessage(key, label, sessionId, plaintext, nonce = randomBytes(NONCE_LEN)) {
  const ciphertext = await aesGcmEncrypt(key, nonce, plaintext, aad(label, sessionId));
  return { nonce: b64urlEncode(nonce), ciphertext: b64urlEncode(ciphertext) };
}

/**
 * Open a sealed message.
 * @param {CryptoKey} key AES-256-GCM, decrypt-only
 * @param {string} label
 * @param {string} sessionId
 * @param {any} body `{nonce, ciphertext}`
 * @returns {Promise<Uint8Array>}
 * @throws {ProtocolError}
 */
export async function openMessage(key, label, sessionId, body) {
  let nonce, sealed;
  try {
    nonce = b64urlDecode(body.nonce);
    sealed = b64urlDecode(body.ciphertext);
  } catch {
    throw new ProtocolError("verify answer is malformed");
  }
  if (nonce.length !== NONCE_LEN) throw new ProtocolError("verify answer nonce has the wrong length");
  try {
    return await aesGcmDecrypt(key, nonce, sealed, aad(label, sessionId));
  } catch {
    throw new ProtocolError("verify answer does not authenticate");
  }
}

/**
 * Check an assertion bundle as a relying party does, and that it answers this attempt.
 * @param {any} bundle `{assertion, delegation}`
 * @param {CryptoKey} pinnedKey
 * @param {{now: number, sessionId: string, subjectId: string}} expected
 * @returns {Promise<Assertion>}
 * @throws {ProtocolError}
 */
export async function verifyAssertion(bundle, pinnedKey, { now, sessionId, subjectId }) {
  const refuse = (reason) => new ProtocolError(`assertion ${reason}`);
  if (typeof bundle?.assertion !== "string" || typeof bundle?.delegation !== "string") throw refuse("bundle malformed");
  const delegatedKey = await verifyDelegation(bundle.delegation, pinnedKey, { now, usage: "assertion" });
  const payload = await verifyCompactJws(bundle.assertion, delegatedKey, ASSERTION_TYP, refuse);
  let raw;
  try {
    raw = parseJsonBytes(payload);
  } catch {
    throw refuse("malformed");
  }
  const ok = raw?.type === ASSERTION_TYPE && DECISIONS.includes(raw.decision) && HINTS.includes(raw.hint)
    && ASSURANCES.includes(raw.assurance)
    && typeof raw.session_id === "string" && typeof raw.subject_id === "string"
    && isInt(raw.issued_at) && isInt(raw.expires_at);
  if (!ok) throw refuse("malformed");
  if (now >= raw.expires_at) throw refuse("expired");
  if (raw.session_id !== sessionId || raw.subject_id !== subjectId) throw refuse("names another session or subject");
  return Object.freeze({
    subjectId: raw.subject_id, decision: raw.decision, hint: raw.hint, assurance: raw.assurance,
    sessionId: raw.session_id,
    issuedAt: raw.issued_at, expiresAt: raw.expires_at,
  });
}

/**
 * Zero a session's raw key bytes once they are no longer needed (imported or used).
 * @param {import("./session.js").Session} session
 */
export function wipeKeys(session) {
  for (const key of Object.values(session.keys)) key.fill(0);
}

/**
 * Send the frames of one attempt and return the verified decision. The session is single-use:
 * the server consumes it whatever the outcome, and its raw key bytes are wiped here.
 * @param {object} options
 * @param {string} options.apiUrl
 * @param {import("./session.js").Session} options.session
 * @param {CryptoKey} options.pinnedKey
 * @param {string} options.subjectId
 * @param {import("./capture.js").CapturedFrame[]} options.frames the burst, in capture order
 * @param {() => number} [options.now] Unix seconds
 * @returns {Promise<{assertion: Assertion, bundle: {assertion: string, delegation: string}}>}
 * @throws {PayloadError | ProtocolError | import("./api.js").ApiError}
 */
export async function submitVerification({ apiUrl, session, pinnedKey, subjectId, frames, now = () => Math.floor(Date.now() / 1000) }) {
  const payload = encodePayload(subjectId, frames);
  const requestKey = await importAesGcmEncryptKey(session.keys.request);
  const responseKey = await importAesGcmKey(session.keys.response);
  wipeKeys(session); // from here on only the non-extractable CryptoKeys exist
  const sealed = await sealMessage(requestKey, REQUEST_LABEL, session.sessionId, payload);
  payload.fill(0);
  const response = await apiFetch(apiUrl, "/verify", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ session_id: session.sessionId, ...sealed }),
    timeoutMs: VERIFY_TIMEOUT_MS,
  });
  let answer;
  try {
    answer = await response.json();
  } catch {
    throw new ProtocolError("verify answer is not JSON");
  }
  let bundle;
  try {
    bundle = parseJsonBytes(await openMessage(responseKey, RESPONSE_LABEL, session.sessionId, answer));
  } catch (err) {
    if (err instanceof ProtocolError) throw err;
    throw new ProtocolError("verify answer is malformed");
  }
  const assertion = await verifyAssertion(bundle, pinnedKey, { now: now(), sessionId: session.sessionId, subjectId });
  return { assertion, bundle: { assertion: bundle.assertion, delegation: bundle.delegation } };
}
