// Test-only image helpers: Pillow's BILINEAR resize (Resample.c, 8-bit fixed point, horizontal
// then vertical pass) and crop, so that node reproduces the server's inputs pixel for pixel. In
// the browser the canvas does the resizing (inference.worker.js).

const PRECISION_BITS = 32 - 8 - 2;

/**
 * Pillow's per-output-pixel bilinear coefficients (antialiased when shrinking).
 * @param {number} inSize
 * @param {number} outSize
 * @returns {{xmin: number, fixed: number[]}[]}
 */
function coefficients(inSize, outSize) {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale; // bilinear support 1.0
  const out = [];
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    const k = [];
    let total = 0;
    for (let x = 0; x < xmax; x++) {
      const t = Math.abs((x + xmin - center + 0.5) / filterScale);
      const w = t < 1 ? 1 - t : 0;
      k.push(w);
      total += w;
    }
    const fixed = k.map((w) => {
      const v = total !== 0 ? w / total : w;
      return Math.trunc(v * (1 << PRECISION_BITS) + (v < 0 ? -0.5 : 0.5));
    });
    out.push({ xmin, fixed });
  }
  return out;
}

const clip8 = (/** @type {number} */ v) => Math.min(255, Math.max(0, Math.floor(v / (1 << PRECISION_BITS))));

/**
 * Resize packed RGB like `Image.resize((w, h), Image.Resampling.BILINEAR)`.
 * @param {Uint8Array} rgb
 * @param {number} width
 * @param {number} height
 * @param {number} newWidth
 * @param {number} newHeight
 * @returns {Uint8Array}
 */
export function resizeRgb(rgb, width, height, newWidth, newHeight) {
  let src = rgb;
  let w = width;
  if (newWidth !== width) {
    const cx = coefficients(width, newWidth);
    const tmp = new Uint8Array(newWidth * height * 3);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < newWidth; x++) {
        const { xmin, fixed } = cx[x];
        for (let c = 0; c < 3; c++) {
          let ss = 1 << (PRECISION_BITS - 1);
          for (let k = 0; k < fixed.length; k++) ss += src[3 * (y * width + xmin + k) + c] * fixed[k];
          tmp[3 * (y * newWidth + x) + c] = clip8(ss);
        }
      }
    }
    src = tmp;
    w = newWidth;
  }
  if (newHeight === height) return src === rgb ? rgb.slice() : src;
  const cy = coefficients(height, newHeight);
  const out = new Uint8Array(w * newHeight * 3);
  for (let y = 0; y < newHeight; y++) {
    const { xmin: ymin, fixed } = cy[y];
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        let ss = 1 << (PRECISION_BITS - 1);
        for (let k = 0; k < fixed.length; k++) ss += src[3 * ((ymin + k) * w + x) + c] * fixed[k];
        out[3 * (y * w + x) + c] = clip8(ss);
      }
    }
  }
  return out;
}

/**
 * `Image.crop((left, top, right, bottom))` of packed RGB; outside the image is black.
 * @param {Uint8Array} rgb
 * @param {number} width
 * @param {number} height
 * @param {[number, number, number, number]} box left, top, right, bottom
 * @returns {Uint8Array}
 */
export function cropRgb(rgb, width, height, [left, top, right, bottom]) {
  const w = right - left;
  const h = bottom - top;
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    const sy = top + y;
    if (sy < 0 || sy >= height) continue;
    for (let x = 0; x < w; x++) {
      const sx = left + x;
      if (sx < 0 || sx >= width) continue;
      out.set(rgb.subarray(3 * (sy * width + sx), 3 * (sy * width + sx) + 3), 3 * (y * w + x));
    }
  }
  return out;
}

/**
 * Packed RGB placed at the top left of a black `size` x `size` RGBA square (or the same size).
 * @param {Uint8Array} rgb
 * @param {number} width
 * @param {number} height
 * @param {{width: number, height: number}} [size]
 * @returns {Uint8ClampedArray}
 */
export function toRgba(rgb, width, height, size = { width, height }) {
  const out = new Uint8ClampedArray(size.width * size.height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const s = 3 * (y * width + x);
      const d = 4 * (y * size.width + x);
      out[d] = rgb[s];
      out[d + 1] = rgb[s + 1];
      out[d + 2] = rgb[s + 2];
      out[d + 3] = 255;
    }
  }
  return out;
}
