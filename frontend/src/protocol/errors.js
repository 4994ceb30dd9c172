// Every error the page's modules throw, in one place (messages.js turns each into what the person
// reads). The two cryptographic refusals carry a `reason` for logs and messages; the server never
// says which of its checks failed, the client always does.

/** The signed model manifest was refused (signature, type, expiry, rollback, format). */
export class ManifestError extends Error {
  /** @param {string} reason */
  constructor(reason) {
    super(`Model manifest rejected: ${reason}`);
    this.name = "ManifestError";
    this.reason = reason;
  }
}

/** The key exchange, a model stream, the transaction's details or the verify answer was refused
 * (delegation, transcript, segments, hash, flow, answer). */
export class ProtocolError extends Error {
  /** @param {string} reason */
  constructor(reason) {
    super(`Secure channel refused: ${reason}`);
    this.name = "ProtocolError";
    this.reason = reason;
  }
}

/** An API answer that is not 2xx (the server's error body), or none at all (status 0). */
export class ApiError extends Error {
  /**
   * @param {number} status HTTP status, 0 when no answer came
   * @param {string} code the error body's `code` (PROTOCOL.md §5), or network_error / timeout
   * @param {string} message
   */
  constructor(status, code, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

/** Why the camera cannot be used; `kind` selects the message (messages.js). */
export class CameraError extends Error {
  /**
   * @param {"denied" | "missing" | "busy" | "unsupported" | "failed"} kind
   * @param {string} detail the browser's error, for the console
   */
  constructor(kind, detail) {
    super(`camera ${kind}: ${detail}`);
    this.name = "CameraError";
    this.kind = kind;
  }
}

/** The configuration is missing, unreadable or incomplete. */
export class ConfigError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = "ConfigError";
  }
}

/** The inference worker failed, timed out or could not start (a model did not load). */
export class InferenceError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = "InferenceError";
  }
}

/** The frames or the consent cannot be sent (checked before anything leaves the browser). */
export class PayloadError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = "PayloadError";
  }
}
