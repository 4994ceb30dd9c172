// HTTP API client: every non-2xx answer becomes an ApiError carrying the server's error body;
// an unreachable or silent service becomes an ApiError with status 0, never a hang.

import { ApiError, ProtocolError } from "./errors.js";
import { API_TIMEOUT_MS } from "./limits.js";

const UNREACHABLE = "The service cannot be reached. Check your connection and try again.";

/**
 * One request to the API, never cached.
 * @param {string} baseUrl
 * @param {string} path
 * @param {RequestInit & {timeoutMs?: number}} [init] `signal` aborts early; `timeoutMs` bounds it
 * @returns {Promise<Response>} a 2xx response
 * @throws {ApiError}
 */
export async function apiFetch(baseUrl, path, { timeoutMs = API_TIMEOUT_MS, signal, ...init } = {}) {
  const signals = [AbortSignal.timeout(timeoutMs), ...(signal ? [signal] : [])];
  let response;
  try {
    response = await fetch(`${baseUrl}${path}`, { cache: "no-store", ...init, signal: anySignal(signals) });
  } catch (err) {
    throw networkError(err, signal ?? undefined);
  }
  if (!response.ok) {
    // An error body that is not JSON (a proxy's page) still makes an ApiError, with the status.
    /** @type {{code?: unknown, message?: unknown} | null} */
    const body = await jsonAnswer(response, "error").catch(() => null);
    const code = typeof body?.code === "string" && body.code ? body.code : "http_error";
    const message = typeof body?.message === "string" && body.message ? body.message : `HTTP ${response.status}`;
    throw new ApiError(response.status, code, message);
  }
  return response;
}

/**
 * The JSON value of an answer: the one way the page parses a JSON body (every API answer, the
 * API's error bodies, config.json); the caller then checks its shape.
 * @param {Response} response
 * @param {string} what the answer's name, for the refusal ("flow", "key-exchange", …)
 * @param {() => Error} [refuse] the error when the body is not JSON (default: a ProtocolError
 *   "<what> answer is not JSON")
 * @returns {Promise<any>}
 * @throws {ProtocolError} the body is not JSON (or what `refuse` makes)
 */
export async function jsonAnswer(response, what, refuse = () => new ProtocolError(`${what} answer is not JSON`)) {
  try {
    return await response.json();
  } catch {
    throw refuse();
  }
}

/**
 * A signal aborted as soon as any of `signals` is (AbortSignal.any where available: Firefox
 * before 124 and Safari before 17.4 lack it).
 * @param {AbortSignal[]} signals
 * @returns {AbortSignal}
 */
function anySignal(signals) {
  if (typeof AbortSignal.any === "function") return AbortSignal.any(signals);
  const controller = new AbortController();
  for (const s of signals) {
    if (s.aborted) controller.abort(s.reason);
    else s.addEventListener("abort", () => controller.abort(s.reason), { once: true });
  }
  return controller.signal;
}

/**
 * Read a response body, at most `limit` + 1 bytes (a longer body is cut there and cancelled,
 * never buffered whole), reporting progress. The caller checks the length it expects.
 * @param {Response} response
 * @param {number} limit
 * @param {(bytes: number) => void} [onBytes] called with each chunk's size
 * @returns {Promise<Uint8Array>}
 * @throws {ApiError} the connection failed or timed out mid-body
 */
export async function readBody(response, limit, onBytes = () => {}) {
  const out = new Uint8Array(limit + 1);
  if (!response.body) throw new ApiError(0, "network_error", UNREACHABLE);
  const reader = response.body.getReader();
  let received = 0;
  try {
    while (received <= limit) {
      const { done, value } = await reader.read();
      if (done) return out.subarray(0, received);
      const chunk = value.subarray(0, out.length - received);
      out.set(chunk, received);
      received += chunk.length;
      onBytes(chunk.length);
    }
    await reader.cancel();
    return out;
  } catch (err) {
    reader.cancel().catch(() => {});
    throw networkError(err);
  }
}

/**
 * @param {any} err what fetch or a body read threw
 * @param {AbortSignal} [callerSignal]
 * @returns {Error}
 */
function networkError(err, callerSignal) {
  if (callerSignal?.aborted) return callerSignal.reason ?? err;
  if (err?.name === "TimeoutError") {
    return new ApiError(0, "timeout", "The service did not answer in time. Try again later.");
  }
  return new ApiError(0, "network_error", UNREACHABLE);
}
