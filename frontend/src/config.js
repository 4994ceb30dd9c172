// Runtime configuration: /config.json (written by the deploy workflow or the local stack),
// over documented defaults.
import { isWebUrl } from "./flow.js";
import { jsonAnswer } from "./protocol/api.js";
import { ConfigError } from "./protocol/errors.js";

export const DEFAULTS = Object.freeze({
  apiUrl: "", // base URL of the HTTP API, no trailing slash
  serverKeySpki: "", // pinned server key (sessions' delegations): DER SPKI, base64url
  serverKeyId: "", // hex SHA-256 of that SPKI
  manifestKeySpki: "", // pinned manifest key (the model manifest; deploy role only): DER SPKI
  manifestKeyId: "", // hex SHA-256 of that SPKI
  // Manifest roles this page downloads and runs. The embedding model (SFace, 95 % of the bytes)
  // runs only on the server, which decides; the browser needs detection and anti-spoof hints.
  browserRoles: Object.freeze(["detector", "antispoof"]),
  // Where a person who opened the page without a sign-in request is pointed to start (a
  // relying party's or the operator's page; "" for none): an absolute http(s) URL.
  startUrl: "",
  // Whether to offer the motion-only check (no flashing colours) on the consent screen: only
  // where the operator allowed it on the server (SECUREFACE_ALLOW_MOTION_ONLY), a lower assurance.
  allowMotionOnly: false,
  // The capture (capture.js). Guidance only decides WHEN the challenge starts; the server
  // re-measures the burst and decides (secureface.verify.liveness, docs/LIVENESS.md).
  capture: Object.freeze({
    centerMaxAbsYaw: 0.15, // |yaw cue| before the challenge starts (look at the screen)
    fps: 12, // frames kept a second during the challenge (the server needs 8)
    // Face box height in the sent frame, px: ~2.5 eye distances, so the 24 px between the eyes
    // the server needs are kept with a margin for turns.
    minFaceHeight: 70,
    // "More light": the face's 90th-percentile luma (0..255; its lit part, fair to every skin
    // tone: well-lit package faces 99-212, the same at 30 % exposure 29-65), or, with no face
    // found, the frame's mean luma.
    minFaceLight: 75,
    minFrameLuma: 30,
    maxSide: 320, // longest side of a sent JPEG, px (a 96-frame burst stays under 1 MiB)
    jpegQuality: 0.75,
  }),
});

/** Bounds of each capture knob that config.json may set. */
const CAPTURE_RANGES = Object.freeze({
  centerMaxAbsYaw: [0, 1], fps: [8, 15], minFaceHeight: [0, 640], minFaceLight: [0, 255], minFrameLuma: [0, 255],
  maxSide: [160, 640], jpegQuality: [0.5, 0.95],
});

/**
 * @param {typeof fetch} [fetchImpl]
 * @returns {Promise<Readonly<typeof DEFAULTS>>}
 * @throws {ConfigError}
 */
export async function loadConfig(fetchImpl = fetch) {
  /** @param {string} why */
  const unreadable = (why) => new ConfigError(`config.json cannot be loaded (${why})`);
  let response;
  try {
    response = await fetchImpl("/config.json", { cache: "no-store" });
  } catch (err) {
    throw unreadable(err instanceof Error ? err.message : String(err));
  }
  if (!response.ok) throw unreadable(`HTTP ${response.status}`);
  const raw = await jsonAnswer(response, "config.json", () => unreadable("not JSON"));
  const config = { ...DEFAULTS, ...raw, capture: captureOptions(raw?.capture) };
  config.apiUrl = typeof config.apiUrl === "string" ? config.apiUrl.replace(/\/+$/, "") : "";
  const keys = [config.serverKeySpki, config.manifestKeySpki];
  if (!/^https?:\/\/[^/?#]+(\/[^?#]*)?$/.test(config.apiUrl) || !keys.every((k) => typeof k === "string" && k)) {
    throw new ConfigError("config.json lacks a valid apiUrl, serverKeySpki or manifestKeySpki");
  }
  if (typeof config.startUrl !== "string" || (config.startUrl !== "" && !isWebUrl(config.startUrl))) {
    throw new ConfigError("config.json startUrl must be an http(s) URL or empty");
  }
  if (typeof config.allowMotionOnly !== "boolean") throw new ConfigError("config.json allowMotionOnly must be true or false");
  return Object.freeze(config);
}

/**
 * The capture knobs: defaults, overridden by config.json's `capture` within bounds.
 * @param {unknown} raw
 * @returns {Readonly<typeof DEFAULTS.capture>}
 * @throws {ConfigError}
 */
function captureOptions(raw) {
  if (raw === undefined) return DEFAULTS.capture;
  if (!raw || typeof raw !== "object") throw new ConfigError("config.json capture must be an object");
  /** @type {Record<string, number>} */
  const options = { ...DEFAULTS.capture };
  /** @type {Readonly<Record<string, number[]>>} */
  const ranges = CAPTURE_RANGES;
  for (const [key, value] of Object.entries(raw)) {
    const range = Object.hasOwn(ranges, key) ? ranges[key] : undefined;
    if (!range) throw new ConfigError(`config.json capture.${key} is unknown`);
    if (typeof value !== "number" || !(value >= range[0] && value <= range[1])) {
      throw new ConfigError(`config.json capture.${key} must be a number in [${range.join(", ")}]`);
    }
    options[key] = value;
  }
  return /** @type {Readonly<typeof DEFAULTS.capture>} */ (Object.freeze(options));
}
