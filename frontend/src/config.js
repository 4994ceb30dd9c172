// Runtime configuration: /config.json (written by the deploy workflow or the local stack),
// over documented defaults.
export const DEFAULTS = Object.freeze({
  apiUrl: "", // base URL of the HTTP API, no trailing slash
  serverKeySpki: "", // pinned server signing key: DER SPKI, base64url
  serverKeyId: "", // hex SHA-256 of that SPKI
  // Manifest roles this page downloads and runs. The embedding model (SFace, 95 % of the bytes)
  // runs only on the server, which decides; the browser needs detection and anti-spoof hints.
  browserRoles: Object.freeze(["detector", "antispoof"]),
  defaultSubject: "", // user ID pre-filled on the consent screen ("demo" on the local stack)
  // When the page takes each challenge frame (challenge.js). Only WHEN: the server re-measures
  // the frames and decides (secureface.verify.liveness, thresholds in docs/LIVENESS.md).
  capture: Object.freeze({
    centerMaxAbsYaw: 0.12, // |yaw cue| of a `center` frame (the server allows 0.25)
    turnMargin: 0.22, // yaw change of a turn vs the captured center frame (the server needs 0.18)
    holdFrames: 3, // consecutive analysed frames meeting the step before it is captured
    stepTimeoutMs: 8000, // then the step's best frame is captured anyway and the server decides
    // Face box height in the sent frame, px: ~2.5 eye distances frontal, so a head turned by 50°
    // still keeps the 24 px between the eyes the server needs.
    minFaceHeight: 90,
    // "More light": the face's 90th-percentile luma (0..255; its lit part, fair to every skin
    // tone: well-lit package faces 99-212, the same at 30 % exposure 29-65), or, with no face
    // found, the frame's mean luma.
    minFaceLight: 75,
    minFrameLuma: 30,
    maxSide: 1280, // longest side of a sent JPEG, px
    jpegQuality: 0.9,
  }),
});

/** Bounds of each capture knob that config.json may set. */
const CAPTURE_RANGES = Object.freeze({
  centerMaxAbsYaw: [0, 1], turnMargin: [0, 1], holdFrames: [1, 30], stepTimeoutMs: [1000, 60000],
  minFaceHeight: [0, 2000], minFaceLight: [0, 255], minFrameLuma: [0, 255], maxSide: [320, 4096], jpegQuality: [0.5, 1],
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
  const config = { ...DEFAULTS, ...raw, capture: captureOptions(raw?.capture) };
  config.apiUrl = typeof config.apiUrl === "string" ? config.apiUrl.replace(/\/+$/, "") : "";
  if (!/^https?:\/\/[^/?#]+(\/[^?#]*)?$/.test(config.apiUrl) || typeof config.serverKeySpki !== "string" || !config.serverKeySpki) {
    throw new ConfigError("config.json lacks a valid apiUrl or serverKeySpki");
  }
  if (typeof config.defaultSubject !== "string") throw new ConfigError("config.json defaultSubject must be a string");
  return Object.freeze(config);
}

/**
 * The capture knobs: defaults, overridden by config.json's `capture` within bounds.
 * @param {unknown} raw
 * @returns {Readonly<import("./challenge.js").CaptureOptions>}
 * @throws {ConfigError}
 */
function captureOptions(raw) {
  if (raw === undefined) return DEFAULTS.capture;
  if (!raw || typeof raw !== "object") throw new ConfigError("config.json capture must be an object");
  const options = { ...DEFAULTS.capture };
  for (const [key, value] of Object.entries(raw)) {
    const range = CAPTURE_RANGES[key];
    if (!range) throw new ConfigError(`config.json capture.${key} is unknown`);
    if (typeof value !== "number" || !(value >= range[0] && value <= range[1])) {
      throw new ConfigError(`config.json capture.${key} must be a number in [${range.join(", ")}]`);
    }
    options[key] = value;
  }
  return Object.freeze(options);
}
