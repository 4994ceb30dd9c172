// Manifest rules beyond the vector: entry formats (names end up in URLs), types, times.
import assert from "node:assert/strict";
import { test } from "node:test";
import { importVerifyKey } from "../src/crypto.js";
import { verifyManifest } from "../src/manifest.js";
import { es256KeyPair, signJws } from "../testing/helpers.js";

const NOW = 1_764_316_800;
const ENTRY = { name: "yunet", version: "2023mar", role: "detector", sha256: "ab".repeat(32), size: 10 };
const root = await es256KeyPair();
const key = await importVerifyKey(root.spki);

/** The refusal reason of a manifest with these changes, or "ok". */
async function check(changes = {}, header = { typ: "secureface-manifest+jws" }) {
  const payload = { type: "secureface-model-manifest", manifest_version: 2, issued_at: NOW,
    expires_at: NOW + 3600, models: [ENTRY], ...changes };
  const token = await signJws(root.privateKey, header, payload);
  return verifyManifest(token, key, { now: NOW + 1 }).then(() => "ok", (err) => err.reason);
}

test("a well-formed manifest verifies", async () => {
  assert.equal(await check(), "ok");
  assert.equal(await check({ issued_at: NOW + 300 }), "ok");
});

test("entries whose names or versions could leave the model path are refused", async () => {
  for (const bad of [{ name: "../admin" }, { name: "Yunet" }, { name: "a".repeat(33) },
    { version: "1/../../x" }, { version: "" }, { role: "weights" }, { sha256: "AB".repeat(32) },
    { size: 0 }, { size: 1.5 }, { size: "10" }]) {
    assert.equal(await check({ models: [{ ...ENTRY, ...bad }] }), "malformed model entry", JSON.stringify(bad));
  }
  assert.equal(await check({ models: [ENTRY, { ...ENTRY, role: "antispoof" }] }), "duplicate model entries");
});

test("type, integers and times are enforced", async () => {
  assert.equal(await check({ type: "secureface-delegation" }), "not a manifest");
  assert.equal(await check({ manifest_version: "2" }), "malformed");
  assert.equal(await check({ models: {} }), "malformed");
  assert.equal(await check({ issued_at: NOW + 302 }), "issued in the future");
  assert.equal(await check({ expires_at: NOW + 1 }), "expired");
  assert.equal(await check({}, { typ: "secureface-delegation+jws" }), "wrong algorithm or type");
});
