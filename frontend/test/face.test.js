// The JavaScript face pipeline (src/face.js) against the server's Python one, with the vectors
// of tests/vectors/face.json (python -m vectors): geometry exactly, the decoder
// exactly on synthetic head outputs, and on the real YuNet / anti-spoof models (onnxruntime-web
// in node, the published files in s3-uploads/) the astronaut's face within a pixel.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import * as ort from "onnxruntime-web";
import {
  ANTISPOOF_INPUT, DETECTOR_INPUT, STRIDES, antispoofInput, cropBox, decodeDetections, detectorInput,
  eyeDistance, letterboxSize, lumaPercentile, meanLuma, poseCues, roundHalfEven,
} from "../src/capture/face.js";
import { cropRgb, resizeRgb, toRgba } from "../testing/image.js";

const vector = JSON.parse(readFileSync(new URL("../../tests/vectors/face.json", import.meta.url), "utf8"));
const uploads = new URL("../../s3-uploads/", import.meta.url);
ort.env.wasm.numThreads = 1;
ort.env.logLevel = "error";

const close = (actual, expected, tolerance, what) => assert.ok(
  Math.abs(actual - expected) <= tolerance, `${what}: ${actual} vs ${expected} (±${tolerance})`);

test("round() ties to even, as Python", () => {
  assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, -4.5, 2.4999, 2.5001].map(roundHalfEven), [0, 2, 2, 0, -2, -4, 2, 3]);
});

test("letterbox geometry equals the server's for every frame shape", () => {
  for (const c of vector.letterbox_cases) {
    assert.deepEqual(letterboxSize(c.width, c.height), { scale: c.scale, width: c.new_width, height: c.new_height }, `${c.width}x${c.height}`);
  }
});

test("the anti-spoof crop box equals the server's (ties to even included)", () => {
  for (const c of vector.crop_cases) assert.deepEqual(cropBox({ box: c.box }), c.crop, String(c.box));
});

test("pose cues equal the server's", () => {
  for (const c of vector.pose_cases) {
    const { yaw, pitch } = poseCues(c.landmarks);
    close(yaw, c.yaw, 1e-9, "yaw");
    close(pitch, c.pitch, 1e-9, "pitch");
  }
});

test("decode + NMS on synthetic head outputs equals the server's exactly", () => {
  const { cells, scale, image_size: [imageWidth, imageHeight], faces } = vector.decode_case;
  const outputs = {};
  for (const s of STRIDES) {
    const n = (DETECTOR_INPUT / s) ** 2;
    Object.assign(outputs, {
      [`cls_${s}`]: new Float32Array(n), [`obj_${s}`]: new Float32Array(n),
      [`bbox_${s}`]: new Float32Array(4 * n), [`kps_${s}`]: new Float32Array(10 * n),
    });
  }
  for (const c of cells) {
    outputs[`cls_${c.stride}`][c.index] = c.cls;
    outputs[`obj_${c.stride}`][c.index] = c.obj;
    outputs[`bbox_${c.stride}`].set(c.bbox, 4 * c.index);
    outputs[`kps_${c.stride}`].set(c.kps, 10 * c.index);
  }
  const got = decodeDetections(outputs, { scale, imageWidth, imageHeight });
  assert.equal(got.length, faces.length);
  got.forEach((face, i) => {
    face.box.forEach((v, k) => close(v, faces[i].box[k], 1e-5, `face ${i} box[${k}]`));
    face.landmarks.flat().forEach((v, k) => close(v, faces[i].landmarks.flat()[k], 1e-5, `face ${i} landmark ${k}`));
    close(face.score, faces[i].score, 1e-6, `face ${i} score`);
  });
  assert.throws(() => decodeDetections({}, { scale, imageWidth, imageHeight }), /cls_8/);
});

test("the astronaut through YuNet and the anti-spoof model: within a pixel of the server", async () => {
  const { width, height } = vector.image;
  const rgb = new Uint8Array(Buffer.from(vector.image.rgb, "base64"));
  assert.equal(rgb.length, width * height * 3);

  const box = letterboxSize(width, height);
  assert.equal(box.scale, vector.letterbox.scale);
  const square = { width: DETECTOR_INPUT, height: DETECTOR_INPUT };
  const tensor = detectorInput(toRgba(resizeRgb(rgb, width, height, box.width, box.height), box.width, box.height, square));
  const plane = DETECTOR_INPUT ** 2;
  // Same pixels as Pillow's resize, to the byte: every BGR plane sums to the server's.
  [0, 1, 2].forEach((c) => assert.equal(tensor.subarray(c * plane, (c + 1) * plane).reduce((a, v) => a + v, 0),
    vector.letterbox.tensor_channel_sums[c], `BGR plane ${c}`));

  const detector = await ort.InferenceSession.create(readFileSync(new URL("yunet-2023mar.onnx", uploads)));
  const out = await detector.run({ input: new ort.Tensor("float32", tensor, [1, 3, DETECTOR_INPUT, DETECTOR_INPUT]) });
  const outputs = Object.fromEntries(Object.entries(out).map(([k, t]) => [k, t.data]));
  const faces = decodeDetections(outputs, { scale: box.scale, imageWidth: width, imageHeight: height });
  assert.equal(faces.length, vector.faces.length);
  const [face] = faces;
  const [expected] = vector.faces;
  face.box.forEach((v, k) => close(v, expected.box[k], 1, `box[${k}]`));
  face.landmarks.flat().forEach((v, k) => close(v, expected.landmarks.flat()[k], 1, `landmark ${k}`));
  close(face.score, expected.score, 0.01, "score");
  close(poseCues(face.landmarks).yaw, vector.pose.yaw, 0.01, "yaw");
  assert.ok(eyeDistance(face) > 30);
  const rgba = toRgba(rgb, width, height);
  close(meanLuma(rgba, width, [0, 0, width, height]), vector.mean_luma, 0.01, "mean luma");
  close(lumaPercentile(rgba, width, expected.box, 0.9), vector.face_light_p90, 1, "face light (p90)");

  const crop = cropBox(face);
  assert.deepEqual(crop, vector.antispoof.crop);
  const side = crop[2] - crop[0];
  const pixels = resizeRgb(cropRgb(rgb, width, height, crop), side, side, ANTISPOOF_INPUT, ANTISPOOF_INPUT);
  const antispoof = await ort.InferenceSession.create(readFileSync(new URL("antispoof-human-3.3.6.onnx", uploads)));
  const input = antispoofInput(toRgba(pixels, ANTISPOOF_INPUT, ANTISPOOF_INPUT));
  const result = await antispoof.run({ [antispoof.inputNames[0]]: new ort.Tensor("float32", input, [1, ANTISPOOF_INPUT, ANTISPOOF_INPUT, 3]) });
  close(result.activation_4.data[0], vector.antispoof.score, 0.01, "anti-spoof score");
  await detector.release();
  await antispoof.release();
});
