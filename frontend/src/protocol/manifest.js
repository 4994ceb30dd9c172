// The signed model manifest (compact JWS, ES256). Rejects a bad signature, a wrong type, an
// expired or future manifest, a lifetime over 90 days, malformed entries, a version lower than
// the highest this browser has accepted (rollback; the high-water mark is kept in IndexedDB) and
// one more than 1000 above it (a leaked signature cannot pin the browser at 2^53 - 1 for a
// century). The same rules as secureface.models.manifest.verify_manifest_at.
import { isInt, parseJsonBytes } from "./encoding.js";
import { verifyCompactJws } from "./jws.js";
import { ManifestError } from "./errors.js";
import {
  MANIFEST_CLOCK_SKEW_S, MANIFEST_TYP, MANIFEST_TYPE, MAX_LIFETIME_S, MAX_VERSION_JUMP, NAME_RE, ROLES, VERSION_RE,
} from "./limits.js";

const SHA256_RE = /^[0-9a-f]{64}$/;

/**
 * @typedef {object} ModelEntry
 * @property {string} name
 * @property {string} version
 * @property {string} role
 * @property {string} sha256 lower-case hex
 * @property {number} size bytes
 */

/**
 * @typedef {object} Manifest
 * @property {number} manifest_version
 * @property {number} issued_at
 * @property {number} expires_at
 * @property {ModelEntry[]} models
 */

/**
 * Verify a signed manifest against the pinned key at time `now`.
 * @param {string} token compact JWS
 * @param {CryptoKey} publicKey the pinned manifest key
 * @param {{now?: number, minVersion?: number}} [options] `now` in Unix seconds; `minVersion`
 *   the highest manifest version accepted before
 * @returns {Promise<Manifest>}
 * @throws {ManifestError}
 */
export async function verifyManifest(token, publicKey, { now = Date.now() / 1000, minVersion = 0 } = {}) {
  const refuse = (/** @type {string} */ reason) => new ManifestError(reason);
  const manifest = parseManifest(await verifyCompactJws(token, publicKey, MANIFEST_TYP, refuse));
  const lifetime = manifest.expires_at - manifest.issued_at;
  if (!(lifetime > 0 && lifetime <= MAX_LIFETIME_S)) throw refuse(`lifetime ${lifetime} s is outside 1..${MAX_LIFETIME_S}`);
  if (now >= manifest.expires_at) throw refuse("expired");
  if (manifest.issued_at > now + MANIFEST_CLOCK_SKEW_S) throw refuse("issued in the future");
  const version = manifest.manifest_version;
  if (version < minVersion) throw refuse(`rollback: version ${version} < ${minVersion}`);
  if (minVersion > 0 && version > minVersion + MAX_VERSION_JUMP) {
    throw refuse(`version jump: ${version} > ${minVersion} + ${MAX_VERSION_JUMP}`);
  }
  return manifest;
}

/**
 * @param {Uint8Array} payload
 * @returns {Manifest}
 */
function parseManifest(payload) {
  let raw;
  try {
    raw = parseJsonBytes(payload);
  } catch {
    throw new ManifestError("malformed");
  }
  if (raw?.type !== MANIFEST_TYPE) throw new ManifestError("not a manifest");
  const { manifest_version, issued_at, expires_at, models } = raw;
  if (![manifest_version, issued_at, expires_at].every(isInt) || !Array.isArray(models)) {
    throw new ManifestError("malformed");
  }
  const entries = models.map(parseEntry);
  if (new Set(entries.map((m) => `${m.name}/${m.version}`)).size !== entries.length) {
    throw new ManifestError("duplicate model entries");
  }
  return { manifest_version, issued_at, expires_at, models: entries };
}

/**
 * One entry; names and versions end up in URLs, so they are checked before any use.
 * @param {any} raw
 * @returns {ModelEntry}
 */
function parseEntry(raw) {
  const { name, version, role, sha256, size } = raw ?? {};
  const ok = typeof name === "string" && NAME_RE.test(name)
    && typeof version === "string" && VERSION_RE.test(version)
    && ROLES.has(role) && typeof sha256 === "string" && SHA256_RE.test(sha256)
    && isInt(size) && size > 0;
  if (!ok) throw new ManifestError("malformed model entry");
  return Object.freeze({ name, version, role, sha256, size });
}

// Highest manifest version accepted, persisted in IndexedDB (rollback protection). Only this
// number is stored: never model bytes.
export const STATE_DB = "secureface";
export const STATE_STORE = "state";
export const VERSION_KEY = "manifest_version";

/** @returns {Promise<IDBDatabase>} */
function openDb() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(STATE_DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STATE_STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/**
 * Run `fn` on the state store in one transaction; resolves, once the transaction has
 * committed, with the value `fn` passed to `done`.
 * @param {IDBTransactionMode} mode
 * @param {(store: IDBObjectStore, done: (value: any) => void) => void} fn
 * @returns {Promise<any>}
 */
async function withStore(mode, fn) {
  let db;
  try {
    db = await openDb();
  } catch (err) {
    // Fail closed: without the high-water mark a rollback could not be detected.
    throw new ManifestError(`version high-water mark unavailable: IndexedDB cannot be opened (${/** @type {any} */ (err)?.name || err})`);
  }
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STATE_STORE, mode);
      /** @type {any} */
      let result;
      tx.oncomplete = () => resolve(result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
      fn(tx.objectStore(STATE_STORE), (value) => { result = value; });
    });
  } finally {
    db.close();
  }
}

/** @returns {Promise<number>} the highest manifest version accepted before (0 if none) */
export async function highestSeenVersion() {
  return withStore("readonly", (store, done) => {
    const request = store.get(VERSION_KEY);
    request.onsuccess = () => done(isInt(request.result) ? request.result : 0);
  });
}

/**
 * Raise the high-water mark to `version` (never lowers it), atomically in one transaction.
 * @param {number} version
 * @returns {Promise<void>}
 */
export async function rememberVersion(version) {
  await withStore("readwrite", (store) => {
    const request = store.get(VERSION_KEY);
    request.onsuccess = () => {
      if (!isInt(request.result) || version > request.result) store.put(version, VERSION_KEY);
    };
  });
}
