// Runtime configuration: /config.json (written by the deploy workflow or the local stack),
// over documented defaults.
export const DEFAULTS = Object.freeze({
  apiUrl: "", // base URL of the HTTP API, no trailing slash
  serverKeySpki: "", // pinned server signing key: DER SPKI, base64url
  serverKeyId: "", // hex SHA-256 of that SPKI
  // Manifest roles this page downloads and runs. The embedding model (SFace, 95 % of the bytes)
  // runs only on the server, which decides; the browser needs detection and anti-spoof hints.
  browserRoles: Object.freeze(["detector", "antispoof"]),
});

/** The configuration is missing, unreadable or incomplete. */
export class ConfigError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = "ConfigError";
  }
}

/**
 * @param {typeof fetch} [fetchImpl]
 * @returns {Promise<Readonly<typeof DEFAULTS>>}
 * @throws {ConfigError}
 */
export async function loadConfig(fetchImpl = fetch) {
  let raw;
  try {
    const response = await fetchImpl("/config.json", { cache: "no-store" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    raw = await response.json();
  } catch (err) {
    throw new ConfigError(`config.json cannot be loaded (${err.message})`);
  }
  const config = { ...DEFAULTS, ...raw };
  config.apiUrl = typeof config.apiUrl === "string" ? config.apiUrl.replace(/\/+$/, "") : "";
  if (!/^https?:\/\/[^/?#]+(\/[^?#]*)?$/.test(config.apiUrl) || typeof config.serverKeySpki !== "string" || !config.serverKeySpki) {
    throw new ConfigError("config.json lacks a valid apiUrl or serverKeySpki");
  }
  return Object.freeze(config);
}
