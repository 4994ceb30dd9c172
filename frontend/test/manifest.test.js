// Manifest rules beyond the vector: entry formats (names end up in URLs), types, times.
import assert from "node:assert/strict";
import { test } from "node:test";
import { importVerifyKey } from "../src/protocol/crypto.js";
import { MAX_LIFETIME_S, MAX_VERSION_JUMP } from "../src/protocol/limits.js";
import { verifyManifest } from "../src/protocol/manifest.js";
import { es256KeyPair, signJws } from "../testing/helpers.js";
import { ConfigError } from "../src/protocol/errors.js";

const NOW = 1_764_316_800;
const ENTRY = { name: "yunet", version: "2023mar", role: "detector", sha256: "ab".repeat(32), size: 10 };
const root = await es256KeyPair();
const key = await importVerifyKey(root.spki);

/** The refusal reason of a manifest with these changes, or "ok". */
async function check(changes = {}, header = { typ: "secureface-manifest+jws" }, { minVersion = 0 } = {}) {
  const payload = { type: "secureface-model-manifest", manifest_version: 2, issued_at: NOW,
    expires_at: NOW + 3600, models: [ENTRY], ...changes };
  const token = await signJws(root.privateKey, header, payload);
  return verifyManifest(token, key, { now: NOW + 1, minVersion }).then(() => "ok", (err) => err.reason);
}
const DAY = 24 * 3600;

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

test("a manifest valid for more than 90 days (the template's longest TTL) is refused", async () => {
  assert.equal(MAX_LIFETIME_S, 90 * DAY);
  assert.equal(await check({ expires_at: NOW + 90 * DAY }), "ok");
  assert.equal(await check({ expires_at: NOW + 90 * DAY + 1 }), `lifetime ${90 * DAY + 1} s is outside 1..${90 * DAY}`);
  // A century-long manifest dated in the past is refused even though "now" is inside it.
  assert.match(await check({ issued_at: NOW - 50 * 365 * DAY, expires_at: NOW + 50 * 365 * DAY }), /^lifetime /);
  assert.match(await check({ expires_at: NOW - 1 }), /^lifetime -1 s/);
});

test("a version more than 1000 above the highest seen is refused, once one was seen", async () => {
  assert.equal(MAX_VERSION_JUMP, 1000);
  assert.equal(await check({ manifest_version: 1002 }, undefined, { minVersion: 2 }), "ok");
  assert.equal(await check({ manifest_version: 1003 }, undefined, { minVersion: 2 }), "version jump: 1003 > 2 + 1000");
  assert.equal(await check({ manifest_version: 2 ** 53 - 1 }, undefined, { minVersion: 2 }),
    `version jump: ${2 ** 53 - 1} > 2 + 1000`);
  // A first visit has no high-water mark: any version is taken (and then becomes the mark).
  assert.equal(await check({ manifest_version: 5000 }), "ok");
  assert.equal(await check({ manifest_version: 1 }, undefined, { minVersion: 2 }), "rollback: version 1 < 2");
});

test("two pinned keys: the manifest verifies with the manifest key only, never the server key", async () => {
  const { pinnedKeys } = await import("../src/loader.js");
  const { b64urlEncode } = await import("../src/protocol/encoding.js");
  const { sha256Hex } = await import("../src/protocol/crypto.js");
  const { fakeApi } = await import("../testing/helpers.js");
  const api = await fakeApi();
  const config = {
    serverKeySpki: b64urlEncode(api.root.spki), serverKeyId: await sha256Hex(api.root.spki),
    manifestKeySpki: b64urlEncode(api.manifestSigner.spki), manifestKeyId: await sha256Hex(api.manifestSigner.spki),
  };
  const keys = await pinnedKeys(config);
  const now = Math.floor(Date.now() / 1000);
  assert.equal((await verifyManifest(api.manifestToken, keys.manifest, { now })).manifest_version, 3);
  // The attack: a manifest signed by the key the key-exchange function can use (a compromised
  // function signs a manifest of its choosing). Refused by the manifest pin.
  const payload = JSON.parse(Buffer.from(api.manifestToken.split(".")[1], "base64url"));
  const bySessionKey = await signJws(api.root.privateKey, { typ: "secureface-manifest+jws" }, payload);
  await assert.rejects(verifyManifest(bySessionKey, keys.manifest, { now }), /signature/);
  await assert.rejects(verifyManifest(api.manifestToken, keys.server, { now }), /signature/);
  // A configuration pinning one key twice, or a key that is not the one its id names, is refused.
  await assert.rejects(pinnedKeys({ ...config, manifestKeySpki: config.serverKeySpki, manifestKeyId: config.serverKeyId }),
    (err) => err instanceof ConfigError && /must differ/.test(err.message));
  await assert.rejects(pinnedKeys({ ...config, manifestKeyId: config.serverKeyId }),
    (err) => err instanceof ConfigError && /manifestKeySpki does not match manifestKeyId/.test(err.message));
});
