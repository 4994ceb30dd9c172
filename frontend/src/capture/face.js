// The face pipeline's pure parts, ported from the server's Python (secureface.face): YuNet
// letterbox geometry, input tensor, head decoding and non-maximum suppression; the anti-spoof
// crop and input tensor; pose cues; mean luminance. Pixels come in as RGBA (ImageData layout);
// resizing is the canvas's job (inference.worker.js). Checked against the Python pipeline by
// test/face.test.js with tests/vectors/face.json. Everything here is a HINT for the person in
// front of the camera: the server re-runs detection and decides.

/** Side of YuNet's square input on the server (and the default here). */
export const DETECTOR_INPUT = 640;
/**
 * Side the browser runs YuNet at. The published model takes any multiple of 32
 * (tools/build_models.py); 320 has four times fewer pixels than the server's 640 and keeps
 * webcam-sized faces well above the detector's smallest anchors. Guidance only: the server
 * re-detects at 640.
 */
export const BROWSER_DETECTOR_INPUT = 320;
/** Feature-map strides of YuNet's three heads. */
export const STRIDES = Object.freeze([8, 16, 32]);
/** Minimum score sqrt(cls * obj), as the server (secureface.face.detector.SCORE_THRESHOLD). */
export const SCORE_THRESHOLD = 0.6;
/** IoU above which a lower-scoring overlapping box is dropped. */
export const NMS_THRESHOLD = 0.3;
/** Side of the anti-spoof model's square input. */
export const ANTISPOOF_INPUT = 128;
/** How much the face box is enlarged for the anti-spoof crop (Human's default). */
export const CROP_SCALE = 1.4;

/**
 * @typedef {[number, number]} Point
 * @typedef {object} Face
 * @property {[number, number, number, number]} box x, y, width, height in image pixels, clipped
 * @property {[Point, Point, Point, Point, Point]} landmarks eye, eye, nose tip, mouth, mouth
 *   (each pair left to right in the image)
 * @property {number} score
 */

/**
 * Python's round(): to the nearest integer, ties to even.
 * @param {number} x
 * @returns {number}
 */
export function roundHalfEven(x) {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * Where an image lands in the letterboxed square: scaled to fit, keeping its aspect ratio, at
 * the top left (padding right and bottom).
 * @param {number} width
 * @param {number} height
 * @param {number} [size]
 * @returns {{scale: number, width: number, height: number}} scale = network px per image px
 */
export function letterboxSize(width, height, size = DETECTOR_INPUT) {
  const scale = Math.min(size / width, size / height);
  const fit = (/** @type {number} */ v) => Math.min(size, Math.max(1, roundHalfEven(v * scale)));
  return { scale, width: fit(width), height: fit(height) };
}

/**
 * YuNet's input from the letterboxed square: (1, 3, size, size) float32, BGR, 0..255.
 * @param {Uint8ClampedArray | Uint8Array} rgba size x size RGBA pixels (padding black)
 * @param {number} [size]
 * @param {Float32Array} [out] reused buffer
 * @returns {Float32Array}
 */
export function detectorInput(rgba, size = DETECTOR_INPUT, out = new Float32Array(3 * size * size)) {
  const plane = size * size;
  for (let i = 0, p = 0; i < plane; i++, p += 4) {
    out[i] = rgba[p + 2];
    out[plane + i] = rgba[p + 1];
    out[2 * plane + i] = rgba[p];
  }
  return out;
}

/**
 * Faces from YuNet's twelve head outputs, in the original image's pixels, best score first.
 * @param {Record<string, ArrayLike<number>>} outputs `cls_/obj_/bbox_/kps_{8,16,32}` data
 * @param {object} options
 * @param {number} options.scale the letterbox scale
 * @param {number} options.imageWidth
 * @param {number} options.imageHeight
 * @param {number} [options.scoreThreshold]
 * @param {number} [options.nmsThreshold]
 * @param {number} [options.size] side of the square the detector ran on
 * @returns {Face[]}
 */
export function decodeDetections(outputs, { scale, imageWidth, imageHeight, scoreThreshold = SCORE_THRESHOLD, nmsThreshold = NMS_THRESHOLD, size = DETECTOR_INPUT }) {
  const candidates = [];
  for (const stride of STRIDES) {
    const cells = size / stride;
    const count = cells * cells;
    const [cls, obj, bbox, kps] = ["cls", "obj", "bbox", "kps"].map((head) => {
      const data = outputs[`${head}_${stride}`];
      const per = /** @type {Record<string, number>} */ ({ cls: 1, obj: 1, bbox: 4, kps: 10 })[head];
      if (!data || data.length !== count * per) throw new Error(`YuNet output ${head}_${stride} is missing or malformed`);
      return data;
    });
    for (let i = 0; i < count; i++) {
      const score = Math.sqrt(clamp01(cls[i]) * clamp01(obj[i]));
      if (!(score >= scoreThreshold)) continue;
      const col = i % cells;
      const row = (i - col) / cells;
      const cx = (col + bbox[4 * i]) * stride;
      const cy = (row + bbox[4 * i + 1]) * stride;
      const w = Math.exp(Math.min(bbox[4 * i + 2], 10)) * stride;
      const h = Math.exp(Math.min(bbox[4 * i + 3], 10)) * stride;
      const points = [];
      for (let k = 0; k < 5; k++) {
        points.push([(col + kps[10 * i + 2 * k]) * stride, (row + kps[10 * i + 2 * k + 1]) * stride]);
      }
      candidates.push({ score, box: [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], points });
    }
  }
  const clip = (/** @type {number} */ v, /** @type {number} */ max) => Math.min(Math.max(v, 0), max);
  return nms(candidates, nmsThreshold).map(({ score, box, points }) => {
    const x1 = clip(box[0] / scale, imageWidth);
    const y1 = clip(box[1] / scale, imageHeight);
    const x2 = clip(box[2] / scale, imageWidth);
    const y2 = clip(box[3] / scale, imageHeight);
    return {
      box: [x1, y1, x2 - x1, y2 - y1],
      landmarks: /** @type {Face["landmarks"]} */ (points.map(([x, y]) => [x / scale, y / scale])),
      score,
    };
  });
}

/** @param {number} v */
const clamp01 = (v) => Math.min(Math.max(v, 0), 1);

/**
 * Greedy non-maximum suppression, best score first (ties: earlier candidate first).
 * @template {{score: number, box: number[]}} T
 * @param {T[]} candidates boxes as x1, y1, x2, y2
 * @param {number} threshold
 * @returns {T[]}
 */
export function nms(candidates, threshold) {
  const area = (/** @type {number[]} */ b) => Math.max(b[2] - b[0], 0) * Math.max(b[3] - b[1], 0);
  let order = candidates.map((c, i) => i).sort((a, b) => candidates[b].score - candidates[a].score);
  const kept = [];
  while (order.length) {
    const best = candidates[order[0]];
    kept.push(best);
    order = order.slice(1).filter((i) => {
      const b = candidates[i].box;
      const iw = Math.max(Math.min(b[2], best.box[2]) - Math.max(b[0], best.box[0]), 0);
      const ih = Math.max(Math.min(b[3], best.box[3]) - Math.max(b[1], best.box[1]), 0);
      const inter = iw * ih;
      return inter / Math.max(area(b) + area(best.box) - inter, 1e-9) <= threshold;
    });
  }
  return kept;
}

/**
 * The square anti-spoof crop around a face (left, top, right, bottom), as the server builds it;
 * it may extend past the image (filled with black).
 * @param {Face} face
 * @param {number} [scale]
 * @returns {[number, number, number, number]}
 */
export function cropBox(face, scale = CROP_SCALE) {
  const [x, y, width, height] = face.box;
  const side = Math.max(width, height) * scale;
  if (!(Number.isFinite(side) && side > 0)) throw new Error("empty face box");
  const left = roundHalfEven(x + width / 2 - side / 2);
  const top = roundHalfEven(y + height / 2 - side / 2);
  const size = Math.max(1, roundHalfEven(side));
  return [left, top, left + size, top + size];
}

/**
 * The anti-spoof input from the resized crop: (1, 128, 128, 3) float32, RGB, 0..1.
 * @param {Uint8ClampedArray | Uint8Array} rgba 128 x 128 RGBA
 * @param {Float32Array} [out] reused buffer
 * @returns {Float32Array}
 */
export function antispoofInput(rgba, out = new Float32Array(ANTISPOOF_INPUT * ANTISPOOF_INPUT * 3)) {
  for (let i = 0, p = 0; i < out.length; i += 3, p += 4) {
    out[i] = rgba[p] / 255;
    out[i + 1] = rgba[p + 1] / 255;
    out[i + 2] = rgba[p + 2] / 255;
  }
  return out;
}

/**
 * Yaw and pitch cues in the frame of the eyes (secureface.face.pose): yaw > 0 when the nose is
 * right of the eye midpoint in the unmirrored image, i.e. the person turned to THEIR left.
 * @param {Face["landmarks"]} landmarks
 * @returns {{yaw: number, pitch: number}}
 */
export function poseCues(landmarks) {
  const [[lx, ly], [rx, ry], [nx, ny]] = landmarks;
  const ax = rx - lx;
  const ay = ry - ly;
  const distance = Math.hypot(ax, ay);
  if (!(distance >= 1e-6)) throw new Error("eye landmarks coincide");
  const ux = ax / distance;
  const uy = ay / distance;
  const ox = nx - (lx + rx) / 2;
  const oy = ny - (ly + ry) / 2;
  return { yaw: (ox * ux + oy * uy) / distance, pitch: (ox * -uy + oy * ux) / distance };
}

/**
 * Distance between the two eye landmarks, in pixels (the server's face size).
 * @param {Face} face
 */
export function eyeDistance(face) {
  const [[x1, y1], [x2, y2]] = face.landmarks;
  return Math.hypot(x2 - x1, y2 - y1);
}

/**
 * The `p`-quantile of the BT.601 luma (0..255, integer part) in a rectangle of RGBA pixels: the
 * smallest value at or above which no more than 1 - p of the pixels lie. The 90th percentile of
 * a face is its lit part, whatever the skin tone: a fairer "too dark" signal than the mean.
 * @param {Uint8ClampedArray | Uint8Array} rgba
 * @param {number} stride width of the pixel buffer
 * @param {[number, number, number, number]} rect x, y, width, height (clipped by the caller)
 * @param {number} p in (0, 1]
 * @param {number} [step] sample every `step`-th pixel in each direction
 * @returns {number} NaN for an empty rectangle
 */
export function lumaPercentile(rgba, stride, [x, y, width, height], p, step = 1) {
  const histogram = new Uint32Array(256);
  let n = 0;
  const x0 = Math.max(0, Math.floor(x));
  const x1 = Math.min(stride, Math.ceil(x + width));
  for (let row = Math.max(0, Math.floor(y)); row < Math.ceil(y + height); row += step) {
    for (let col = x0, q = 4 * (row * stride + x0); col < x1; col += step, q += 4 * step) {
      histogram[Math.floor(0.299 * rgba[q] + 0.587 * rgba[q + 1] + 0.114 * rgba[q + 2])] += 1;
      n += 1;
    }
  }
  if (n === 0) return NaN;
  const wanted = Math.ceil(p * n);
  for (let v = 0, seen = 0; v < 256; v++) {
    seen += histogram[v];
    if (seen >= wanted) return v;
  }
  return 255;
}

/**
 * Mean ITU-R BT.601 luma (0..255) of a rectangle of RGBA pixels.
 * @param {Uint8ClampedArray | Uint8Array} rgba
 * @param {number} stride width of the pixel buffer
 * @param {[number, number, number, number]} rect x, y, width, height (clipped by the caller)
 * @param {number} [step] sample every `step`-th pixel in each direction
 * @returns {number} NaN for an empty rectangle
 */
export function meanLuma(rgba, stride, [x, y, width, height], step = 1) {
  let sum = 0;
  let n = 0;
  const x0 = Math.max(0, Math.floor(x));
  const y0 = Math.max(0, Math.floor(y));
  const x1 = Math.min(stride, Math.ceil(x + width));
  const y1 = Math.ceil(y + height);
  for (let row = y0; row < y1; row += step) {
    for (let col = x0, p = 4 * (row * stride + x0); col < x1; col += step, p += 4 * step) {
      sum += 0.299 * rgba[p] + 0.587 * rgba[p + 1] + 0.114 * rgba[p + 2];
      n += 1;
    }
  }
  return sum / n;
}
