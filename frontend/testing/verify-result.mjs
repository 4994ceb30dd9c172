// Verify a result token with panva's `jose` through a live JWKS, as a node relying party does:
//   node testing/verify-result.mjs <issuer> <audience> <token>
// prints the claims as JSON (exit 0), or the error's code (exit 1). Used by
// tests/integration/test_relying_party.py against the running local stack.
import { createRemoteJWKSet, jwtVerify } from "jose";

const [issuer, audience, token] = process.argv.slice(2);
try {
  const jwks = createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`));
  const { payload } = await jwtVerify(token, jwks, { issuer, audience, algorithms: ["ES256"], typ: "secureface-result+jwt" });
  console.log(JSON.stringify(payload));
} catch (err) {
  console.log(JSON.stringify({ error: err.code ?? err.name }));
  process.exit(1);
}
