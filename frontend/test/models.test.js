// loadModels against a fake API: parallel ranges, progress, and every refusal of PROTOCOL.md §4.
import assert from "node:assert/strict";
import { test } from "node:test";
import { importVerifyKey } from "../src/protocol/crypto.js";
import { concatBytes } from "../src/protocol/encoding.js";
import { loadModels, planRanges } from "../src/protocol/models.js";
import { openSession } from "../src/protocol/session.js";
import { streamId } from "../src/protocol/stream.js";
import { sealStream, fakeApi, withFetch } from "../testing/helpers.js";
import { ApiError, ProtocolError } from "../src/protocol/errors.js";

const MiB = 1 << 20;
const bytes = (size, seed) => Uint8Array.from({ length: size }, (_, i) => (i * 31 + seed) % 251);
const MODELS = [
  { name: "big", bytes: bytes(5.5 * MiB, 1) }, // 6 segments: ranges 0+4, 4+2
  { name: "exact", bytes: bytes(4 * MiB, 2), role: "antispoof" }, // 4 segments: one range
  { name: "tiny", bytes: bytes(100, 3), role: "landmarks" },
];

/** Open a session with `api` and load its models; resolves with the result or the error. */
async function load(api, options = {}) {
  return withFetch(api.fetch, async () => {
    const session = await openSession(api.apiUrl, await importVerifyKey(api.root.spki), { clientToken: api.clientToken, purpose: "models" });
    const manifest = { models: api.entries };
    return loadModels({ apiUrl: api.apiUrl, session, manifest, ...options }).catch((err) => err);
  });
}

test("planRanges: four segments per range, exact wire lengths", () => {
  const plan = planRanges({ name: "m", version: "v", size: 4 * MiB + 1 });
  assert.deepEqual(plan.map(({ first, count, length }) => [first, count, length]),
    [[0, 4, 32 + 4 * (MiB + 16)], [4, 1, 32 + 1 + 16]]);
  assert.deepEqual(planRanges({ size: 1 }).map((p) => p.length), [32 + 17]);
});

test("every model is fetched in ranges, decrypted and matches the manifest", async () => {
  const api = await fakeApi({ models: MODELS });
  const progress = [];
  const models = await load(api, { onProgress: (p) => progress.push(p) });
  assert.ok(models instanceof Map, String(models));
  for (const m of MODELS) assert.deepEqual(models.get(m.name), m.bytes);
  const ranges = api.requests.filter((r) => r.url.pathname.endsWith("/segments"));
  assert.deepEqual(ranges.map((r) => `${r.url.pathname} ${r.url.search}`).sort(), [
    "/models/big/v1/segments ?first=0&count=4", "/models/big/v1/segments ?first=4&count=2",
    "/models/exact/v1/segments ?first=0&count=4", "/models/tiny/v1/segments ?first=0&count=1"]);
  const sessionIds = new Set(ranges.map((r) => r.headers.get("x-secureface-session")));
  assert.deepEqual([...sessionIds], [...api.sessions.keys()]);
  const total = MODELS.reduce((n, m) => n + planRanges({ size: m.bytes.length }).reduce((k, p) => k + p.length, 0), 0);
  assert.deepEqual(progress[0], { received: 0, total });
  assert.deepEqual(progress.at(-1), { received: total, total });
  assert.ok(progress.every((p, i) => i === 0 || p.received >= progress[i - 1].received));
});

test("a model whose bytes differ from the manifest is refused (sha256)", async () => {
  const served = bytes(100, 99);
  const api = await fakeApi({ models: [MODELS[0], { ...MODELS[2], served }] });
  const err = await load(api);
  assert.ok(err instanceof ProtocolError);
  assert.equal(err.reason, "tiny: sha256 differs from the manifest");
});

test("a stream whose size differs from the manifest is refused", async () => {
  const api = await fakeApi({ models: [{ ...MODELS[0], served: bytes(5.5 * MiB + 10, 1) }] });
  assert.equal((await load(api, { parallel: 1 })).reason, "big: stream size differs from the manifest");
});

test("ranges carrying different stream headers are refused", async () => {
  const api = await fakeApi({ models: [MODELS[0]], tamper: {
    // The second range re-sealed with 16 KiB segments: a valid header of the same stream, but
    // not the one the first range carried.
    range: async ({ first, body, sessionId }) => {
      if (first === 0) return body;
      const keys = api.sessions.get(sessionId);
      const other = await sealStream(keys.model, streamId(sessionId, api.entries[0]), MODELS[0].bytes, 16 * 1024);
      return concatBytes(other.header, body.subarray(32));
    },
  } });
  assert.equal((await load(api, { parallel: 1 })).reason, "big: range responses carry different stream headers");
});

test("a truncated or overlong range is refused", async () => {
  const cut = await fakeApi({ models: [MODELS[0]], tamper: { range: ({ first, body }) => (first === 4 ? body.subarray(0, -(MiB / 2 + 16)) : body) } });
  assert.equal((await load(cut)).reason, "big: range 4+2 is truncated");
  const long = await fakeApi({ models: [MODELS[2]], tamper: { range: ({ body }) => concatBytes(body, new Uint8Array(5)) } });
  assert.equal((await load(long)).reason, "tiny: range 0+1 is too long");
});

test("a range spliced from another session is refused", async () => {
  let stolen;
  const victim = await fakeApi({ models: [MODELS[2]], tamper: { range: ({ body }) => (stolen = body) } });
  await load(victim);
  const api = await fakeApi({ models: [MODELS[2]], tamper: { range: () => stolen } });
  const err = await load(api);
  assert.ok(err instanceof ProtocolError);
  // another session's stream key (K_model differs): its first segment does not authenticate
  assert.equal(err.reason, "segment 0 failed authentication");
});

test("an API error on one range ends the load with that error", async () => {
  const api = await fakeApi({ models: MODELS });
  const failing = async (url, init) => {
    if (String(url).includes("/exact/")) {
      return new Response(JSON.stringify({ statusCode: 401, code: "session_invalid", message: "Session expired" }), { status: 401 });
    }
    return api.fetch(url, init);
  };
  const err = await withFetch(failing, async () => {
    const session = await openSession(api.apiUrl, await importVerifyKey(api.root.spki), { clientToken: api.clientToken, purpose: "models" });
    return loadModels({ apiUrl: api.apiUrl, session, manifest: { models: api.entries } }).catch((e) => e);
  });
  assert.ok(err instanceof ApiError);
  assert.deepEqual([err.status, err.code], [401, "session_invalid"]);
});
