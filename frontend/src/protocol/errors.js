// The client's refusals. Every cryptographic failure is one of these two, with a `reason` for
// logs and messages; the server never says which of its checks failed, the client always does.

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
