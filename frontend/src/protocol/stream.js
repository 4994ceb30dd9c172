// The model stream (PROTOCOL.md §4): segmented AES-256-GCM (the STREAM construction, as Tink's
// AES-GCM-HKDF streaming). Per-stream key and nonce prefix from K_model and the stream id;
// nonce = prefix ‖ u32 index ‖ last; the 32-byte header is the AAD of every segment. The stream
// key is derived from the session's K_model CryptoKey straight into a non-extractable AES-GCM
// decrypt-only key: its bytes never exist in JS.
import { aesGcmDecrypt, hkdfAesGcmKey } from "./crypto.js";
import { bytesEqual, concatBytes, u32be, utf8 } from "./encoding.js";
import { ProtocolError } from "./errors.js";
import {
  HEADER_LEN, MAX_SEGMENT_SIZE, MIN_SEGMENT_SIZE, PREFIX_LEN, STREAM_INFO, STREAM_MAGIC, TAG_LEN,
} from "./limits.js";

const MAGIC = utf8.encode(STREAM_MAGIC);
const INFO = utf8.encode(STREAM_INFO);

/**
 * @typedef {object} StreamHeader
 * @property {number} segmentSize
 * @property {number} plaintextSize
 * @property {number} segmentCount
 * @property {Uint8Array} noncePrefix 7 bytes
 * @property {Uint8Array} bytes the 32 header bytes (AAD)
 */

/**
 * Number of segments of a plaintext (at least one, even when empty).
 * @param {number} plaintextSize
 * @param {number} segmentSize
 */
export const segmentCount = (plaintextSize, segmentSize) => Math.max(1, Math.ceil(plaintextSize / segmentSize));

/**
 * Bytes of sealed segment `index` (plaintext + tag).
 * @param {{segmentSize: number, plaintextSize: number, segmentCount: number}} stream
 * @param {number} index
 */
export function sealedLength({ segmentSize, plaintextSize, segmentCount: count }, index) {
  const plain = index < count - 1 ? segmentSize : plaintextSize - segmentSize * (count - 1);
  return plain + TAG_LEN;
}

/**
 * What binds a stream to one session and one exact model:
 * session_id ‖ 0x00 ‖ name ‖ 0x00 ‖ version ‖ 0x00 ‖ sha256_hex (ASCII).
 * @param {string} sessionId
 * @param {{name: string, version: string, sha256: string}} entry
 * @returns {Uint8Array}
 */
export function streamId(sessionId, { name, version, sha256 }) {
  return utf8.encode([sessionId, name, version, sha256].join("\0"));
}

/**
 * Parse and sanity-check a stream header.
 * @param {Uint8Array} bytes
 * @returns {StreamHeader}
 * @throws {ProtocolError}
 */
export function parseHeader(bytes) {
  if (bytes.length !== HEADER_LEN) throw new ProtocolError("stream header has the wrong length");
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_LEN);
  if (!bytesEqual(bytes.subarray(0, 4), MAGIC) || bytes.subarray(27).some((b) => b !== 0)) {
    throw new ProtocolError("stream header magic is wrong");
  }
  const segmentSize = view.getUint32(4);
  const plaintextSize = Number(view.getBigUint64(8));
  const count = view.getUint32(16);
  if (segmentSize < MIN_SEGMENT_SIZE || segmentSize > MAX_SEGMENT_SIZE
      || !Number.isSafeInteger(plaintextSize) || count !== segmentCount(plaintextSize, segmentSize)) {
    throw new ProtocolError("stream header sizes are inconsistent");
  }
  return Object.freeze({
    segmentSize, plaintextSize, segmentCount: count,
    noncePrefix: bytes.slice(20, 20 + PREFIX_LEN), bytes: bytes.slice(),
  });
}

/**
 * Opens the segments of one stream; any range can be opened independently, in place.
 */
export class StreamOpener {
  /**
   * Use {@link createOpener}.
   * @param {StreamHeader} header
   * @param {CryptoKey} key
   */
  constructor(header, key) {
    this.header = header;
    this._key = key;
  }

  /**
   * Plaintext of sealed segment `index`.
   * @param {number} index
   * @param {Uint8Array} sealed
   * @returns {Promise<Uint8Array>}
   * @throws {ProtocolError} wrong position or length, or the tag fails (tampered, reordered,
   *   spliced, truncated)
   */
  async open(index, sealed) {
    const h = this.header;
    if (!Number.isInteger(index) || index < 0 || index >= h.segmentCount || sealed.length !== sealedLength(h, index)) {
      throw new ProtocolError(`segment ${index} has the wrong position or length`);
    }
    const last = index === h.segmentCount - 1 ? 1 : 0;
    const nonce = concatBytes(h.noncePrefix, u32be(index), new Uint8Array([last]));
    try {
      return await aesGcmDecrypt(this._key, nonce, sealed, h.bytes);
    } catch {
      throw new ProtocolError(`segment ${index} failed authentication`);
    }
  }

  /**
   * Open `count` consecutive sealed segments from `first`, writing each plaintext at its place
   * in `into` (the whole plaintext's buffer). `body` must hold exactly those segments.
   * @param {number} first
   * @param {number} count
   * @param {Uint8Array} body sealed segments, concatenated, no header
   * @param {Uint8Array} into plaintextSize bytes
   * @returns {Promise<void>}
   * @throws {ProtocolError}
   */
  async openRange(first, count, body, into) {
    const h = this.header;
    if (into.length !== h.plaintextSize || count < 1 || first + count > h.segmentCount) {
      throw new ProtocolError(`segments ${first}..${first + count - 1} are outside the stream`);
    }
    /** @type {[number, Uint8Array][]} */
    const slices = [];
    let offset = 0;
    for (let index = first; index < first + count; index++) {
      const length = sealedLength(h, index);
      if (offset + length > body.length) throw new ProtocolError("stream body is truncated");
      slices.push([index, body.subarray(offset, offset + length)]);
      offset += length;
    }
    if (offset !== body.length) throw new ProtocolError("stream body has trailing bytes");
    const jobs = slices.map(([index, sealed]) =>
      this.open(index, sealed).then((plain) => into.set(plain, index * h.segmentSize)));
    await Promise.all(jobs);
  }

  /**
   * Open every segment of a complete stream body (segments concatenated, no header).
   * @param {Uint8Array} body
   * @returns {Promise<Uint8Array>} the plaintext
   * @throws {ProtocolError}
   */
  async openAll(body) {
    const out = new Uint8Array(this.header.plaintextSize);
    await this.openRange(0, this.header.segmentCount, body, out);
    return out;
  }
}

/**
 * An opener for the stream `streamIdBytes` under a session's model key, given its header.
 *
 * The stream key is the first 32 bytes of HKDF(K_model, "", STREAM_INFO ‖ stream id), derived
 * into a CryptoKey; the nonce prefix (the next 7 bytes) is taken from the header and not compared
 * with the derived one, since deriving it would put the stream key's bytes in JS. Nothing is
 * lost: a header of another stream (session, model, version) comes with another key, and a
 * prefix altered in a header fails the tag (the header is the AAD of every segment), so either
 * fails the first segment opened.
 * @param {CryptoKey} modelKey K_model (session.js SessionKeys.model)
 * @param {Uint8Array} streamIdBytes see {@link streamId}
 * @param {Uint8Array} headerBytes the 32 header bytes received
 * @returns {Promise<StreamOpener>}
 * @throws {ProtocolError} malformed header
 */
export async function createOpener(modelKey, streamIdBytes, headerBytes) {
  const header = parseHeader(headerBytes);
  const info = concatBytes(INFO, streamIdBytes);
  return new StreamOpener(header, await hkdfAesGcmKey(modelKey, new Uint8Array(0), info, "decrypt"));
}
