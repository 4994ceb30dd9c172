// The relying party's result token (PROTOCOL.md §7) checked with panva's `jose`, the JWT
// library most node relying parties use: the Python-signed vector verifies through its JWKS
// with the checks an RP must make, and every alteration is refused. tests/integration runs the
// same check against the running stack's JWKS (testing/verify-result.mjs).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createLocalJWKSet, jwtVerify } from "jose";

const vectors = JSON.parse(readFileSync(new URL("../../tests/vectors/protocol.json", import.meta.url)));
const v = vectors.result_token;
const expected = v.expected;
const options = (overrides = {}) => ({
  issuer: expected.issuer,
  audience: expected.audience,
  algorithms: ["ES256"],
  typ: "secureface-result+jwt",
  currentDate: new Date(v.now * 1000),
  ...overrides,
});

test("jose verifies the result token through the JWKS with an RP's checks", async () => {
  const { payload, protectedHeader } = await jwtVerify(v.token, createLocalJWKSet(v.jwks), options());
  assert.deepEqual(payload, expected.claims);
  assert.equal(protectedHeader.kid, v.jwks.keys[0].kid);
  assert.equal(payload.nonce, expected.nonce);
  assert.equal(payload.sub, expected.subject);
  assert.equal(payload.decision, "verified");
});

test("jose refuses the token for another audience, issuer, type, or after expiry", async () => {
  const keys = createLocalJWKSet(v.jwks);
  for (const overrides of [
    { audience: "other-portal" },
    { issuer: "https://impostor.example" },
    { typ: "JWT" },
    { currentDate: new Date((expected.claims.exp + 1) * 1000) },
  ]) {
    await assert.rejects(jwtVerify(v.token, keys, options(overrides)), undefined, JSON.stringify(overrides));
  }
});

test("jose refuses a tampered payload and a key that is not in the JWKS", async () => {
  const [header, payload, signature] = v.token.split(".");
  const claims = JSON.parse(Buffer.from(payload, "base64url"));
  const forged = Buffer.from(JSON.stringify({ ...claims, sub: "mallory" })).toString("base64url");
  await assert.rejects(jwtVerify(`${header}.${forged}.${signature}`, createLocalJWKSet(v.jwks), options()));
  const otherKey = { ...v.jwks.keys[0], kid: "another" };
  await assert.rejects(jwtVerify(v.token, createLocalJWKSet({ keys: [otherKey] }), options()));
});
