// Secure model loading, started as soon as the page knows its sign-in request (nothing about the
// person is sent): pinned key (from the configuration) → signed manifest (+ rollback check) →
// key exchange for a models-only session → encrypted model download with progress → SHA-256
// checks → onnxruntime-web sessions in the worker.
import { apiFetch } from "./api.js";
import { ConfigError } from "./config.js";
import { importVerifyKey, sha256Hex } from "./crypto.js";
import { b64urlDecode } from "./encoding.js";
import { msg } from "./i18n.js";
import { createSessions } from "./inference.js";
import { highestSeenVersion, rememberVersion, verifyManifest } from "./manifest.js";
import { loadModels } from "./models.js";
import { openSession } from "./session.js";

/**
 * The pinned server key from the configuration, checked against its declared id.
 * @param {{serverKeySpki: string, serverKeyId: string}} config
 * @returns {Promise<CryptoKey>}
 */
export async function pinnedKey({ serverKeySpki, serverKeyId }) {
  let spki;
  try {
    spki = b64urlDecode(serverKeySpki);
  } catch {
    throw new ConfigError("serverKeySpki is not base64url");
  }
  if (serverKeyId && (await sha256Hex(spki)) !== serverKeyId) {
    throw new ConfigError("serverKeySpki does not match serverKeyId");
  }
  try {
    return await importVerifyKey(spki);
  } catch {
    throw new ConfigError("serverKeySpki is not a P-256 public key");
  }
}

/**
 * Fetch and verify the manifest, refusing a rollback, then raise the high-water mark.
 * @param {string} apiUrl
 * @param {CryptoKey} key
 */
async function fetchManifest(apiUrl, key) {
  const response = await apiFetch(apiUrl, "/models/manifest");
  const { manifest: token } = await response.json().catch(() => ({}));
  const manifest = await verifyManifest(token, key, { minVersion: await highestSeenVersion() });
  await rememberVersion(manifest.manifest_version);
  return manifest;
}

/**
 * Mark a step on the performance timeline (ms since navigation start; read by tests).
 * @param {string} step
 * @returns {number}
 */
export const mark = (step) => performance.mark(`secureface:${step}`).startTime;

/**
 * @typedef {object} Prepared
 * @property {Readonly<import("./config.js").DEFAULTS>} config
 * @property {CryptoKey} key the pinned server key
 * @property {{detector: string, antispoof?: string}} models loaded model names by role
 * @property {import("./ui.js").ModelSummary[]} summary
 * @property {{verifiedMs: number, readyMs: number}} timing
 */

/**
 * Load and check everything the page needs before a person can be guided. The models' session
 * is opened with the transaction's client token (`purpose: "models"`: the token stays usable
 * for the attempt).
 * @param {object} options
 * @param {import("./inference.js").InferenceWorker} options.worker
 * @param {Readonly<import("./config.js").DEFAULTS>} options.config loaded (config.js loadConfig)
 * @param {CryptoKey} options.key the pinned server key (pinnedKey)
 * @param {string} options.clientToken
 * @param {(step: import("./i18n.js").Message) => void} options.onStep progress sentence
 * @param {(manifest: import("./manifest.js").Manifest) => void} [options.onManifest]
 * @param {(progress: {received: number, total: number}) => void} [options.onProgress]
 * @returns {Promise<Prepared>}
 */
export async function prepare({ worker, config, key, clientToken, onStep, onManifest = () => {}, onProgress = () => {} }) {
  onStep(msg("status.manifest"));
  const manifest = await fetchManifest(config.apiUrl, key);
  onManifest(manifest);
  mark("manifest");
  onStep(msg("status.session"));
  const session = await openSession(config.apiUrl, key, { clientToken, purpose: "models" });
  mark("session");
  onStep(msg("status.download"));
  const wanted = { ...manifest, models: manifest.models.filter((m) => config.browserRoles.includes(m.role)) };
  const detector = wanted.models.find((m) => m.role === "detector");
  if (!detector) throw new ConfigError("the manifest has no detector model for the browser");
  const bytes = await loadModels({ apiUrl: config.apiUrl, session, manifest: wanted, onProgress });
  const verifiedMs = mark("verified");
  onStep(msg("status.starting"));
  const infos = await createSessions(worker, bytes);
  const readyMs = mark("ready");
  const summary = wanted.models.map((m) => ({
    name: m.name, version: m.version, role: m.role, sha256: m.sha256, size: m.size,
    inputs: infos.get(m.name).inputNames,
  }));
  const antispoof = wanted.models.find((m) => m.role === "antispoof");
  return { config, key, models: { detector: detector.name, antispoof: antispoof?.name }, summary, timing: { verifiedMs, readyMs } };
}
