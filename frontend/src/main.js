// Entry point. This first slice loads the configuration, fetches the signed manifest from the
// API and verifies it against the pinned key; the capture flow builds on it.
import { apiFetch } from "./api.js";
import { loadConfig } from "./config.js";
import { importServerKey } from "./crypto.js";
import { b64urlDecode } from "./encoding.js";
import { highestSeenVersion, rememberVersion, verifyManifest } from "./manifest.js";

const status = document.getElementById("status");
const list = document.getElementById("manifest");

function show(text, state) {
  status.textContent = text;
  status.dataset.state = state;
}

async function start() {
  const config = await loadConfig();
  const key = await importServerKey(b64urlDecode(config.serverKeySpki));
  const response = await apiFetch(config.apiUrl, "/models/manifest");
  const { manifest: token } = await response.json();
  const manifest = await verifyManifest(token, key, { minVersion: await highestSeenVersion() });
  await rememberVersion(manifest.manifest_version);
  list.replaceChildren();
  const rows = [["Manifest version", String(manifest.manifest_version)],
    ["Valid until", new Date(manifest.expires_at * 1000).toISOString()],
    ...manifest.models.map((m) => [`${m.role}`, `${m.name} ${m.version} (${m.size} bytes)`])];
  for (const [term, value] of rows) {
    const dt = document.createElement("dt");
    dt.textContent = term;
    const dd = document.createElement("dd");
    dd.textContent = value;
    list.append(dt, dd);
  }
  list.hidden = false;
  show("Model manifest verified against the pinned server key.", "ok");
}

start().catch((err) => show(err.message || String(err), "error"));
