// The only module that touches WebCrypto. Keys are imported non-extractable.
const ECDSA = { name: "ECDSA", namedCurve: "P-256" };

export async function importServerKey(spkiBytes) {
  return crypto.subtle.importKey("spki", spkiBytes, ECDSA, false, ["verify"]);
}

// ES256: WebCrypto signatures are raw r||s (64 bytes), as in JWS.
export async function verifyEs256(publicKey, rawSignature, message) {
  if (rawSignature.length !== 64) return false;
  return crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, publicKey, rawSignature, message);
}

export async function sha256Hex(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}
