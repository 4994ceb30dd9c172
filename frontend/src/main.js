// Entry point: configuration → pinned key → signed manifest (+ rollback check) → key exchange →
// encrypted model download with progress → SHA-256 checks → onnxruntime-web sessions in a
// worker. Every failure ends on a message (data-state="error"), never on a spinner.
import { apiFetch } from "./api.js";
import { loadConfig, ConfigError } from "./config.js";
import { importVerifyKey, sha256Hex } from "./crypto.js";
import { b64urlDecode } from "./encoding.js";
import { InferenceWorker, createSessions } from "./inference.js";
import { highestSeenVersion, rememberVersion, verifyManifest } from "./manifest.js";
import { describeError } from "./messages.js";
import { loadModels } from "./models.js";
import { openSession } from "./session.js";
import { showManifest, showModels, showProgress, showStatus } from "./ui.js";

/**
 * The pinned server key from the configuration, checked against its declared id.
 * @param {{serverKeySpki: string, serverKeyId: string}} config
 * @returns {Promise<CryptoKey>}
 */
async function pinnedKey({ serverKeySpki, serverKeyId }) {
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
const mark = (step) => performance.mark(`secureface:${step}`).startTime;

async function start() {
  const worker = new InferenceWorker(); // starts loading its bundle while we talk to the API
  try {
    showStatus("Loading configuration…", "loading");
    const config = await loadConfig();
    const key = await pinnedKey(config);
    mark("config");
    showStatus("Verifying the signed model manifest…", "loading");
    const manifest = await fetchManifest(config.apiUrl, key);
    showManifest(manifest);
    mark("manifest");
    showStatus("Opening a secure session…", "loading");
    const session = await openSession(config.apiUrl, key);
    mark("session");
    showStatus("Downloading and decrypting the models…", "loading");
    const wanted = { ...manifest, models: manifest.models.filter((m) => config.browserRoles.includes(m.role)) };
    const models = await loadModels({ apiUrl: config.apiUrl, session, manifest: wanted, onProgress: showProgress });
    const verifiedMs = mark("verified");
    showStatus("Models verified. Starting them…", "loading");
    const infos = await createSessions(worker, models);
    const readyMs = mark("ready");
    showModels(wanted.models.map((m) => ({
      name: m.name, version: m.version, role: m.role, sha256: m.sha256, size: m.size,
      inputs: infos.get(m.name).inputNames,
    })), { verifiedMs, readyMs });
    showStatus(`${wanted.models.length} models verified and loaded.`, "ready");
  } catch (err) {
    worker.terminate();
    console.error(err);
    showStatus(describeError(err), "error");
  }
}

start();
