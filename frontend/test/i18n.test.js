// The page's languages: both catalogs complete and alike, every key the sources use present
// (and no key unused), the locale choice, t() and times in the locale.
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { test } from "node:test";
import { CONSENT_NOTICE, LOCALES } from "../src/protocol/limits.js";
import { CATALOGS, chooseLocale, formatTime, getLocale, msg, render, setLocale, t } from "../src/i18n.js";
import en from "../src/i18n/en.js";
import hi from "../src/i18n/hi.js";

const SRC = new URL("../src/", import.meta.url);
const sources = readdirSync(SRC).filter((f) => f.endsWith(".js")).map((f) => [f, readFileSync(new URL(f, SRC), "utf8")]);
const html = readFileSync(new URL("index.html", SRC), "utf8");
const params = (text) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

test("there is one catalog per locale, and the locales are the server's", () => {
  assert.deepEqual(Object.keys(CATALOGS), [...LOCALES]);
  assert.deepEqual([...LOCALES], ["en", "hi"]);
  assert.equal(CONSENT_NOTICE, "2026-12.1");
  for (const catalog of Object.values(CATALOGS)) {
    assert.ok(Object.isFrozen(catalog));
    for (const [key, text] of Object.entries(catalog)) assert.ok(typeof text === "string" && text.trim() === text && text, key);
  }
});

test("both catalogs have exactly the same keys, each with the same parameters", () => {
  assert.deepEqual(Object.keys(hi).sort(), Object.keys(en).sort());
  for (const key of Object.keys(en)) assert.deepEqual(params(hi[key]), params(en[key]), key);
});

test("the Hindi catalog is Hindi: Devanagari everywhere but names, units and hashes", () => {
  const SAME = new Set(["app.name", "tech.sha256", "tech.size_mb"]);
  for (const [key, text] of Object.entries(hi)) {
    if (SAME.has(key)) {
      assert.equal(text, en[key], key);
      continue;
    }
    assert.match(text, /[\u0900-\u097F]/, `${key} has no Devanagari`);
    assert.notEqual(text, en[key], key);
  }
  // Sentences end with a danda, not a full stop (numbers and parentheses aside).
  for (const [key, text] of Object.entries(hi)) assert.doesNotMatch(text, /[\u0900-\u097F]\.(\s|$)/, key);
});

/** Every string literal of the sources shaped like a catalog key (namespace.name…). */
function keysInSources() {
  const namespaces = new Set(Object.keys(en).map((k) => k.split(".")[0]));
  const used = new Map();
  for (const [file, text] of sources) {
    for (const [, key] of text.matchAll(/["'`]([a-z][a-z_]*(?:\.[a-z0-9_]+)+)["'`]/g)) {
      if (namespaces.has(key.split(".")[0])) used.set(key, file);
    }
  }
  for (const [, key] of html.matchAll(/data-i18n(?:-label)?="([^"]+)"/g)) used.set(key, "index.html");
  return used;
}

test("every key the sources and index.html use is in the catalogs, and every catalog key is used", () => {
  const used = keysInSources();
  assert.ok(used.size > 100, `only ${used.size} keys found`);
  for (const [key, file] of used) assert.ok(Object.hasOwn(en, key), `${file} uses ${key}, which no catalog has`);
  const unused = Object.keys(en).filter((key) => !used.has(key));
  assert.deepEqual(unused, [], "catalog keys no source uses");
  // Keys are written out, never built (the scan above could not see a built one).
  for (const [file, text] of sources) {
    assert.doesNotMatch(text, /\b(?:t|msg|render)\(\s*`[^`]*\$\{/, `${file} builds a key`);
  }
  // No sentence is left in the page itself: every text node of index.html is a data-i18n
  // element's (the title and the status line carry an English default until the script runs),
  // or a language's own name.
  const body = html.replace(/<head>[\s\S]*<\/head>/, "").replace(/<[^>]+>/g, "\n").split("\n").map((s) => s.trim()).filter(Boolean);
  assert.deepEqual(body, ["SecureFace", "English", "हिन्दी", "Loading…"]);
});

test("the locale: the transaction's, else the browser's first supported, else English", () => {
  assert.equal(chooseLocale("hi", ["en-US"]), "hi");
  assert.equal(chooseLocale("en", ["hi-IN", "hi"]), "en");
  assert.equal(chooseLocale("", ["hi-IN", "en-GB"]), "hi");
  assert.equal(chooseLocale("", ["fr-FR", "HI", "en"]), "hi");
  assert.equal(chooseLocale("", ["fr-FR", "en-US", "hi"]), "en");
  assert.equal(chooseLocale("", ["fr", "de-CH"]), "en");
  assert.equal(chooseLocale("", []), "en");
  assert.equal(chooseLocale(undefined, undefined), "en");
  assert.equal(chooseLocale("fr", ["hi"]), "hi"); // not a locale of ours: the browser decides
  assert.equal(chooseLocale("", ["hin"]), "en"); // primary subtags only, exactly
});

test("t fills parameters once, nests messages, formats times, falls back to English then the key", () => {
  const before = getLocale();
  try {
    setLocale("hi");
    assert.equal(t("consent.title", { rp: "Acme Bank" }), "Acme Bank के लिए पुष्टि करें कि यह आप ही हैं");
    assert.equal(t("consent.title", { rp: "Acme Bank" }, "en"), "Confirm it's you for Acme Bank");
    // A value is never read for parameters: a name with braces stays as it is.
    assert.equal(t("result.continue", { rp: "{rp} & <b>" }, "en"), "Continue to {rp} & <b>");
    assert.equal(t("result.continue", {}, "en"), "Continue to {rp}"); // a missing parameter shows
    assert.equal(render(msg("result.not_verified.next", { advice: msg("advice.too_far"), rp: "X" }), "en"),
      "Come closer, so that your face fills about a third of the picture. To try again, start a new sign-in from X.");
    assert.equal(t("no.such.key"), "no.such.key");
    assert.equal(t("status.ready", { count: 2 }, "en"), "Ready: 2 face models verified and loaded.");
    assert.throws(() => setLocale("fr"), RangeError);
  } finally {
    setLocale(before);
  }
});

test("times are formatted in the locale with Intl (hour and minute)", () => {
  const at = Date.UTC(2026, 11, 3, 10, 32) / 1000;
  const expected = (tag) => new Intl.DateTimeFormat(tag, { hour: "numeric", minute: "2-digit" }).format(new Date(at * 1000));
  assert.equal(formatTime(at, "en"), expected("en"));
  assert.equal(formatTime(at, "hi"), expected("hi-IN"));
  assert.match(formatTime(at, "en"), /\d{1,2}:32/);
  assert.equal(t("consent.expires", { time: { time: at } }, "en"), `This request expires at ${expected("en")}.`);
  assert.equal(t("consent.expires", { time: { time: at } }, "hi"), `यह अनुरोध ${expected("hi-IN")} पर समाप्त हो जाएगा।`);
});

test("the consent notice says what, what for, how long, who decides, how to withdraw, in both languages", () => {
  const notice = (locale) => ["consent.title", "purpose.sign_in", "consent.how", "flash.label", "flash.text", "notice.what",
    "notice.why", "notice.keep", "notice.who", "notice.withdraw", "consent.decline"]
    .map((key) => t(key, { rp: "Acme Bank", purpose: msg("purpose.short.sign_in") }, locale)).join(" ");
  const text = notice("en");
  for (const words of ["Acme Bank", "camera", "six seconds", "the time each was taken", "face template", "only to confirm",
    "signing in", "discarded", "Nothing is stored", "record of this attempt and its outcome, without any image",
    "30 days", "SecureFace server", "decline", "delete your face enrolment", "photosensitive epilepsy", "at most 3 changes a second"]) {
    assert.ok(text.includes(words), words);
  }
  const hindi = notice("hi");
  for (const words of ["Acme Bank", "कैमरे", "छह सेकंड", "टेम्पलेट", "हटा दिया जाता है", "30 दिनों", "SecureFace सर्वर", "अस्वीकार",
    "नामांकन हटाने", "मिर्गी", "3 बार"]) {
    assert.ok(hindi.includes(words), words);
  }
});
