// The challenge without a camera: parsing the server's challenge, the colour and move at any
// moment, guidance before the capture, the burst's limits, the camera's error mapping, the words
// for each decision, and the config.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { cameraErrorKind, openCamera } from "../src/capture/camera.js";
import { burstFps, fitPayload, framePacer } from "../src/capture/capture.js";
import { HINTS, assess, assessDuring, colourAt, cssColour, moveAt, parseChallenge } from "../src/capture/challenge.js";
import { DEFAULTS, loadConfig } from "../src/config.js";
import { render, t } from "../src/i18n.js";
import { HINT_TEXT, MOVE_LABELS, describeDecision, describeError } from "../src/messages.js";
import { CHALLENGE } from "../testing/helpers.js";
import { CameraError, ConfigError } from "../src/protocol/errors.js";
import {
  CENTER, DIRECTIONS, LIGHT_MAX_MS, LIGHT_MIN_MS, MIN_INTERVALS, MODES, MOVE_COUNT, PALETTE,
} from "../src/protocol/limits.js";

const OPTIONS = DEFAULTS.capture;
/** Python's challenge (tests/vectors/challenge.json, python -m vectors). */
const V = JSON.parse(readFileSync(new URL("../../tests/vectors/challenge.json", import.meta.url), "utf8"));

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
  for (const code of HINTS) assert.notEqual(t(HINT_TEXT[code]), HINT_TEXT[code], code);
});

test("the page's challenge constants are the server's", () => {
  const c = V.constants;
  assert.deepEqual(PALETTE, c.palette);
  assert.deepEqual([CENTER, [...DIRECTIONS], MOVE_COUNT, [...MODES]], [c.center, c.directions, c.move_count, c.modes]);
  assert.deepEqual([LIGHT_MIN_MS, LIGHT_MAX_MS, MIN_INTERVALS], [c.light_min_ms, c.light_max_ms, c.min_intervals]);
});

test("every challenge Python draws parses, with Python's colour and move at each time", () => {
  assert.ok(V.accepted.length >= 10);
  for (const { challenge, capture_ms: captureMs, at } of V.accepted) {
    const c = parseChallenge(challenge);
    assert.equal(c.captureMs, captureMs);
    for (const { t, colour, move, move_start: start } of at) {
      assert.equal(colourAt(c, t), c.mode === "motion" ? null : colour, `${JSON.stringify(challenge)} at ${t}`);
      const m = moveAt(c, t);
      assert.deepEqual(m && [m.move, m.start], move === null ? null : [move, start], `move at ${t}`);
    }
  }
});

test("every challenge Python refuses, the page refuses", () => {
  assert.ok(V.refused.length >= 15);
  for (const { why, challenge } of V.refused) assert.throws(() => parseChallenge(challenge), /challenge/, why);
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
    { ...CHALLENGE, mode: undefined }, { ...CHALLENGE, moves: "center,left,up,right" }, { ...CHALLENGE, move_ms: 1500.5 },
    { ...CHALLENGE, move_ms: 6000, light: Array(8).fill(0).map((_, i) => [i % 2 ? "red" : "blue", 3000]) },
    { ...CHALLENGE, light: undefined }, { ...CHALLENGE, light: "red" },
    { ...CHALLENGE, light: [...CHALLENGE.light.slice(0, -1), ["cyan", 600, 1]] }, // three fields
    { ...CHALLENGE, light: [...CHALLENGE.light.slice(0, -1), ["cyan", "600"]] }, // a string duration
    { ...CHALLENGE, light: [...CHALLENGE.light.slice(0, -1), { 0: "cyan", 1: 600 }] }, // not a pair
    { ...CHALLENGE, light: [...CHALLENGE.light.slice(0, -2), ["yellow", 800], ["cyan", 300]] }, // under 350 ms
    { ...CHALLENGE, light: [["red", 1100], ...CHALLENGE.light.slice(2)] }, // over 700 + 350 ms
    { ...CHALLENGE, light: [["red", 1050], ["blue", 1050], ["red", 1050], ["blue", 1050], ["red", 1050], ["blue", 750]] }, // 6 intervals
    { ...CHALLENGE, light: [...CHALLENGE.light.slice(0, -1), ["Cyan", 600]] }, // names are exact
    { ...CHALLENGE, move_ms: 1500, moves: ["center", "left", "up", "right", "down"] }, // four moves
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
  assert.deepEqual(Object.values(MOVE_LABELS).map((key) => t(key, {}, "en")), [
    "Look at the camera", "Turn your head to your left", "Turn your head to your right", "Look up", "Look down",
  ]);
  assert.deepEqual(Object.values(MOVE_LABELS).map((key) => t(key, {}, "hi")), [
    "कैमरे की ओर देखें", "अपना सिर अपनी बाईं ओर घुमाएँ", "अपना सिर अपनी दाईं ओर घुमाएँ", "ऊपर देखें", "नीचे देखें",
  ]);
});

test("the longest schedule the server may draw parses: a last interval up to 1050 ms", () => {
  const light = [["red", 700], ["green", 700], ["blue", 700], ["yellow", 700], ["magenta", 700], ["cyan", 700], ["red", 700], ["green", 1100]];
  assert.throws(() => parseChallenge({ ...CHALLENGE, light }), /challenge/); // 6000 ms, but 1100 > 1050
  light[7] = ["green", 1050];
  assert.throws(() => parseChallenge({ ...CHALLENGE, light }), /challenge/); // 5950 ms: one short
  light[0] = ["red", 750]; // as Challenge.check: any interval within [350, 1050] ms
  assert.equal(parseChallenge({ ...CHALLENGE, light }).light.length, 8);
  assert.equal(colourAt(parseChallenge({ ...CHALLENGE, light }), 5999), "green");
});

test("motion mode shows no colour but the same moves on the same windows", () => {
  const c = parseChallenge({ ...CHALLENGE, mode: "motion", light: [] });
  for (const t of [0, 1000, 5999]) assert.equal(colourAt(c, t), null);
  assert.deepEqual(moveAt(c, 3000), { index: 2, move: "up", start: 3000 });
});

test("no colour lasts under 350 ms, so the page stays under three flashes a second", () => {
  const c = parseChallenge(CHALLENGE);
  const changes = [];
  let start = 0;
  for (const [, duration] of c.light) changes.push((start += duration));
  for (const t of changes) assert.ok(changes.filter((u) => u >= t && u < t + 1000).length <= 3);
});

test("frames are paced at about 12 a second from a 30, 25 or 60 fps camera, never under 10", () => {
  for (const cameraFps of [30, 25, 60, 24]) {
    const keep = framePacer(12);
    const times = [];
    for (let i = 0; i < cameraFps * 6; i++) {
      const t = (i * 1000) / cameraFps + ((i * 7919) % 5) - 2; // a few ms of jitter
      if (keep(t)) times.push(t);
    }
    assert.ok(times.length >= 66 && times.length <= 74, `${cameraFps} fps: ${times.length} frames in 6 s`);
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    assert.ok(Math.max(...gaps) <= 130, `${cameraFps} fps: a gap of ${Math.max(...gaps)} ms`);
  }
  // A 12 fps camera keeps every frame; a stalled camera restarts the pace without a rush.
  const keep = framePacer(12);
  assert.equal(Array.from({ length: 24 }, (_, i) => keep(i * 83.4)).filter(Boolean).length, 24);
  const after = framePacer(12);
  after(0);
  assert.equal(after(1000), true);
  assert.equal(after(1033), false);
  assert.equal(after(1066), false);
  assert.equal(after(1100), true);
  // A longer capture keeps under the server's 96 frames.
  assert.equal(burstFps(12, 6000), 12);
  assert.ok(burstFps(12, 20_000) * 20 <= 96);
});

test("during the challenge the head turns on purpose: only face, count, light and size are hinted", () => {
  assert.equal(assessDuring(frame(0.6, { height: 400 }), OPTIONS), "");
  assert.equal(assessDuring(frame(0, { faces: 0 }), OPTIONS), "no_face");
  assert.equal(assessDuring(frame(0, { faces: 2 }), OPTIONS), "one_face");
  assert.equal(assessDuring(frame(0.6, { light: 40 }), OPTIONS), "more_light");
  assert.equal(assessDuring(frame(0.6, { height: 200 }), OPTIONS), "move_closer");
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
    messages.add(render(describeError(err, "Acme Bank"), "en"));
  }
  assert.equal(messages.size, 3);
  assert.match([...messages][0], /refused.*allow the camera.*start a new sign-in from Acme Bank/);
  assert.match([...messages][1], /No camera was found/);
  assert.match([...messages][2], /another application/);
  assert.equal((await openCamera({}, { mediaDevices: {} }).catch((e) => e)).kind, "unsupported");
});

test("every decision has plain words and what to do next; the other way to sign in unless verified", () => {
  const en = (m) => render(m, "en");
  const view = (decision, hint = "") => describeDecision({ decision, hint }, "Acme Bank");
  assert.deepEqual(["verified", "locked", "not_verified"].map((d) => view(d).alternative), [false, true, true]);
  assert.equal(en(view("verified").title), "Verified");
  assert.equal(en(view("verified").next), "Continue to Acme Bank to finish.");
  assert.match(en(view("locked").next), /try again in 30 minutes, starting from Acme Bank/);
  const hints = ["", "no_face", "multiple_faces", "too_dark", "too_far", "moves_not_followed"];
  const texts = new Set();
  for (const hint of hints) {
    const { title, text, next } = view("not_verified", hint);
    assert.equal(en(title), "Not verified");
    assert.ok(en(text) && en(next).endsWith("To try again, start a new sign-in from Acme Bank."), hint);
    assert.ok(render(next, "hi").endsWith("फिर से प्रयास करने के लिए Acme Bank से नया साइन-इन शुरू करें।"), hint);
    texts.add(en(text));
  }
  assert.equal(texts.size, hints.length);
  const generic = view("not_verified");
  assert.equal(`${en(generic.text)} ${en(generic.next)}`,
    "We could not verify you. Make sure your face is well lit by the screen, and follow the moves."
    + " To try again, start a new sign-in from Acme Bank.");
  // the page has no words for which liveness signal refused: the server never says
  assert.equal(en(view("not_verified", "light_not_reflected").text), texts.values().next().value);
});

test("config: capture knobs are overridable within bounds, startUrl and allowMotionOnly are typed", async () => {
  const serve = (extra) => async () => new Response(JSON.stringify({ apiUrl: "https://a.example", serverKeySpki: "AAAA", manifestKeySpki: "BBBB", ...extra }));
  const config = await loadConfig(serve({ capture: { fps: 10 }, startUrl: "https://bank.example/login" }));
  assert.equal(config.capture.fps, 10);
  assert.equal(config.capture.maxSide, DEFAULTS.capture.maxSide);
  assert.equal(config.startUrl, "https://bank.example/login");
  assert.equal(config.allowMotionOnly, false);
  assert.equal((await loadConfig(serve({}))).startUrl, "");
  assert.ok(!("defaultSubject" in DEFAULTS));
  assert.equal((await loadConfig(serve({ allowMotionOnly: true }))).allowMotionOnly, true);
  assert.equal((await loadConfig(serve({}))).capture, DEFAULTS.capture);
  for (const capture of [{ fps: 4 }, { nope: 1 }, { maxSide: "320" }, { maxSide: 1280 }, 5]) {
    await assert.rejects(loadConfig(serve({ capture })), ConfigError, JSON.stringify(capture));
  }
  for (const startUrl of [5, "javascript:alert(1)", "/relative", "bank.example"]) {
    await assert.rejects(loadConfig(serve({ startUrl })), ConfigError, String(startUrl));
  }
  await assert.rejects(loadConfig(serve({ allowMotionOnly: "yes" })), ConfigError);
});
