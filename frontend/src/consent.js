// What the person agreed to, recorded with the frames (docs/PROTOCOL.md §5, issue 9): which
// version of the consent notice they were shown, in which language, when they pressed "I agree",
// for which transaction. Mirrors secureface.verify.request.Consent. The notice's words are in the
// catalogs (i18n/*.js), its version and languages in protocol/limits.js (CONSENT_NOTICE, LOCALES):
// a change to what the notice says is a new CONSENT_NOTICE, there and on the server.
import { CONSENT_NOTICE, LOCALES, TRANSACTION_ID_RE } from "./protocol/limits.js";

/**
 * @typedef {object} ConsentMeta the verify payload's `meta.consent`
 * @property {string} notice CONSENT_NOTICE
 * @property {"en" | "hi"} locale the language the notice was shown in
 * @property {number} accepted_at Unix ms when the person pressed "I agree"
 * @property {string} transaction_id the flow's transaction
 */

/**
 * The consent record, checked as the server checks it (keys in the server's order).
 * @param {{locale: string, acceptedAt: number, transactionId: string}} consent
 * @returns {Readonly<ConsentMeta>}
 * @throws {TypeError} a locale not in LOCALES, a time that is not an integer, a malformed id
 */
export function consentMeta({ locale, acceptedAt, transactionId }) {
  if (!LOCALES.includes(/** @type {any} */ (locale))) throw new TypeError("consent locale is not one of LOCALES");
  if (!Number.isSafeInteger(acceptedAt) || acceptedAt <= 0) throw new TypeError("consent time must be Unix ms");
  if (typeof transactionId !== "string" || !TRANSACTION_ID_RE.test(transactionId)) {
    throw new TypeError("consent transaction id is malformed");
  }
  return Object.freeze({
    notice: CONSENT_NOTICE, locale: /** @type {"en" | "hi"} */ (locale), accepted_at: acceptedAt,
    transaction_id: transactionId,
  });
}
