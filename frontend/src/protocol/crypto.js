// The only module that touches WebCrypto. Private and secret keys are generated, imported or
// derived non-extractable, each with only the usages it needs; no function takes or returns
// secret key bytes (session keys are derived with `deriveKey`, see session.js), so the protocol
// modules stay pure and hold only CryptoKeys.
import { toHex } from "./encoding.js";

const subtle = () => globalThis.crypto.subtle;

/**
 * `bytes` as WebCrypto takes them: a view of an ordinary ArrayBuffer. Every byte array here comes
 * from fetch, TextEncoder or our own allocations, never from shared memory; checked, not assumed.
 * @param {Uint8Array} bytes
 * @returns {Uint8Array<ArrayBuffer>}
 */
function buffer(bytes) {
  if (!(bytes.buffer instanceof ArrayBuffer)) throw new TypeError("WebCrypto input in shared memory");
  return /** @type {Uint8Array<ArrayBuffer>} */ (bytes);
}
const ECDSA = { name: "ECDSA", namedCurve: "P-256" };
const ECDH = { name: "ECDH", namedCurve: "P-256" };

/**
 * @param {number} length
 * @returns {Uint8Array} cryptographically random bytes
 */
export function randomBytes(length) {
  return globalThis.crypto.getRandomValues(new Uint8Array(length));
}

/**
 * Import an ES256 verification key (DER SubjectPublicKeyInfo).
 * @param {Uint8Array} spki
 * @returns {Promise<CryptoKey>}
 */
export async function importVerifyKey(spki) {
  return subtle().importKey("spki", buffer(spki), ECDSA, false, ["verify"]);
}

/**
 * ES256 verification; WebCrypto signatures are raw r‖s (64 bytes), as in JWS.
 * @param {CryptoKey} publicKey
 * @param {Uint8Array} rawSignature
 * @param {Uint8Array} message
 * @returns {Promise<boolean>}
 */
export async function verifyEs256(publicKey, rawSignature, message) {
  if (rawSignature.length !== 64) return false;
  return subtle().verify({ name: "ECDSA", hash: "SHA-256" }, publicKey, buffer(rawSignature), buffer(message));
}

/**
 * @param {Uint8Array} bytes
 * @returns {Promise<Uint8Array>} SHA-256 digest
 */
export async function sha256(bytes) {
  return new Uint8Array(await subtle().digest("SHA-256", buffer(bytes)));
}

/**
 * @param {Uint8Array} bytes
 * @returns {Promise<string>} lower-case hex SHA-256
 */
export async function sha256Hex(bytes) {
  return toHex(await sha256(bytes));
}

/**
 * @typedef {object} EcdhKeyPair
 * @property {CryptoKey} privateKey non-extractable
 * @property {Uint8Array} publicRaw 65-byte uncompressed point
 */

/**
 * A fresh ephemeral ECDH P-256 key pair with a non-extractable private key.
 * @returns {Promise<EcdhKeyPair>}
 */
export async function generateEcdhKeyPair() {
  const pair = await subtle().generateKey(ECDH, false, ["deriveBits"]);
  return { privateKey: pair.privateKey, publicRaw: await exportRawPublicKey(pair.publicKey) };
}

/**
 * An ECDH key pair from a private JWK (known-answer tests), private key non-extractable.
 * @param {JsonWebKey} jwk
 * @returns {Promise<EcdhKeyPair>}
 */
export async function importEcdhKeyPair(jwk) {
  const privateKey = await subtle().importKey("jwk", jwk, ECDH, false, ["deriveBits"]);
  const { kty, crv, x, y } = jwk;
  const publicKey = await subtle().importKey("jwk", { kty, crv, x, y }, ECDH, true, []);
  return { privateKey, publicRaw: await exportRawPublicKey(publicKey) };
}

/** @param {CryptoKey} publicKey */
async function exportRawPublicKey(publicKey) {
  return new Uint8Array(await subtle().exportKey("raw", publicKey));
}

/**
 * ECDH with the peer's uncompressed point, as a non-extractable HKDF-SHA256 key (usages:
 * `deriveKey` and `deriveBits`). WebCrypto refuses points off the curve. The 32-byte shared
 * secret Z is in JS only between `deriveBits` and `importKey` (deriving an HKDF key straight
 * from ECDH is not available in every browser), and zeroed at once.
 * @param {CryptoKey} privateKey
 * @param {Uint8Array} peerRaw 65-byte uncompressed point
 * @returns {Promise<CryptoKey>}
 */
export async function ecdhHkdfKey(privateKey, peerRaw) {
  const peer = await subtle().importKey("raw", buffer(peerRaw), ECDH, false, []);
  const shared = new Uint8Array(await subtle().deriveBits({ name: "ECDH", public: peer }, privateKey, 256));
  try {
    return await subtle().importKey("raw", shared, "HKDF", false, ["deriveKey", "deriveBits"]);
  } finally {
    shared.fill(0);
  }
}

/** @param {Uint8Array} salt @param {Uint8Array} info */
const hkdf = (salt, info) => ({ name: "HKDF", hash: "SHA-256", salt: buffer(salt), info: buffer(info) });

/**
 * HKDF-SHA256 (RFC 5869) from `baseKey` straight into a non-extractable AES-256-GCM key: the
 * key is the first 32 bytes of the output, which never exist in JS.
 * @param {CryptoKey} baseKey HKDF, with the `deriveKey` usage
 * @param {Uint8Array} salt may be empty
 * @param {Uint8Array} info
 * @param {"encrypt" | "decrypt"} usage the one operation the key is for
 * @returns {Promise<CryptoKey>}
 */
export async function hkdfAesGcmKey(baseKey, salt, info, usage) {
  return subtle().deriveKey(hkdf(salt, info), baseKey, { name: "AES-GCM", length: 256 }, false, [usage]);
}

/**
 * HKDF-SHA256 from `baseKey` into a 32-byte key that is itself the input of a further HKDF (the
 * model key, PROTOCOL.md §4), as a non-extractable HKDF key with the `deriveKey` usage only.
 * WebCrypto cannot derive an HKDF key from an HKDF key, so the 32 bytes are in JS between
 * `deriveBits` and `importKey`, and zeroed at once.
 * @param {CryptoKey} baseKey HKDF, with the `deriveBits` usage
 * @param {Uint8Array} salt may be empty
 * @param {Uint8Array} info
 * @returns {Promise<CryptoKey>}
 */
export async function hkdfHkdfKey(baseKey, salt, info) {
  const bits = new Uint8Array(await subtle().deriveBits(hkdf(salt, info), baseKey, 256));
  try {
    return await subtle().importKey("raw", bits, "HKDF", false, ["deriveKey"]);
  } finally {
    bits.fill(0);
  }
}

/**
 * AES-256-GCM decryption with a 16-byte tag; rejects (OperationError) when the tag fails.
 * @param {CryptoKey} key
 * @param {Uint8Array} iv 12 bytes
 * @param {Uint8Array} sealed ciphertext ‖ tag
 * @param {Uint8Array} aad
 * @returns {Promise<Uint8Array>}
 */
export async function aesGcmDecrypt(key, iv, sealed, aad) {
  const params = { name: "AES-GCM", iv: buffer(iv), additionalData: buffer(aad), tagLength: 128 };
  return new Uint8Array(await subtle().decrypt(params, key, buffer(sealed)));
}

/**
 * AES-256-GCM encryption with a 16-byte tag.
 * @param {CryptoKey} key
 * @param {Uint8Array} iv 12 bytes, never reused under the key
 * @param {Uint8Array} plaintext
 * @param {Uint8Array} aad
 * @returns {Promise<Uint8Array>} ciphertext ‖ tag
 */
export async function aesGcmEncrypt(key, iv, plaintext, aad) {
  const params = { name: "AES-GCM", iv: buffer(iv), additionalData: buffer(aad), tagLength: 128 };
  return new Uint8Array(await subtle().encrypt(params, key, buffer(plaintext)));
}
