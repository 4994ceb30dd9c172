// The page: status line, download progress, manifest and model summary. Only this module and
// main.js touch the DOM.
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/**
 * Show the current step or the outcome.
 * @param {string} text
 * @param {"loading" | "ready" | "error"} state
 */
export function showStatus(text, state) {
  const status = $("status");
  status.textContent = text;
  status.dataset.state = state;
  document.body.dataset.state = state;
}

/**
 * Download progress in bytes on the wire.
 * @param {{received: number, total: number}} progress
 */
export function showProgress({ received, total }) {
  const bar = /** @type {HTMLProgressElement} */ ($("progress"));
  $("download").hidden = false;
  bar.max = total;
  bar.value = received;
  $("progress-text").textContent = `${mb(received)} of ${mb(total)} MB`;
}

/** @param {number} bytes */
const mb = (bytes) => (bytes / 1e6).toFixed(1);

/**
 * @param {import("./manifest.js").Manifest} manifest
 */
export function showManifest(manifest) {
  const rows = [["Manifest version", String(manifest.manifest_version)],
    ["Valid until", new Date(manifest.expires_at * 1000).toISOString()]];
  const list = $("manifest");
  list.replaceChildren(...rows.flatMap(([term, value]) => [el("dt", term), el("dd", value)]));
  list.hidden = false;
}

/**
 * @typedef {object} ModelSummary
 * @property {string} name
 * @property {string} version
 * @property {string} role
 * @property {string} sha256 verified
 * @property {number} size verified
 * @property {string[]} inputs input names reported by onnxruntime-web
 */

/**
 * The loaded models, for people (a table) and for tests (`#models[data-models]`).
 * @param {ModelSummary[]} models
 * @param {{verifiedMs: number, readyMs: number}} timing ms since navigation start
 */
export function showModels(models, timing) {
  const body = $("model-rows");
  body.replaceChildren(...models.map((m) => {
    const row = document.createElement("tr");
    row.append(el("td", m.name), el("td", m.version), el("td", m.role), el("td", `${(m.size / 1e6).toFixed(2)} MB`),
      el("td", `${m.sha256.slice(0, 12)}…`), el("td", m.inputs.join(", ")));
    return row;
  }));
  $("model-table").hidden = false;
  const output = $("models");
  output.dataset.models = JSON.stringify(models);
  output.dataset.verifiedMs = String(Math.round(timing.verifiedMs));
  output.dataset.readyMs = String(Math.round(timing.readyMs));
  output.textContent = `Verified in ${(timing.verifiedMs / 1000).toFixed(1)} s, ready in ${(timing.readyMs / 1000).toFixed(1)} s.`;
}

/**
 * @param {string} tag
 * @param {string} text
 */
function el(tag, text) {
  const node = document.createElement(tag);
  node.textContent = text;
  return node;
}
