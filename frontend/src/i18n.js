// The page's languages: the catalogs (i18n/en.js, i18n/hi.js: plain objects of the same keys),
// the choice of locale (the transaction's, else the browser's first supported, else English),
// `t(key, params)` and times formatted in the locale. Pure (no DOM): ui.js renders messages into
// elements (`data-i18n`, `data-i18n-args`) and re-renders them all when the locale changes.
import en from "./i18n/en.js";
import hi from "./i18n/hi.js";
import { LOCALES } from "./protocol/limits.js";

export const DEFAULT_LOCALE = "en";
/** Every catalog, by locale. */
export const CATALOGS = Object.freeze({ en, hi });
/** The tag each locale formats dates with (Intl). */
const INTL_TAGS = Object.freeze({ en: "en", hi: "hi-IN" });

/**
 * @typedef {string | number | Message | {time: number}} Param a value, a nested message, or a
 *   time (Unix seconds) formatted in the locale
 * @typedef {{key: string, params?: Record<string, Param>}} Message a sentence not yet rendered
 */

/** @type {"en" | "hi"} */
let current = DEFAULT_LOCALE;

/**
 * A message, to render later (and again when the locale changes).
 * @param {string} key a catalog key
 * @param {Record<string, Param>} [params]
 * @returns {Message}
 */
export const msg = (key, params) => (params ? { key, params } : { key });

/**
 * The locale to show: the transaction's when it names one, else the first of the browser's
 * languages that we have (by primary subtag: `hi-IN` → `hi`), else English.
 * @param {string} [transactionLocale] the flow's `locale` ("" = let the browser choose)
 * @param {readonly string[]} [languages] navigator.languages
 * @returns {"en" | "hi"}
 */
export function chooseLocale(transactionLocale = "", languages = []) {
  if (isLocale(transactionLocale)) return transactionLocale;
  for (const tag of languages ?? []) {
    const primary = String(tag).toLowerCase().split(/[-_]/)[0];
    if (isLocale(primary)) return primary;
  }
  return DEFAULT_LOCALE;
}

/**
 * @param {unknown} value
 * @returns {value is "en" | "hi"}
 */
export const isLocale = (value) => typeof value === "string" && LOCALES.includes(/** @type {any} */ (value));

/** @param {string} locale one of LOCALES */
export function setLocale(locale) {
  if (!isLocale(locale)) throw new RangeError(`unsupported locale ${locale}`);
  current = locale;
}

/** @returns {"en" | "hi"} */
export const getLocale = () => current;

/**
 * The sentence of `key` in `locale` with its `{name}` parameters filled in (one pass: a value is
 * never itself read for parameters). A key missing from the locale's catalog falls back to
 * English, then to the key itself (test/i18n.test.js keeps both catalogs complete).
 * @param {string} key
 * @param {Record<string, Param>} [params]
 * @param {string} [locale]
 * @returns {string}
 */
export function t(key, params = {}, locale = current) {
  /** @type {Readonly<Record<string, string>> | undefined} */
  const catalog = CATALOGS[/** @type {"en" | "hi"} */ (locale)];
  /** @type {Readonly<Record<string, string>>} */
  const fallback = en;
  const text = catalog?.[key] ?? fallback[key];
  if (typeof text !== "string") return key;
  const values = params ?? {};
  return text.replace(/\{(\w+)\}/g, (whole, name) => (Object.hasOwn(values, name) ? renderParam(values[name], locale) : whole));
}

/**
 * @param {Message} message
 * @param {string} [locale]
 */
export const render = (message, locale = current) => t(message.key, message.params, locale);

/**
 * @param {Param} value
 * @param {string} locale
 */
function renderParam(value, locale) {
  if (value && typeof value === "object") {
    if ("key" in value && typeof value.key === "string") return t(value.key, value.params, locale);
    if ("time" in value && typeof value.time === "number") return formatTime(value.time, locale);
  }
  return String(value);
}

/**
 * A time of day in the locale ("10:32 AM", "10:32 am").
 * @param {number} seconds Unix seconds
 * @param {string} [locale]
 * @returns {string}
 */
export function formatTime(seconds, locale = current) {
  const tag = INTL_TAGS[/** @type {"en" | "hi"} */ (locale)] ?? INTL_TAGS.en;
  return new Intl.DateTimeFormat(tag, { hour: "numeric", minute: "2-digit" }).format(new Date(seconds * 1000));
}
