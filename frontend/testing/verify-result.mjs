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
  // jose's errors carry a code (ERR_JWT_EXPIRED, …); anything else is named by its class.
  const code = err instanceof Error && "code" in err && typeof err.code === "string" ? err.code : undefined;
  console.log(JSON.stringify({ error: code ?? (err instanceof Error ? err.name : String(err)) }));
  process.exit(1);
}
