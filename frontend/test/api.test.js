// The one way JSON answers are parsed (src/protocol/api.js jsonAnswer): a body that is not JSON is
// a ProtocolError naming the answer (or the caller's own error), never a TypeError or a silently
// empty object; the API's error bodies go through it too.
import assert from "node:assert/strict";
import { test } from "node:test";
import { apiFetch, jsonAnswer } from "../src/protocol/api.js";
import { ApiError, ProtocolError } from "../src/protocol/errors.js";
import { withFetch } from "../testing/helpers.js";

test("a JSON answer is parsed", async () => {
  assert.deepEqual(await jsonAnswer(new Response('{"manifest": "a.b.c"}'), "manifest"), { manifest: "a.b.c" });
});

for (const body of ["<html>", "", '{"truncated": ']) {
  test(`an answer that is not JSON is refused: ${JSON.stringify(body)}`, async () => {
    await assert.rejects(jsonAnswer(new Response(body), "flow"), (err) => {
      assert.ok(err instanceof ProtocolError);
      assert.equal(err.reason, "flow answer is not JSON");
      return true;
    });
  });
}

test("a caller may name its own refusal (config.json: a ConfigError)", async () => {
  class Refused extends Error {}
  await assert.rejects(jsonAnswer(new Response("<html>"), "config.json", () => new Refused("no")), Refused);
  assert.equal(await jsonAnswer(new Response("null"), "config.json", () => new Refused("no")), null);
});

test("a refusal by the API keeps its JSON error body; one that is not JSON keeps the status", async () => {
  const refused = async (response) => {
    const err = await withFetch(async () => response, () => apiFetch("https://api.example", "/x")).then(
      () => assert.fail("a non-2xx answer must be refused"), (e) => e);
    assert.ok(err instanceof ApiError);
    return [err.status, err.code, err.message];
  };
  const json = (body, status) => new Response(JSON.stringify(body), { status });
  assert.deepEqual(await refused(json({ code: "bad_request", message: "Malformed" }, 400)), [400, "bad_request", "Malformed"]);
  assert.deepEqual(await refused(new Response("<html>Bad gateway</html>", { status: 502 })), [502, "http_error", "HTTP 502"]);
  assert.deepEqual(await refused(json(null, 503)), [503, "http_error", "HTTP 503"]);
  assert.deepEqual(await refused(json({ code: 7, message: ["x"] }, 500)), [500, "http_error", "HTTP 500"]);
});
