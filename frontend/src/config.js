// Runtime configuration: /config.json (written by the deploy workflow or the local stack),
// over documented defaults.
export const DEFAULTS = Object.freeze({
  apiUrl: "", // base URL of the HTTP API, no trailing slash
  serverKeySpki: "", // pinned server signing key: DER SPKI, base64url
  serverKeyId: "", // hex SHA-256 of that SPKI
});

export async function loadConfig(fetchImpl = fetch) {
  const response = await fetchImpl("/config.json", { cache: "no-store" });
  if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
  const config = { ...DEFAULTS, ...(await response.json()) };
  if (!config.apiUrl || !config.serverKeySpki) throw new Error("config.json lacks apiUrl or serverKeySpki");
  return Object.freeze(config);
}
