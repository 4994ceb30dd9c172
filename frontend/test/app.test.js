// The small pieces around the protocol: encodings, configuration, error messages, the
// warm-up model, and the rule that protocol modules import without a DOM.
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadConfig } from "../src/config.js";
import { b64urlDecode, b64urlEncode, fromHex, toHex } from "../src/protocol/encoding.js";
import { render } from "../src/i18n.js";
import { describeError } from "../src/messages.js";
import { warmupModel } from "../src/capture/warmup-model.js";
import { ApiError, ConfigError, ManifestError, ProtocolError } from "../src/protocol/errors.js";

test("base64url round-trips and refuses other alphabets and padding", () => {
  const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
  assert.deepEqual(b64urlDecode(b64urlEncode(bytes)), bytes);
  assert.equal(b64urlEncode(Uint8Array.of(0xfb, 0xff)), "-_8");
  for (const bad of ["+/8", "AA==", "A", 7]) assert.throws(() => b64urlDecode(bad));
  assert.equal(toHex(fromHex("00ff10")), "00ff10");
  assert.throws(() => fromHex("0"));
});

test("config: apiUrl, serverKeySpki and manifestKeySpki are required; a trailing slash is dropped", async () => {
  const serve = (body, status = 200) => async () => new Response(JSON.stringify(body), { status });
  const keys = { serverKeySpki: "AAAA", manifestKeySpki: "BBBB" };
  const config = await loadConfig(serve({ apiUrl: "https://api.example/", ...keys }));
  assert.equal(config.apiUrl, "https://api.example");
  const bad = [{}, { apiUrl: "javascript:alert(1)", ...keys }, { apiUrl: "https://a" },
    { apiUrl: "https://a", serverKeySpki: "AAAA" }, { apiUrl: "https://a", manifestKeySpki: "BBBB" }];
  for (const body of bad) {
    await assert.rejects(loadConfig(serve(body)), ConfigError);
  }
  await assert.rejects(loadConfig(serve({}, 404)), /config.json cannot be loaded \(HTTP 404\)/);
  await assert.rejects(loadConfig(async () => new Response("<html>")), /config.json cannot be loaded \(not JSON\)/);
  await assert.rejects(loadConfig(async () => { throw new TypeError("Failed to fetch"); }),
    /config.json cannot be loaded \(Failed to fetch\)/);
});

test("every failure has a clear message, in both languages", () => {
  const en = (err, rp) => render(describeError(err, rp), "en");
  assert.match(en(new ApiError(0, "network_error", "unreachable")), /^The service cannot be reached/);
  assert.match(en(new ApiError(0, "timeout", "late")), /did not answer in time/);
  assert.match(en(new ApiError(503, "service_unavailable", "Try later")), /503 service_unavailable/);
  assert.match(en(new ApiError(503, "model_unavailable", "x")), /does not match the signed model manifest.*\(503 model_unavailable\)/);
  assert.match(en(new ApiError(401, "invalid_client_token", "x"), "Acme Bank"), /expired or was already used\. Start a new sign-in from Acme Bank\./);
  assert.match(en(new ApiError(401, "session_invalid", "x")), /secure session expired\. Start a new sign-in from the service\./);
  assert.match(en(new ApiError(400, "bad_request", "Malformed")), /\(400 bad_request\): Malformed/);
  assert.match(en(new ManifestError("rollback: version 1 < 3")), /possible rollback attack \(rollback: version 1 < 3\)/);
  assert.match(en(new ManifestError("expired")), /manifest could not be verified.*\(expired\)/);
  assert.match(en(new ProtocolError("yunet: sha256 differs from the manifest")), /secure channel.*sha256 differs/);
  assert.match(en(new ProtocolError("verify answer is about another attempt")), /server's answer could not be verified.*another attempt/);
  assert.match(en(new ProtocolError("flow answer is malformed")), /sign-in request are malformed/);
  assert.match(en(new ConfigError("no apiUrl")), /misconfigured: no apiUrl/);
  assert.match(en(new Error("boom")), /boom/);
  // The same failures in Hindi: Devanagari sentences, the technical reason kept as is.
  const hi = (err) => render(describeError(err, "Acme Bank"), "hi");
  assert.match(hi(new ApiError(0, "network_error", "unreachable")), /^सेवा से संपर्क नहीं हो पा रहा है/);
  assert.match(hi(new ApiError(401, "invalid_client_token", "x")), /Acme Bank से नया साइन-इन शुरू करें।$/);
  assert.match(hi(new ManifestError("rollback: version 1 < 3")), /रोलबैक.*\(rollback: version 1 < 3\)/);
});

test("the warm-up model is the 70-byte Identity graph checked with onnx.checker", () => {
  // Checked with onnx.checker.check_model and run with onnxruntime 1.23 (y == x).
  assert.equal(toHex(warmupModel()),
    "08073a3c0a100a017812017922084964656e7469747912067761726d75705a0f0a0178120a0a08080112040a02080162"
    + "0f0a0179120a0a08080112040a02080142040a00100d");
});
