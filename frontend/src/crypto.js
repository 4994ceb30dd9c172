// The only module that touches WebCrypto. Private and secret keys are imported or generated
// non-extractable; the functions take and return bytes so the protocol modules stay pure.
import { toHex } from "./encoding.js";

const subtle = () => globalThis.crypto.subtle;
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
  return subtle().importKey("spki", spki, ECDSA, false, ["verify"]);
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
  return subtle().verify({ name: "ECDSA", hash: "SHA-256" }, publicKey, rawSignature, message);
}

/**
 * @param {Uint8Array} bytes
 * @returns {Promise<Uint8Array>} SHA-256 digest
 */
export async function sha256(bytes) {
  return new Uint8Array(await subtle().digest("SHA-256", bytes));
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
 * ECDH: the 32-byte x-coordinate shared with the peer's uncompressed point. WebCrypto refuses
 * points off the curve.
 * @param {CryptoKey} privateKey
 * @param {Uint8Array} peerRaw 65-byte uncompressed point
 * @returns {Promise<Uint8Array>}
 */
export async function ecdhSharedSecret(privateKey, peerRaw) {
  const peer = await subtle().importKey("raw", peerRaw, ECDH, false, []);
  return new Uint8Array(await subtle().deriveBits({ name: "ECDH", public: peer }, privateKey, 256));
}

/**
 * HKDF-SHA256 (RFC 5869), the input keying material imported non-extractable.
 * @param {Uint8Array} ikm
 * @param {Uint8Array} salt may be empty
 * @param {Uint8Array} info
 * @param {number} length output bytes
 * @returns {Promise<Uint8Array>}
 */
export async function hkdfSha256(ikm, salt, info, length) {
  const key = await subtle().importKey("raw", ikm, "HKDF", false, ["deriveBits"]);
  const params = { name: "HKDF", hash: "SHA-256", salt, info };
  return new Uint8Array(await subtle().deriveBits(params, key, length * 8));
}

/**
 * Import a 256-bit AES-GCM key for decryption only, non-extractable.
 * @param {Uint8Array} raw
 * @returns {Promise<CryptoKey>}
 */
export async function importAesGcmKey(raw) {
  return subtle().importKey("raw", raw, { name: "AES-GCM", length: 256 }, false, ["decrypt"]);
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
  const params = { name: "AES-GCM", iv, additionalData: aad, tagLength: 128 };
  return new Uint8Array(await subtle().decrypt(params, key, sealed));
}

/**
 * Import a 256-bit AES-GCM key for encryption only, non-extractable.
 * @param {Uint8Array} raw
 * @returns {Promise<CryptoKey>}
 */
export async function importAesGcmEncryptKey(raw) {
  return subtle().importKey("raw", raw, { name: "AES-GCM", length: 256 }, false, ["encrypt"]);
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
  const params = { name: "AES-GCM", iv, additionalData: aad, tagLength: 128 };
  return new Uint8Array(await subtle().encrypt(params, key, plaintext));
}
