// Production build: one minified, mangled bundle per entry, content-hashed, no source maps,
// scripts referenced with Subresource Integrity. Everything served comes from our own files.
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename } from "node:path";

const out = "dist";
rmSync(out, { recursive: true, force: true });
mkdirSync(`${out}/assets`, { recursive: true });

const result = await build({
  entryPoints: { app: "src/main.js" },
  bundle: true,
  format: "esm",
  minify: true,
  sourcemap: false,
  target: ["chrome120", "firefox120", "safari17"],
  outdir: `${out}/assets`,
  entryNames: "[name]-[hash]",
  metafile: true,
  legalComments: "none",
});

const sri = (path) => "sha384-" + createHash("sha384").update(readFileSync(path)).digest("base64");
const outputs = Object.keys(result.metafile.outputs);
const app = outputs.find((p) => basename(p).startsWith("app-") && p.endsWith(".js"));
const html = readFileSync("src/index.html", "utf8")
  .replace("%APP_SRC%", `/assets/${basename(app)}`)
  .replace("%APP_SRI%", sri(app));
writeFileSync(`${out}/index.html`, html);
cpSync("public", out, { recursive: true });
for (const path of outputs) console.log(`${path}  ${readFileSync(path).length} bytes`);
