// Production build: one minified bundle per entry, content-hashed, no source maps, the page's
// script referenced with Subresource Integrity. Everything served comes from our own origin:
// onnxruntime-web's WebAssembly runtime (.wasm and its .mjs loader) is copied from node_modules
// under content-hashed names, and the worker is told their URLs (no CDN).
//
//   dist/index.html                       page (script with integrity=)
//   dist/assets/app-<hash>.js             page bundle (src/main.js)
//   dist/assets/inference-<hash>.js       inference worker (src/capture/inference.worker.js + onnxruntime-web)
//   dist/assets/ort-wasm-simd-threaded-<hash>.{mjs,wasm}   onnxruntime-web WebAssembly backend
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { copyFileSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, extname } from "node:path";

const out = "dist";
const assets = `${out}/assets`;
const ORT_DIST = "node_modules/onnxruntime-web/dist";
const ORT_FILES = { mjs: "ort-wasm-simd-threaded.mjs", wasm: "ort-wasm-simd-threaded.wasm" };

rmSync(out, { recursive: true, force: true });
mkdirSync(assets, { recursive: true });

const digest = (path, algorithm) => createHash(algorithm).update(readFileSync(path));
const sri = (path) => "sha384-" + digest(path, "sha384").digest("base64");

/** Copy a file into assets under a content-hashed name; returns its URL path. */
function copyHashed(path) {
  const ext = extname(path);
  const name = `${basename(path, ext)}-${digest(path, "sha256").digest("hex").slice(0, 12)}${ext}`;
  copyFileSync(path, `${assets}/${name}`);
  return `/assets/${name}`;
}

/** Bundle one entry; returns the output file's path. */
async function bundle(name, entry, extra = {}) {
  const result = await build({
    entryPoints: { [name]: entry },
    bundle: true,
    format: "esm",
    minify: true,
    sourcemap: false,
    target: ["chrome120", "firefox120", "safari17"],
    outdir: assets,
    entryNames: "[name]-[hash]",
    metafile: true,
    legalComments: "none",
    logLevel: "warning",
    ...extra,
  });
  return Object.keys(result.metafile.outputs).find((p) => p.endsWith(".js"));
}

const ortUrls = Object.fromEntries(Object.entries(ORT_FILES).map(([k, f]) => [k, copyHashed(`${ORT_DIST}/${f}`)]));
// The worker imports onnxruntime-web's build that loads the WebAssembly runtime from ortUrls.
const worker = await bundle("inference", "src/capture/inference.worker.js", {
  conditions: ["onnxruntime-web-use-extern-wasm"],
  define: { __SF_ORT_WASM__: JSON.stringify(ortUrls) },
});
const app = await bundle("app", "src/main.js", {
  define: { __SF_WORKER_URL__: JSON.stringify(`/assets/${basename(worker)}`) },
});

const html = readFileSync("src/index.html", "utf8")
  .replace("%APP_SRC%", `/assets/${basename(app)}`)
  .replace("%APP_SRI%", sri(app));
writeFileSync(`${out}/index.html`, html);
cpSync("public", out, { recursive: true });
for (const path of [app, worker, ...Object.values(ortUrls).map((u) => `${out}${u}`)]) {
  console.log(`${path}  ${readFileSync(path).length} bytes`);
}
