// The protocol's constants and limits, in one place: every value the page shares with the server
// (each names the Python constant it mirrors; test/constants.test.js checks them against
// tests/vectors/constants.json, test/challenge.test.js the challenge's against
// tests/vectors/challenge.json), then the page's own limits on the API. Values only: no imports,
// no DOM. The face pipeline's parameters are the models', not the protocol's: capture/face.js.

// The key exchange (PROTOCOL.md §3; secureface.sessions.exchange, secureface.crypto.delegation).
/** The exchange's version, in the request and the transcript. */
export const EXCHANGE_VERSION = 2;
export const DELEGATION_TYP = "secureface-delegation+jws";
export const DELEGATION_TYPE = "secureface-delegation";
export const TRANSCRIPT_TYPE = "secureface-session";
/** Prefix of the signed transcript (then a zero byte, then the transcript's JSON). */
export const TRANSCRIPT_CONTEXT = "secureface/v1/session-transcript";
/** Longest accepted delegation (expires_at - not_before). */
export const MAX_DELEGATION_VALIDITY_S = 24 * 3600;
/** How far ahead of this clock a delegation may start (secureface.crypto.delegation.CLOCK_SKEW_S). */
export const DELEGATION_CLOCK_SKEW_S = 300;
/** Bytes of the client's and the server's nonces. */
export const EXCHANGE_NONCE_LEN = 32;
export const SESSION_ID_LEN = 16;
/** An uncompressed P-256 point. */
export const POINT_LEN = 65;
/** What a session is opened for (secureface.transactions.service.SESSION_PURPOSES). */
export const SESSION_PURPOSES = Object.freeze(["models", "verify"]);

// The transaction (issue 9; secureface.transactions.model).
/** A client token: 32 bytes, base64url (TOKEN_RE). */
export const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;
/** A transaction id: 16 bytes, base64url. */
export const TRANSACTION_ID_RE = /^[A-Za-z0-9_-]{22}$/;
export const STATE_RE = /^[A-Za-z0-9._~-]{1,256}$/;
export const CLIENT_ID_RE = /^[a-z0-9][a-z0-9-]{1,62}$/;
/** What a relying party may ask the person's face for (PURPOSES). */
export const PURPOSES = Object.freeze(["sign_in", "step_up", "recovery"]);
/** The languages the page (and its consent notice) is written in (LOCALES). */
export const LOCALES = Object.freeze(/** @type {const} */ (["en", "hi"]));
/** The version of the consent notice the page shows (CONSENT_NOTICE): a change to what the notice
 * says (i18n/*.js) is a new version, here and on the server. */
export const CONSENT_NOTICE = "2026-12.1";
/** The error a relying party is returned when no decision was reached. */
export const ACCESS_DENIED = "access_denied";

// The signed model manifest (secureface.models.manifest).
export const MANIFEST_TYP = "secureface-manifest+jws";
export const MANIFEST_TYPE = "secureface-model-manifest";
/** How far ahead of this clock a manifest may be issued (CLOCK_SKEW_S). */
export const MANIFEST_CLOCK_SKEW_S = 300;
/** Longest accepted validity (expires_at - issued_at): the template's largest ManifestTtlSeconds. */
export const MAX_LIFETIME_S = 90 * 24 * 3600;
/** Largest accepted step above the highest version seen (once one was seen). */
export const MAX_VERSION_JUMP = 1000;
export const NAME_RE = /^[a-z0-9][a-z0-9-]{0,31}$/;
export const VERSION_RE = /^[A-Za-z0-9][A-Za-z0-9.-]{0,31}$/;
export const ROLES = new Set(["detector", "embedding", "antispoof", "landmarks"]);

// Model delivery (PROTOCOL.md §4; secureface.models.segments, secureface.crypto.stream).
/** The header carrying the models session's id on a range request. */
export const SESSION_HEADER = "X-SecureFace-Session";
/** Segments per range response (the server's cap: stays under Lambda's 6 MB in base64). */
export const SEGMENTS_PER_RANGE = 4;
/** The segment size of every model stream (v1). */
export const SEGMENT_SIZE = 1 << 20;
/** The stream header's first four bytes (ASCII). */
export const STREAM_MAGIC = "SFS1";
/** HKDF info of a stream key, before the stream id. */
export const STREAM_INFO = "secureface/v1/model-stream\0";
export const HEADER_LEN = 32;
export const TAG_LEN = 16;
export const PREFIX_LEN = 7;
/** Bounds of a stream header's segment size. */
export const MIN_SEGMENT_SIZE = 16 * 1024;
export const MAX_SEGMENT_SIZE = 8 << 20;

// The verify step (PROTOCOL.md §5; secureface.sessions.sealed, secureface.verify.request and .answer).
export const REQUEST_LABEL = "secureface/v1/verify-request";
export const RESPONSE_LABEL = "secureface/v1/verify-response";
/** Bytes of an AES-GCM nonce of the verify request and answer. */
export const VERIFY_NONCE_LEN = 12;
/** The answer's `type` (ANSWER_TYPE). */
export const ANSWER_TYPE = "secureface-verify-answer";
/** The opened answer's keys, sorted: exactly these. */
export const ANSWER_KEYS = Object.freeze(["assurance", "decision", "hint", "session_id", "transaction_id", "type"]);
export const DECISIONS = Object.freeze(["verified", "not_verified", "locked"]);
/** What the person may be told about a refusal (secureface.verify.liveness.CLIENT_HINTS). */
export const ANSWER_HINTS = Object.freeze(["", "no_face", "multiple_faces", "too_dark", "too_far", "moves_not_followed"]);
export const ASSURANCES = Object.freeze(["light", "motion"]);
/** The server's limits: frames per burst, bytes per frame, bytes per payload, how far a frame
 * time may lie outside the capture. */
export const MAX_FRAMES = 96;
export const MAX_FRAME_BYTES = 64 * 1024;
export const MAX_PAYLOAD = 1024 * 1024;
export const TIME_SLACK_MS = 2000;

// The liveness challenge in the signed transcript (secureface.sessions.challenge).
/** The screen colours, sRGB (PALETTE). */
export const PALETTE = Object.freeze({
  red: [255, 0, 0], green: [0, 255, 0], blue: [0, 0, 255], yellow: [255, 255, 0], magenta: [255, 0, 255], cyan: [0, 255, 255],
});
/** The first move of every challenge: look at the screen. */
export const CENTER = "center";
export const DIRECTIONS = Object.freeze(["left", "right", "up", "down"]);
/** Moves after CENTER. */
export const MOVE_COUNT = 3;
export const MODES = Object.freeze(["light", "motion"]);
/** Bounds of one colour's duration (the last may run up to LIGHT_MAX_MS + LIGHT_MIN_MS). */
export const LIGHT_MIN_MS = 350;
export const LIGHT_MAX_MS = 700;
/** Fewest colours in a light schedule. */
export const MIN_INTERVALS = 8;

// The page's own limits on the API (not the server's).
/** Time allowed for one API exchange, unless the call says otherwise. */
export const API_TIMEOUT_MS = 15_000;
/** Time allowed for the server to analyse the frames and answer. */
export const VERIFY_TIMEOUT_MS = 60_000;
/** Time allowed for one range (SEGMENTS_PER_RANGE segments) to arrive. */
export const RANGE_TIMEOUT_MS = 120_000;
/** Range requests in flight at once, across all models. */
export const PARALLEL_RANGES = 4;
