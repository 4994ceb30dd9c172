// The challenge without a camera: parsing the server's challenge, the colour and move at any
// moment, guidance before the capture, the burst's limits, the camera's error mapping, the words
// for each decision, and the config.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CameraError, cameraErrorKind, openCamera } from "../src/camera.js";
import { fitPayload } from "../src/capture.js";
import { HINTS, assess, colourAt, cssColour, moveAt, parseChallenge } from "../src/challenge.js";
import { ConfigError, DEFAULTS, loadConfig } from "../src/config.js";
import { HINT_TEXT, MOVE_LABELS, describeDecision, describeError } from "../src/messages.js";
import { CHALLENGE } from "../testing/helpers.js";

const OPTIONS = DEFAULTS.capture;

/** A frame with one upright face of eye distance 50 px whose nose gives `yaw`. */
function frame(yaw, { faces = 1, light = 180, frameLuma = 120, height = 140, width = 1280, frameHeight = 960 } = {}) {
  const face = {
    box: [500, 200, 110, height],
    landmarks: [[530, 260], [580, 260], [555 + 50 * yaw, 290], [535, 320], [575, 320]],
    score: 0.9,
  };
  return {
    width, height: frameHeight, faces: Array(faces).fill(face), yaw: faces === 1 ? yaw : null,
    faceLight: faces === 1 ? light : null, frameLuma, antispoof: 0.5, ms: 20,
  };
}

test("guidance before the capture: no face, several faces, dark, far, look straight, then ready", () => {
  const hint = (f) => assess(f, OPTIONS).hint;
  assert.equal(hint(frame(0, { faces: 0 })), "no_face");
  assert.equal(hint(frame(0, { faces: 0, frameLuma: 10 })), "more_light");
  assert.equal(hint(frame(0, { faces: 2 })), "one_face");
  assert.equal(hint(frame(0, { light: 40 })), "more_light");
  // The face size counts in the frame that is sent (longest side capped at maxSide).
  assert.equal(hint(frame(0, { height: 200 })), "move_closer");
  assert.equal(hint(frame(0, { height: 400 })), "ready");
  assert.equal(hint(frame(0.3, { height: 400 })), "look_straight");
  assert.equal(assess(frame(0.05, { height: 400 }), OPTIONS).ready, true);
  for (const code of HINTS) assert.ok(HINT_TEXT[code], code);
});

test("the server's challenge parses, and nothing it could not have drawn does", () => {
  const c = parseChallenge(CHALLENGE);
  assert.deepEqual([c.mode, c.captureMs, c.moveMs, c.moves.length, c.light.length], ["light", 6000, 1500, 4, 11]);
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.moves));
  const motion = parseChallenge({ ...CHALLENGE, mode: "motion", light: [] });
  assert.equal(motion.light.length, 0);
  const bad = [
    null, [], { ...CHALLENGE, mode: "none" }, { ...CHALLENGE, moves: ["left", "right", "up", "down"] },
    { ...CHALLENGE, moves: ["center", "left", "left", "up"] }, { ...CHALLENGE, moves: ["center", "nod", "up", "left"] },
    { ...CHALLENGE, moves: ["center", "left"] }, { ...CHALLENGE, move_ms: 10 }, { ...CHALLENGE, move_ms: "1500" },
    { ...CHALLENGE, light: [["red", 6000]] }, { ...CHALLENGE, light: Array(8).fill(["white", 750]) },
    { ...CHALLENGE, light: [["red", 750], ["red", 750], ["blue", 750], ["red", 750], ["blue", 750], ["red", 750], ["blue", 750], ["red", 750]] },
    { ...CHALLENGE, light: CHALLENGE.light.slice(1) }, // does not cover the capture
    { ...CHALLENGE, mode: "motion" }, // a light schedule in motion mode
  ];
  for (const raw of bad) assert.throws(() => parseChallenge(raw), /challenge/, JSON.stringify(raw));
});

test("the colour and the move of any moment of the capture follow the schedule", () => {
  const c = parseChallenge(CHALLENGE);
  assert.equal(colourAt(c, -1), null);
  assert.equal(colourAt(c, 0), "red");
  assert.equal(colourAt(c, 499), "red");
  assert.equal(colourAt(c, 500), "cyan");
  assert.equal(colourAt(c, 5999), "cyan");
  assert.equal(colourAt(c, 6000), null);
  assert.deepEqual(moveAt(c, 0), { index: 0, move: "center", start: 0 });
  assert.deepEqual(moveAt(c, 1500), { index: 1, move: "left", start: 1500 });
  assert.deepEqual(moveAt(c, 5999), { index: 3, move: "right", start: 4500 });
  assert.equal(moveAt(c, 6000), null);
  assert.equal(cssColour("magenta"), "rgb(255 0 255)");
  for (const move of c.moves) assert.ok(MOVE_LABELS[move], move);
});

test("no colour lasts under 350 ms, so the page stays under three flashes a second", () => {
  const c = parseChallenge(CHALLENGE);
  const changes = [];
  let start = 0;
  for (const [, duration] of c.light) changes.push((start += duration));
  for (const t of changes) assert.ok(changes.filter((u) => u >= t && u < t + 1000).length <= 3);
});

test("a burst too large for the server is thinned, never sent over its limits", () => {
  const frame = (size) => ({ bytes: new Uint8Array(size), t: 0 });
  assert.equal(fitPayload([frame(10), frame(70 * 1024)]).length, 1);
  const thinned = fitPayload(Array.from({ length: 96 }, () => frame(20 * 1024)));
  assert.ok(thinned.reduce((s, f) => s + f.bytes.length, 0) <= 1024 * 1024 - 8192);
  assert.ok(thinned.length >= 40 && thinned.length < 96);
});

test("camera failures map to denied / missing / busy, each with its own message", async () => {
  const kinds = {
    NotAllowedError: "denied", SecurityError: "denied", NotFoundError: "missing", OverconstrainedError: "missing",
    NotReadableError: "busy", AbortError: "busy", Whatever: "failed",
  };
  for (const [name, kind] of Object.entries(kinds)) assert.equal(cameraErrorKind({ name }), kind, name);
  const messages = new Set();
  for (const name of ["NotAllowedError", "NotFoundError", "NotReadableError"]) {
    const mediaDevices = { getUserMedia: async () => { throw Object.assign(new Error("x"), { name }); } };
    const err = await openCamera({}, { mediaDevices }).catch((e) => e);
    assert.ok(err instanceof CameraError);
    messages.add(describeError(err));
  }
  assert.equal(messages.size, 3);
  assert.match([...messages][0], /refused.*Allow the camera/);
  assert.match([...messages][1], /No camera was found/);
  assert.match([...messages][2], /another application/);
  assert.equal((await openCamera({}, { mediaDevices: {} }).catch((e) => e)).kind, "unsupported");
});

test("every decision has plain words, what to do next, and a retry unless verified or locked", () => {
  assert.deepEqual(["verified", "locked"].map((decision) => describeDecision({ decision, hint: "" }).retry), [false, false]);
  assert.match(describeDecision({ decision: "locked", hint: "" }).next, /30 minutes/);
  const hints = ["", "no_face", "multiple_faces", "too_dark", "too_far", "moves_not_followed"];
  const texts = new Set();
  for (const hint of hints) {
    const view = describeDecision({ decision: "not_verified", hint });
    assert.equal(view.retry, true);
    assert.ok(view.text && view.next, hint);
    texts.add(view.text);
  }
  assert.equal(texts.size, hints.length);
  // the page has no words for which liveness signal refused: the server never says
  assert.equal(describeDecision({ decision: "not_verified", hint: "light_not_reflected" }).text, texts.values().next().value);
});

test("config: capture knobs are overridable within bounds, defaultSubject and allowMotionOnly are typed", async () => {
  const serve = (extra) => async () => new Response(JSON.stringify({ apiUrl: "https://a.example", serverKeySpki: "AAAA", ...extra }));
  const config = await loadConfig(serve({ capture: { fps: 10 }, defaultSubject: "demo" }));
  assert.equal(config.capture.fps, 10);
  assert.equal(config.capture.maxSide, DEFAULTS.capture.maxSide);
  assert.equal(config.defaultSubject, "demo");
  assert.equal(config.allowMotionOnly, false);
  assert.equal((await loadConfig(serve({ allowMotionOnly: true }))).allowMotionOnly, true);
  assert.equal((await loadConfig(serve({}))).capture, DEFAULTS.capture);
  for (const capture of [{ fps: 4 }, { nope: 1 }, { maxSide: "320" }, { maxSide: 1280 }, 5]) {
    await assert.rejects(loadConfig(serve({ capture })), ConfigError, JSON.stringify(capture));
  }
  await assert.rejects(loadConfig(serve({ defaultSubject: 5 })), ConfigError);
  await assert.rejects(loadConfig(serve({ allowMotionOnly: "yes" })), ConfigError);
});
