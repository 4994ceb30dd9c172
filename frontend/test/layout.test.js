// The layout of src/ (main.js's header, docs/ARCHITECTURE.md): protocol/ never touches the
// document and never imports the page's modules; limits.js is values only; every error class is
// in protocol/errors.js and every JSON body is parsed by protocol/api.js jsonAnswer; no module
// re-exports another's names.
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { test } from "node:test";

const SRC = new URL("../src/", import.meta.url);

/** Every module under src/ (path relative to src/ → its code without comments). */
const MODULES = new Map(
  readdirSync(SRC, { recursive: true, encoding: "utf8" })
    .filter((path) => path.endsWith(".js"))
    .map((path) => [path, withoutComments(readFileSync(new URL(path, SRC), "utf8"))]),
);

/** @param {string} code */
function withoutComments(code) {
  return code.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
}

/** @param {string} code */
const importsOf = (code) => [...code.matchAll(/\bfrom\s+"([^"]+)"/g)].map((m) => m[1]);

const protocol = [...MODULES].filter(([path]) => path.startsWith("protocol/"));

test("the layout's folders are there", () => {
  for (const path of ["main.js", "attempt.js", "loader.js", "protocol/errors.js", "protocol/limits.js",
    "protocol/api.js", "capture/inference.worker.js"]) {
    assert.ok(MODULES.has(path), path);
  }
  assert.ok(protocol.length >= 10);
});

test("protocol/ modules never touch the document nor import the page's modules", () => {
  for (const [path, code] of protocol) {
    assert.doesNotMatch(code, /\b(document|window|navigator|HTML\w*Element)\b/, path);
    for (const spec of importsOf(code)) {
      // Within protocol/, or a pure module of capture/ (challenge.js: the transcript's challenge).
      assert.ok(spec.startsWith("./") || spec === "../capture/challenge.js", `${path} imports ${spec}`);
    }
  }
});

test("protocol/limits.js is values only", () => {
  assert.deepEqual(importsOf(/** @type {string} */ (MODULES.get("protocol/limits.js"))), []);
});

test("every error class is in protocol/errors.js; every JSON body is parsed by protocol/api.js", () => {
  for (const [path, code] of MODULES) {
    if (path !== "protocol/errors.js") assert.doesNotMatch(code, /\bclass\s+\w+\s+extends\s+\w*Error\b/, path);
    if (path !== "protocol/api.js") assert.doesNotMatch(code, /\.json\(\)/, path);
  }
});

test("no module re-exports another's names", () => {
  for (const [path, code] of MODULES) assert.doesNotMatch(code, /^\s*export\s*(\*|\{)/m, path);
});
