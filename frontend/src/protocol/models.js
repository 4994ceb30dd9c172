// Model delivery (PROTOCOL.md §4): every model of the verified manifest is fetched as ranges of
// four 1 MiB segments, in parallel, decrypted in memory and checked against the manifest's size
// and SHA-256. Decrypted bytes are never written to any storage (no IndexedDB, Cache API or Web
// Storage; responses are fetched with `cache: "no-store"` and carry only ciphertext anyway).
import { apiFetch, readBody } from "./api.js";
import { sha256Hex } from "./crypto.js";
import { bytesEqual } from "./encoding.js";
import { createOpener, sealedLength, segmentCount, streamId } from "./stream.js";
import { ApiError, ProtocolError } from "./errors.js";
import {
  HEADER_LEN, PARALLEL_RANGES, RANGE_TIMEOUT_MS, SEGMENT_SIZE, SEGMENTS_PER_RANGE, SESSION_HEADER,
} from "./limits.js";

/**
 * @typedef {import("./manifest.js").ModelEntry} ModelEntry
 * @typedef {import("./session.js").Session} Session
 * @typedef {{received: number, total: number}} Progress bytes on the wire
 */

/**
 * @typedef {object} RangePlan
 * @property {ModelEntry} entry
 * @property {number} first
 * @property {number} count
 * @property {number} length exact bytes of the response: header + sealed segments
 */

/**
 * The range requests for one model, from the manifest alone (v1 segment size).
 * @param {ModelEntry} entry
 * @returns {RangePlan[]}
 */
export function planRanges(entry) {
  const stream = { segmentSize: SEGMENT_SIZE, plaintextSize: entry.size, segmentCount: segmentCount(entry.size, SEGMENT_SIZE) };
  const plans = [];
  for (let first = 0; first < stream.segmentCount; first += SEGMENTS_PER_RANGE) {
    const count = Math.min(SEGMENTS_PER_RANGE, stream.segmentCount - first);
    let length = HEADER_LEN;
    for (let i = first; i < first + count; i++) length += sealedLength(stream, i);
    plans.push({ entry, first, count, length });
  }
  return plans;
}

/**
 * Fetch, decrypt and check every model of a verified manifest.
 * @param {object} options
 * @param {string} options.apiUrl
 * @param {Session} options.session
 * @param {import("./manifest.js").Manifest} options.manifest verified
 * @param {(progress: Progress) => void} [options.onProgress]
 * @param {number} [options.parallel] range requests in flight
 * @returns {Promise<Map<string, Uint8Array>>} name → model bytes, each matching the manifest
 * @throws {ProtocolError | ApiError}
 */
export async function loadModels({ apiUrl, session, manifest, onProgress = () => {}, parallel = PARALLEL_RANGES }) {
  const streams = manifest.models.map((entry) => new ModelStream(session, entry));
  const plans = streams.flatMap((stream) => planRanges(stream.entry).map((plan) => ({ stream, plan })));
  const progress = { received: 0, total: plans.reduce((n, { plan }) => n + plan.length, 0) };
  onProgress({ ...progress });
  const onBytes = (/** @type {number} */ bytes) => {
    progress.received += bytes;
    onProgress({ ...progress });
  };
  const abort = new AbortController();
  /** @param {{stream: ModelStream, plan: RangePlan}} job */
  const fetchOne = async ({ stream, plan }) => {
    const body = await fetchRange(apiUrl, session.sessionId, plan, abort.signal, onBytes);
    await stream.openRange(plan, body);
  };
  try {
    await runPool(plans, parallel, fetchOne);
  } catch (err) {
    abort.abort(err);
    throw err;
  }
  const models = new Map();
  for (const stream of streams) models.set(stream.entry.name, await stream.finish());
  return models;
}

/**
 * One range response, exactly as long as planned.
 * @param {string} apiUrl
 * @param {string} sessionId
 * @param {RangePlan} plan
 * @param {AbortSignal} signal
 * @param {(bytes: number) => void} onBytes
 * @returns {Promise<Uint8Array>}
 */
async function fetchRange(apiUrl, sessionId, { entry, first, count, length }, signal, onBytes) {
  const path = `/models/${entry.name}/${entry.version}/segments?first=${first}&count=${count}`;
  const response = await apiFetch(apiUrl, path, {
    headers: { [SESSION_HEADER]: sessionId }, signal, timeoutMs: RANGE_TIMEOUT_MS,
  });
  const body = await readBody(response, length, onBytes);
  if (body.length !== length) {
    throw new ProtocolError(`${entry.name}: range ${first}+${count} is ${body.length > length ? "too long" : "truncated"}`);
  }
  return body;
}

/** One model being received: its opener (from the first range to arrive) and its plaintext. */
class ModelStream {
  /**
   * @param {Session} session
   * @param {ModelEntry} entry
   */
  constructor(session, entry) {
    this.session = session;
    this.entry = entry;
    this.plaintext = new Uint8Array(entry.size);
    /** @type {Promise<import("./stream.js").StreamOpener> | null} */
    this.opener = null;
    this.pending = planRanges(entry).length;
  }

  /**
   * Check a range's header against the stream's and open its segments in place.
   * @param {RangePlan} plan
   * @param {Uint8Array} body header ‖ sealed segments
   */
  async openRange({ first, count }, body) {
    const header = body.subarray(0, HEADER_LEN);
    this.opener ??= this.createOpener(header);
    const opener = await this.opener;
    if (!bytesEqual(opener.header.bytes, header)) {
      throw new ProtocolError(`${this.entry.name}: range responses carry different stream headers`);
    }
    await opener.openRange(first, count, body.subarray(HEADER_LEN), this.plaintext);
    this.pending -= 1;
  }

  /**
   * The opener, once the header matches the manifest's size and the planned segmentation.
   * @param {Uint8Array} header
   */
  async createOpener(header) {
    const { name, size } = this.entry;
    const opener = await createOpener(this.session.keys.model, streamId(this.session.sessionId, this.entry), header);
    const h = opener.header;
    if (h.plaintextSize !== size) throw new ProtocolError(`${name}: stream size differs from the manifest`);
    if (h.segmentSize !== SEGMENT_SIZE) throw new ProtocolError(`${name}: unexpected segment size`);
    return opener;
  }

  /**
   * The model's bytes once every range is open and the SHA-256 matches the manifest.
   * @returns {Promise<Uint8Array>}
   */
  async finish() {
    const { name, sha256, size } = this.entry;
    if (this.pending !== 0 || this.plaintext.length !== size) throw new ProtocolError(`${name}: stream incomplete`);
    if ((await sha256Hex(this.plaintext)) !== sha256) {
      throw new ProtocolError(`${name}: sha256 differs from the manifest`);
    }
    return this.plaintext;
  }
}

/**
 * Run `task` over `items` with at most `limit` in flight; rejects on the first failure.
 * @template T
 * @param {T[]} items
 * @param {number} limit
 * @param {(item: T) => Promise<void>} task
 * @returns {Promise<void>}
 */
export async function runPool(items, limit, task) {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const item = items[next++];
      try {
        await task(item);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
