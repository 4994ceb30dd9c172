// Byte encodings as on the wire: base64url without padding, lower-case hex, big-endian integers.

/**
 * Decode base64url without padding (RFC 4648 §5).
 * @param {string} text
 * @returns {Uint8Array<ArrayBuffer>}
 */
export function b64urlDecode(text) {
  if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) {
    throw new Error("not base64url");
  }
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * @param {Uint8Array} bytes
 * @returns {string} base64url without padding
 */
export function b64urlEncode(bytes) {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * @param {Uint8Array} bytes
 * @returns {string} lower-case hex
 */
export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * @param {string} text hex, even length
 * @returns {Uint8Array<ArrayBuffer>}
 */
export function fromHex(text) {
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(text)) throw new Error("not hex");
  return Uint8Array.from(text.match(/../g) || [], (h) => parseInt(h, 16));
}

/**
 * @param {...Uint8Array} parts
 * @returns {Uint8Array<ArrayBuffer>}
 */
export function concatBytes(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Byte equality (the values compared here are public: no constant-time need).
 * @param {Uint8Array} a
 * @param {Uint8Array} b
 */
export function bytesEqual(a, b) {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * @param {number} value unsigned 32-bit integer
 * @returns {Uint8Array<ArrayBuffer>} 4 bytes, big-endian
 */
export function u32be(value) {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value);
  return out;
}

export const utf8 = new TextEncoder();
/** @param {Uint8Array} bytes strict UTF-8 */
export const fromUtf8 = (bytes) => new TextDecoder("utf-8", { fatal: true }).decode(bytes);

/**
 * Parse UTF-8 JSON bytes.
 * @param {Uint8Array} bytes
 * @returns {any}
 */
export const parseJsonBytes = (bytes) => JSON.parse(fromUtf8(bytes));

/**
 * Whether `value` is an integer as the wire formats use them (not a float, not a boolean).
 * @param {unknown} value
 * @returns {value is number}
 */
export const isInt = (value) => Number.isSafeInteger(value);
