// The hosted flow (issue 9): the page is opened at <frontend>/#token=<client token> by a relying
// party. The token is read from the fragment (never sent to a server by the browser, never in a
// Referer) and removed from the address bar at once; `POST /v1/flow` tells what the transaction
// is (who asks, for what, in which language, where to return); at the end the page navigates to
// the relying party's return URL with the transaction id and state (and `error=access_denied`
// when the person declined or left before any decision). The token goes to our API only.
import { apiFetch, jsonAnswer } from "./protocol/api.js";
import { isInt } from "./protocol/encoding.js";
import { ApiError, ProtocolError } from "./protocol/errors.js";
import { CLIENT_ID_RE, LOCALES, PURPOSES, STATE_RE, TOKEN_RE, TRANSACTION_ID_RE } from "./protocol/limits.js";

/**
 * @typedef {object} Flow what `POST /v1/flow` says of the transaction, checked
 * @property {string} transactionId
 * @property {{clientId: string, name: string, alternativeUrl: string}} relyingParty
 *   `alternativeUrl`: another way to sign in ("" when the relying party has none)
 * @property {"sign_in" | "step_up" | "recovery"} purpose
 * @property {"" | "en" | "hi"} locale "" lets the browser choose
 * @property {string} returnUrl one of the relying party's registered return URLs
 * @property {string} state the relying party's, returned as is
 * @property {number} expiresAt Unix seconds
 */

/**
 * The client token of a fragment `#token=<43 base64url>`; null if absent or malformed.
 * @param {string} hash `location.hash`
 * @returns {string | null}
 */
export function readToken(hash) {
  if (typeof hash !== "string" || !hash.startsWith("#")) return null;
  const token = new URLSearchParams(hash.slice(1)).get("token");
  return token !== null && TOKEN_RE.test(token) ? token : null;
}

/**
 * Read the token from the address and remove the fragment (history.replaceState), so that it
 * is neither bookmarked, nor shared with the URL, nor kept in the session history.
 * @param {{location: Location, history: History}} window
 * @returns {string | null}
 */
export function takeToken({ location, history }) {
  const token = readToken(location.hash);
  if (location.hash) history.replaceState(history.state, "", location.pathname + location.search);
  return token;
}

/**
 * The transaction a token belongs to (the token is not used up).
 * @param {string} apiUrl
 * @param {string} clientToken
 * @returns {Promise<Readonly<Flow>>}
 * @throws {ApiError} 401 invalid_client_token: unknown, expired or used
 * @throws {ProtocolError} an answer that is not a flow
 */
export async function fetchFlow(apiUrl, clientToken) {
  const response = await apiFetch(apiUrl, "/v1/flow", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ client_token: clientToken }),
  });
  return parseFlow(await jsonAnswer(response, "flow"));
}

/**
 * Check a `POST /v1/flow` answer: nothing the page shows or navigates to is taken unchecked.
 * @param {any} raw
 * @returns {Readonly<Flow>}
 * @throws {ProtocolError}
 */
export function parseFlow(raw) {
  const rp = raw?.relying_party;
  const ok = raw && typeof raw === "object"
    && typeof raw.transaction_id === "string" && TRANSACTION_ID_RE.test(raw.transaction_id)
    && rp && typeof rp === "object" && typeof rp.client_id === "string" && CLIENT_ID_RE.test(rp.client_id)
    && typeof rp.name === "string" && rp.name.trim() !== ""
    && (rp.alternative_url === "" || isWebUrl(rp.alternative_url))
    && PURPOSES.includes(raw.purpose)
    && (raw.locale === "" || LOCALES.includes(raw.locale))
    && isWebUrl(raw.return_url) && !raw.return_url.includes("#")
    && typeof raw.state === "string" && STATE_RE.test(raw.state)
    && isInt(raw.expires_at);
  if (!ok) throw new ProtocolError("flow answer is malformed");
  return Object.freeze({
    transactionId: raw.transaction_id,
    relyingParty: Object.freeze({ clientId: rp.client_id, name: rp.name.trim(), alternativeUrl: rp.alternative_url }),
    purpose: raw.purpose,
    locale: raw.locale,
    returnUrl: raw.return_url,
    state: raw.state,
    expiresAt: raw.expires_at,
  });
}

/**
 * An absolute http(s) URL (never javascript:, data: or a relative path).
 * @param {unknown} value
 * @returns {value is string}
 */
export function isWebUrl(value) {
  if (typeof value !== "string" || value === "") return false;
  try {
    const url = new URL(value);
    return (url.protocol === "https:" || url.protocol === "http:") && url.host !== "";
  } catch {
    return false;
  }
}

/**
 * Where the page sends the person back: return_url + ("?" or "&" when it already has a query) +
 * "transaction_id=<id>&state=<state>", and "&error=access_denied" when no decision was reached.
 * @param {Pick<Flow, "returnUrl" | "transactionId" | "state">} flow
 * @param {{error?: string}} [options]
 * @returns {string}
 */
export function returnUrl({ returnUrl: base, transactionId, state }, { error } = {}) {
  const params = [`transaction_id=${encodeURIComponent(transactionId)}`, `state=${encodeURIComponent(state)}`];
  if (error) params.push(`error=${encodeURIComponent(error)}`);
  return `${base}${base.includes("?") ? "&" : "?"}${params.join("&")}`;
}
