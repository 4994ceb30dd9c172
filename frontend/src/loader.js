// Secure model loading, started as soon as the page knows its sign-in request (nothing about the
// person is sent): pinned keys (from the configuration) → manifest signed by the manifest key
// (+ rollback check) → key exchange chained to the server key for a models-only session → encrypted model download with progress → SHA-256
// checks → onnxruntime-web sessions in the worker.
import { apiFetch, jsonAnswer } from "./protocol/api.js";
import { importVerifyKey, sha256Hex } from "./protocol/crypto.js";
import { b64urlDecode } from "./protocol/encoding.js";
import { msg } from "./i18n.js";
import { createSessions } from "./capture/inference.js";
import { highestSeenVersion, rememberVersion, verifyManifest } from "./protocol/manifest.js";
import { loadModels } from "./protocol/models.js";
import { openSession } from "./protocol/session.js";
import { ConfigError, InferenceError } from "./protocol/errors.js";

/**
 * One pinned key from the configuration, checked against its declared id.
 * @param {string} name the configuration's field prefix: "serverKey" or "manifestKey"
 * @param {string} spkiText DER SPKI, base64url
 * @param {string} keyId hex SHA-256 of the SPKI ("" skips the check)
 * @returns {Promise<CryptoKey>}
 */
async function pinned(name, spkiText, keyId) {
  let spki;
  try {
    spki = b64urlDecode(spkiText);
  } catch {
    throw new ConfigError(`${name}Spki is not base64url`);
  }
  if (keyId && (await sha256Hex(spki)) !== keyId) {
    throw new ConfigError(`${name}Spki does not match ${name}Id`);
  }
  try {
    return await importVerifyKey(spki);
  } catch {
    throw new ConfigError(`${name}Spki is not a P-256 public key`);
  }
}

/**
 * @typedef {object} PinnedKeys
 * @property {CryptoKey} server the server key: every session's delegation chains to it
 * @property {CryptoKey} manifest the manifest key: signs the model manifest (deploy role only)
 */

/**
 * The two pinned keys from the configuration. They must differ: the manifest key is never
 * online in a function, so a server that signs its manifest with the session key is refused.
 * @param {{serverKeySpki: string, serverKeyId: string, manifestKeySpki: string, manifestKeyId: string}} config
 * @returns {Promise<PinnedKeys>}
 */
export async function pinnedKeys({ serverKeySpki, serverKeyId, manifestKeySpki, manifestKeyId }) {
  if (serverKeySpki === manifestKeySpki) throw new ConfigError("manifestKeySpki must differ from serverKeySpki");
  return {
    server: await pinned("serverKey", serverKeySpki, serverKeyId),
    manifest: await pinned("manifestKey", manifestKeySpki, manifestKeyId),
  };
}

/**
 * Fetch and verify the manifest, refusing a rollback, then raise the high-water mark.
 * @param {string} apiUrl
 * @param {CryptoKey} key the pinned manifest key
 */
async function fetchManifest(apiUrl, key) {
  const response = await apiFetch(apiUrl, "/models/manifest");
  const token = (await jsonAnswer(response, "manifest"))?.manifest;
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
 * @property {PinnedKeys} keys the pinned keys
 * @property {{detector: string, antispoof?: string}} models loaded model names by role
 * @property {import("./ui.js").ModelSummary[]} summary
 * @property {{verifiedMs: number, readyMs: number}} timing
 */

/**
 * Load and check everything the page needs before a person can be guided. The models' session
 * is opened with the transaction's client token (`purpose: "models"`: the token stays usable
 * for the attempt).
 * @param {object} options
 * @param {import("./capture/inference.js").InferenceWorker} options.worker
 * @param {Readonly<import("./config.js").DEFAULTS>} options.config loaded (config.js loadConfig)
 * @param {PinnedKeys} options.keys the pinned keys (pinnedKeys)
 * @param {string} options.clientToken
 * @param {(step: import("./i18n.js").Message) => void} options.onStep progress sentence
 * @param {(manifest: import("./protocol/manifest.js").Manifest) => void} [options.onManifest]
 * @param {(progress: {received: number, total: number}) => void} [options.onProgress]
 * @returns {Promise<Prepared>}
 */
export async function prepare({ worker, config, keys, clientToken, onStep, onManifest = () => {}, onProgress = () => {} }) {
  onStep(msg("status.manifest"));
  const manifest = await fetchManifest(config.apiUrl, keys.manifest);
  onManifest(manifest);
  mark("manifest");
  onStep(msg("status.session"));
  const session = await openSession(config.apiUrl, keys.server, { clientToken, purpose: "models" });
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
    inputs: modelInfo(infos, m.name).inputNames,
  }));
  const antispoof = wanted.models.find((m) => m.role === "antispoof");
  return { config, keys, models: { detector: detector.name, antispoof: antispoof?.name }, summary, timing: { verifiedMs, readyMs } };
}

/**
 * @param {Map<string, import("./capture/inference.js").ModelInfo>} infos what the worker loaded
 * @param {string} name
 */
function modelInfo(infos, name) {
  const info = infos.get(name);
  if (!info) throw new InferenceError(`the inference worker did not load ${name}`);
  return info;
}
