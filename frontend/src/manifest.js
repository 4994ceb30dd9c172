// The signed model manifest (compact JWS, ES256). Rejects a bad signature, a wrong type, an
// expired manifest, and a version lower than the highest this browser has accepted (rollback).
import { verifyEs256 } from "./crypto.js";
import { b64urlDecode, fromUtf8, utf8 } from "./encoding.js";

export const MANIFEST_TYP = "secureface-manifest+jws";
const CLOCK_SKEW_S = 300;

export class ManifestError extends Error {
  constructor(reason) {
    super(`Model manifest rejected: ${reason}`);
    this.name = "ManifestError";
    this.reason = reason;
  }
}

export async function verifyManifest(token, publicKey, { now = Date.now() / 1000, minVersion = 0 } = {}) {
  const parts = typeof token === "string" ? token.split(".") : [];
  if (parts.length !== 3) throw new ManifestError("malformed");
  let header, payload, signature;
  try {
    header = JSON.parse(fromUtf8(b64urlDecode(parts[0])));
    payload = b64urlDecode(parts[1]);
    signature = b64urlDecode(parts[2]);
  } catch {
    throw new ManifestError("malformed");
  }
  if (header.alg !== "ES256" || header.typ !== MANIFEST_TYP) throw new ManifestError("wrong algorithm or type");
  const ok = await verifyEs256(publicKey, signature, utf8.encode(`${parts[0]}.${parts[1]}`));
  if (!ok) throw new ManifestError("bad signature");
  const manifest = JSON.parse(fromUtf8(payload));
  if (manifest.type !== "secureface-model-manifest") throw new ManifestError("not a manifest");
  if (now >= manifest.expires_at) throw new ManifestError("expired");
  if (manifest.issued_at > now + CLOCK_SKEW_S) throw new ManifestError("issued in the future");
  if (manifest.manifest_version < minVersion) throw new ManifestError("rollback");
  return manifest;
}

// Highest manifest version accepted, persisted in IndexedDB (rollback protection).
const DB = "secureface";
const STORE = "state";

function openDb() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

export async function highestSeenVersion() {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const request = db.transaction(STORE).objectStore(STORE).get("manifest_version");
    request.onsuccess = () => resolve(request.result || 0);
    request.onerror = () => reject(request.error);
  });
}

export async function rememberVersion(version) {
  const db = await openDb();
  const current = await highestSeenVersion();
  if (version <= current) return;
  await new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, "readwrite");
    tx.objectStore(STORE).put(version, "manifest_version");
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
  });
}
