// What the person sees when something fails: one clear sentence per kind of failure. The
// `reason` of a refusal is kept (for support) but the wording never blames the person.
import { ApiError } from "./api.js";
import { ConfigError } from "./config.js";
import { ManifestError, ProtocolError } from "./errors.js";
import { InferenceError } from "./inference.js";

/**
 * @param {unknown} err
 * @returns {string} a message for the page
 */
export function describeError(err) {
  if (err instanceof ApiError) {
    if (err.status === 0) return err.message; // unreachable or timed out: already worded
    return `The service answered with an error (${err.status} ${err.code}): ${err.message}`;
  }
  if (err instanceof ManifestError) {
    if (err.reason.startsWith("rollback")) {
      return "Refused: the server offered an older model manifest than this browser has already "
        + `accepted, a possible rollback attack (${err.reason}).`;
    }
    return `Refused: the model manifest could not be verified against the pinned server key (${err.reason}).`;
  }
  if (err instanceof ProtocolError) {
    return `Refused: the secure channel to the server could not be verified (${err.reason}).`;
  }
  if (err instanceof ConfigError) return `The app is misconfigured: ${err.message}.`;
  if (err instanceof InferenceError) return `The models were verified but could not be started: ${err.message}.`;
  return `Unexpected error: ${err instanceof Error ? err.message : String(err)}`;
}
