// The verify step (PROTOCOL.md §5): the captured frames and the person's consent in the payload
// container, sealed with AES-256-GCM under K_request (associated data: direction label and
// session id), POST /verify; the answer opened under K_response and checked to be a decision on
// this very attempt (session and transaction). The browser never decides: it shows the server's
// decision, which only this browser and the server can have sealed. The relying party never
// relies on it: it redeems the server's signed result token, server to server.
import { apiFetch, jsonAnswer } from "./api.js";
import { aesGcmDecrypt, aesGcmEncrypt, randomBytes } from "./crypto.js";
import { b64urlDecode, b64urlEncode, concatBytes, isInt, parseJsonBytes, u32be, utf8 } from "./encoding.js";
import { ApiError, PayloadError, ProtocolError } from "./errors.js";
import {
  ANSWER_HINTS, ANSWER_KEYS, ANSWER_TYPE, ASSURANCES, CONSENT_NOTICE, DECISIONS, LOCALES, MAX_FRAME_BYTES, MAX_FRAMES,
  MAX_PAYLOAD, REQUEST_LABEL, RESPONSE_LABEL, TRANSACTION_ID_RE, VERIFY_NONCE_LEN, VERIFY_TIMEOUT_MS,
} from "./limits.js";

/**
 * @typedef {object} VerifyAnswer the server's decision on this attempt
 * @property {"verified" | "not_verified" | "locked"} decision
 * @property {string} hint "" or what the person can act on (ANSWER_HINTS)
 * @property {"light" | "motion"} assurance the challenge performed
 * @property {string} transactionId
 * @property {string} sessionId
 */

/**
 * The plaintext: u32 meta_length ‖ meta (UTF-8 JSON) ‖ frame 0 ‖ frame 1 ‖ … (big-endian);
 * meta = {"frames": [{"size", "t"}, …], "consent": {"notice", "locale", "accepted_at",
 * "transaction_id"}}, `t` ms from the challenge's time zero. No subject: the server takes it from
 * the relying party's transaction.
 * @param {import("../capture/capture.js").CapturedFrame[]} frames in capture order
 * @param {import("../consent.js").ConsentMeta} consent consent.js consentMeta
 * @returns {Uint8Array}
 * @throws {PayloadError}
 */
export function encodePayload(frames, consent) {
  if (!Array.isArray(frames) || frames.length < 1 || frames.length > MAX_FRAMES) {
    throw new PayloadError(`between 1 and ${MAX_FRAMES} frames are needed`);
  }
  if (frames.some((f) => !(f.bytes?.length > 0 && f.bytes.length <= MAX_FRAME_BYTES) || !isInt(f.t))) {
    throw new PayloadError(`every frame must be 1 byte to ${MAX_FRAME_BYTES} bytes, with its capture time`);
  }
  const ok = consent?.notice === CONSENT_NOTICE && LOCALES.includes(consent.locale) && isInt(consent.accepted_at)
    && typeof consent.transaction_id === "string" && TRANSACTION_ID_RE.test(consent.transaction_id);
  if (!ok) throw new PayloadError("the consent record is incomplete");
  // Keys in the server's order (secureface.verify.request.encode_payload): the same bytes.
  const meta = utf8.encode(JSON.stringify({
    frames: frames.map((f) => ({ size: f.bytes.length, t: f.t })),
    consent: {
      notice: consent.notice, locale: consent.locale, accepted_at: consent.accepted_at, transaction_id: consent.transaction_id,
    },
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
export async function sealMessage(key, label, sessionId, plaintext, nonce = randomBytes(VERIFY_NONCE_LEN)) {
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
  if (nonce.length !== VERIFY_NONCE_LEN) throw new ProtocolError("verify answer nonce has the wrong length");
  try {
    return await aesGcmDecrypt(key, nonce, sealed, aad(label, sessionId));
  } catch {
    throw new ProtocolError("verify answer does not authenticate");
  }
}

/**
 * Check an opened answer as strictly as secureface.verify.answer.VerifyAnswer.parse: exactly
 * its fields, a known decision, hint and assurance, about this session and transaction.
 * @param {Uint8Array} bytes the opened answer (UTF-8 JSON)
 * @param {{sessionId: string, transactionId: string}} expected this attempt
 * @returns {Readonly<VerifyAnswer>}
 * @throws {ProtocolError}
 */
export function parseAnswer(bytes, { sessionId, transactionId }) {
  let raw;
  try {
    raw = parseJsonBytes(bytes);
  } catch {
    throw new ProtocolError("verify answer is malformed");
  }
  const ok = raw && typeof raw === "object" && !Array.isArray(raw)
    && Object.keys(raw).sort().join() === ANSWER_KEYS.join()
    && raw.type === ANSWER_TYPE && DECISIONS.includes(raw.decision) && ANSWER_HINTS.includes(raw.hint)
    && ASSURANCES.includes(raw.assurance)
    && typeof raw.session_id === "string" && typeof raw.transaction_id === "string";
  if (!ok) throw new ProtocolError("verify answer is malformed");
  if (raw.session_id !== sessionId || raw.transaction_id !== transactionId) {
    throw new ProtocolError("verify answer is about another attempt");
  }
  return Object.freeze({
    decision: raw.decision, hint: raw.hint, assurance: raw.assurance, transactionId: raw.transaction_id, sessionId: raw.session_id,
  });
}

/**
 * Send the frames of the transaction's attempt with the person's consent, and return the
 * decision. The session is single-use: the server consumes it whatever the outcome. Its keys are
 * non-extractable CryptoKeys (K_request encrypt-only, K_response decrypt-only): there are no key
 * bytes to wipe.
 * @param {object} options
 * @param {string} options.apiUrl
 * @param {import("./session.js").Session} options.session a `verify` session
 * @param {import("../capture/capture.js").CapturedFrame[]} options.frames the burst, in capture order
 * @param {import("../consent.js").ConsentMeta} options.consent names the transaction
 * @returns {Promise<Readonly<VerifyAnswer>>}
 * @throws {PayloadError | ProtocolError | ApiError}
 */
export async function submitVerification({ apiUrl, session, frames, consent }) {
  const payload = encodePayload(frames, consent);
  const sealed = await sealMessage(session.keys.request, REQUEST_LABEL, session.sessionId, payload);
  payload.fill(0);
  const response = await apiFetch(apiUrl, "/verify", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ session_id: session.sessionId, ...sealed }),
    timeoutMs: VERIFY_TIMEOUT_MS,
  });
  const answer = await jsonAnswer(response, "verify");
  const opened = await openMessage(session.keys.response, RESPONSE_LABEL, session.sessionId, answer);
  return parseAnswer(opened, { sessionId: session.sessionId, transactionId: consent.transaction_id });
}
