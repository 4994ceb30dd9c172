// A TEST-ONLY camera for Chromium, injected by Playwright before the page's scripts
// (tests/e2e/live_camera.py): getUserMedia answers with a canvas stream that plays a live person
// in front of the page. Its frames are livesim.clips pose sequences (PNG, served by the test
// under /__livesim/). It reads what the page exposes for harnesses (docs/FRONTEND.md):
//   data-secureface-move, data-secureface-move-start  → which pose sequence to play, starting a
//     reaction time after the move is asked for (the sequence of `center` otherwise);
//   data-secureface-light → the colour the page shows, which lights the face in linear light:
//     out = frame × (1 + k · mask/255 · colour), k = share / (1 − share)   (livesim.clips).
// Pre-recorded media cannot do this: they do not know the session's colours.
(() => {
  const DATA = /*__LIVE_DATA__*/ null;
  if (!DATA || !navigator.mediaDevices || window.top !== window) return;
  const PALETTE = { red: [255, 0, 0], green: [0, 255, 0], blue: [0, 0, 255], yellow: [255, 255, 0], magenta: [255, 0, 255], cyan: [0, 255, 255] };
  const toLinear = (v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  const LUT = Float32Array.from({ length: 256 }, (_, i) => toLinear(i));
  const INV = Uint8ClampedArray.from({ length: 4096 }, (_, i) => {
    const v = i / 4095;
    return Math.round(255 * (v <= 0.0031308 ? v * 12.92 : 1.055 * v ** (1 / 2.4) - 0.055));
  });
  const k = DATA.share / (1 - DATA.share);
  const step = 1000 / DATA.fps;
  const load = (name) => new Promise((resolve, reject) => {
    const image = new Image();
    image.onload = () => resolve(image);
    image.onerror = () => reject(new Error(`live camera: cannot load ${name}`));
    image.src = DATA.base + name;
  });
  /** @type {Promise<Record<string, {rgb: Uint8ClampedArray, mask: Uint8ClampedArray}[]>> | null} */
  let assets = null;
  function prepare() {
    assets ??= (async () => {
      const canvas = document.createElement("canvas");
      canvas.width = DATA.width;
      canvas.height = DATA.height;
      const context = canvas.getContext("2d", { willReadFrequently: true });
      const pixels = (image) => {
        context.drawImage(image, 0, 0);
        return context.getImageData(0, 0, DATA.width, DATA.height).data.slice();
      };
      const result = {};
      for (const [name, entries] of Object.entries(DATA.sequences)) {
        const images = await Promise.all(entries.flatMap((e) => [load(e.image), load(e.mask)]));
        result[name] = entries.map((_, i) => ({ rgb: pixels(images[2 * i]), mask: pixels(images[2 * i + 1]) }));
      }
      return result;
    })();
    return assets;
  }
  // Start loading with the page, so the camera opens at once when asked.
  document.addEventListener("DOMContentLoaded", () => prepare().catch(() => {}), { once: true });

  function pose(frames, now) {
    const root = document.documentElement;
    const move = root.getAttribute("data-secureface-move");
    const start = Number(root.getAttribute("data-secureface-move-start"));
    const centre = frames.center[Math.floor(now / step) % frames.center.length];
    if (!move || move === "center" || !frames[move]) return centre;
    const index = Math.floor((now - start - DATA.reactMs) / step);
    return index >= 0 && index < frames[move].length ? frames[move][index] : centre;
  }

  function draw(frames, context, image) {
    const frame = pose(frames, performance.now());
    const colour = document.documentElement.getAttribute("data-secureface-light");
    const out = image.data;
    if (!colour || !PALETTE[colour]) {
      out.set(frame.rgb);
    } else {
      const c = PALETTE[colour].map(toLinear);
      for (let i = 0; i < out.length; i += 4) {
        const m = (k * frame.mask[i]) / 255;
        for (let ch = 0; ch < 3; ch++) {
          const lit = LUT[frame.rgb[i + ch]] * (1 + m * c[ch]);
          out[i + ch] = INV[Math.min(4095, Math.round(lit * 4095))];
        }
        out[i + 3] = 255;
      }
    }
    context.putImageData(image, 0, 0);
  }

  navigator.mediaDevices.getUserMedia = async () => {
    const frames = await prepare();
    const canvas = document.createElement("canvas");
    canvas.width = DATA.width;
    canvas.height = DATA.height;
    const context = canvas.getContext("2d");
    const image = context.createImageData(DATA.width, DATA.height);
    const tick = () => {
      draw(frames, context, image);
      setTimeout(tick, 1000 / 30);
    };
    tick();
    return canvas.captureStream(30);
  };
})();
