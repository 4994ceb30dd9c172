// The camera: getUserMedia with each failure turned into a CameraError the page can explain
// (denied, missing, busy), and a clean stop that releases the device.

import { CameraError } from "../protocol/errors.js";

/** Time allowed for the camera to deliver its first frame once access is granted. */
export const FIRST_FRAME_TIMEOUT_MS = 10_000;

/**
 * The kind of a getUserMedia failure, by the DOMException name (older names included).
 * @param {unknown} err
 * @returns {CameraError["kind"]}
 */
export function cameraErrorKind(err) {
  const name = /** @type {any} */ (err)?.name;
  if (name === "NotAllowedError" || name === "PermissionDeniedError" || name === "SecurityError") return "denied";
  if (name === "NotFoundError" || name === "DevicesNotFoundError" || name === "OverconstrainedError") return "missing";
  if (name === "NotReadableError" || name === "TrackStartError" || name === "AbortError") return "busy";
  if (name === "TypeError") return "unsupported";
  return "failed";
}

/**
 * Open the front camera and show it in `video`; resolves once frames arrive.
 * @param {HTMLVideoElement} video
 * @param {{mediaDevices?: MediaDevices}} [env] injectable for tests
 * @returns {Promise<MediaStream>}
 * @throws {CameraError}
 */
export async function openCamera(video, { mediaDevices = globalThis.navigator?.mediaDevices } = {}) {
  if (!mediaDevices?.getUserMedia) throw new CameraError("unsupported", "navigator.mediaDevices is unavailable");
  let stream;
  try {
    stream = await mediaDevices.getUserMedia({
      audio: false,
      video: { facingMode: "user", width: { ideal: 1280 }, height: { ideal: 720 } },
    });
  } catch (err) {
    throw new CameraError(cameraErrorKind(err), String(/** @type {any} */ (err)?.message || err));
  }
  try {
    video.srcObject = stream;
    await video.play();
    await firstFrame(video);
  } catch (err) {
    stopCamera(stream, video);
    throw err instanceof CameraError ? err : new CameraError("busy", String(/** @type {any} */ (err)?.message || err));
  }
  return stream;
}

/**
 * @param {HTMLVideoElement} video
 * @returns {Promise<void>}
 */
function firstFrame(video) {
  if (video.videoWidth > 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new CameraError("busy", "no frame from the camera")), FIRST_FRAME_TIMEOUT_MS);
    video.addEventListener("loadeddata", () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}

/**
 * Release the camera (its light goes off) and detach it from the page.
 * @param {MediaStream | null} stream
 * @param {HTMLVideoElement} [video]
 */
export function stopCamera(stream, video) {
  for (const track of stream?.getTracks() ?? []) track.stop();
  if (video) video.srcObject = null;
}
