// Compact JWS (RFC 7515) with ES256, as the server signs manifests and delegations. The
// algorithm and type are fixed by the caller, never chosen from the header.
import { verifyEs256 } from "./crypto.js";
import { b64urlDecode, parseJsonBytes, utf8 } from "./encoding.js";

/**
 * Verify a compact JWS and return its payload bytes.
 * @param {string} token
 * @param {CryptoKey} publicKey ES256 verification key
 * @param {string} typ the required `typ` header
 * @param {(reason: string) => Error} refuse builds the error thrown on any failure
 * @returns {Promise<Uint8Array>} the payload
 */
export async function verifyCompactJws(token, publicKey, typ, refuse) {
  const parts = typeof token === "string" ? token.split(".") : [];
  if (parts.length !== 3) throw refuse("malformed");
  let header, payload, signature;
  try {
    header = parseJsonBytes(b64urlDecode(parts[0]));
    payload = b64urlDecode(parts[1]);
    signature = b64urlDecode(parts[2]);
  } catch {
    throw refuse("malformed");
  }
  if (header?.alg !== "ES256" || header.typ !== typ) throw refuse("wrong algorithm or type");
  if (!(await verifyEs256(publicKey, signature, utf8.encode(`${parts[0]}.${parts[1]}`)))) {
    throw refuse("bad signature");
  }
  return payload;
}

