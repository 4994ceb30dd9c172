// The one way API answers are parsed (src/protocol/api.js jsonAnswer): a body that is not JSON is
// a ProtocolError naming the answer, never a TypeError or a silently empty object.
import assert from "node:assert/strict";
import { test } from "node:test";
import { jsonAnswer } from "../src/protocol/api.js";
import { ProtocolError } from "../src/protocol/errors.js";

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
