// Guided capture without a camera: guidance for each kind of frame, when a step is captured
// (held, in the right direction, relative to the captured center frame), the timeout with the
// step's best frame, and the camera's error mapping.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CameraError, cameraErrorKind, openCamera } from "../src/camera.js";
import { ChallengeRun, assess } from "../src/challenge.js";
import { ConfigError, DEFAULTS, loadConfig } from "../src/config.js";
import { HINT_TEXT, describeDecision, describeError } from "../src/messages.js";

const OPTIONS = DEFAULTS.capture;

/** A frame with one upright face of eye distance 50 px whose nose gives `yaw`. */
function frame(yaw, { faces = 1, light = 180, frameLuma = 120, height = 140, width = 1280, frameHeight = 720 } = {}) {
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

test("guidance: no face, several faces, dark, far, then the pose", () => {
  const hint = (f, step = "center", ref = 0) => assess(f, step, ref, OPTIONS).hint;
  assert.equal(hint(frame(0, { faces: 0 })), "no_face");
  assert.equal(hint(frame(0, { faces: 0, frameLuma: 10 })), "more_light");
  assert.equal(hint(frame(0, { faces: 2 })), "one_face");
  assert.equal(hint(frame(0, { light: 40 })), "more_light");
  assert.equal(hint(frame(0, { height: 60 })), "move_closer");
  // The face size counts in the frame that is sent (longest side capped at 1280 px).
  assert.equal(hint(frame(0, { height: 140, width: 2560, frameHeight: 1440 })), "move_closer");
  assert.equal(hint(frame(0.3)), "look_straight");
  assert.equal(hint(frame(0.05)), "hold_still");
  assert.equal(hint(frame(0.05), "turn_left"), "turn_left");
  assert.equal(hint(frame(0.3), "turn_left"), "hold_still");
  assert.equal(hint(frame(-0.3), "turn_right"), "hold_still");
  assert.equal(hint(frame(0.3), "turn_right"), "turn_right");
  for (const code of ["no_face", "one_face", "more_light", "move_closer", "look_straight", "turn_left", "turn_right", "hold_still"]) {
    assert.ok(HINT_TEXT[code], code);
  }
});

test("turns are measured from the captured center frame, in the person's own direction", () => {
  // turn_left: the person turns to THEIR left, the nose moves right in the image, yaw grows.
  assert.equal(assess(frame(0.3), "turn_left", 0.15, OPTIONS).met, false); // +0.15 only
  assert.equal(assess(frame(0.4), "turn_left", 0.15, OPTIONS).met, true);
  assert.equal(assess(frame(-0.1), "turn_right", 0.15, OPTIONS).met, true);
  assert.equal(assess(frame(0.4), "turn_right", 0.15, OPTIONS).met, false);
});

test("a step is captured once held for holdFrames frames in a row", () => {
  const run = new ChallengeRun(["center", "turn_left", "turn_right"], OPTIONS, 0);
  const see = (yaw, t) => run.observe(frame(yaw), t);
  assert.equal(see(0.02, 100).capture, false);
  assert.equal(see(0.3, 200).capture, false); // looked away: the hold restarts
  assert.equal(see(0.02, 300).capture, false);
  assert.equal(see(0.03, 400).capture, false);
  const verdict = see(0.04, 500);
  assert.deepEqual([verdict.capture, verdict.forced, verdict.step], [true, false, "center"]);
  run.next(frame(0.04), false, 500);
  assert.equal(run.referenceYaw, 0.04);
  assert.equal(run.step, "turn_left");
  for (const t of [600, 700]) assert.equal(see(0.3, t).capture, false);
  assert.equal(see(0.3, 800).capture, true);
  run.next(frame(0.3), false, 800);
  assert.equal(run.referenceYaw, 0.04); // the center frame stays the reference
  for (const t of [900, 1000]) see(-0.3, t);
  assert.equal(see(-0.3, 1100).capture, true);
  run.next(frame(-0.3), false, 1100);
  assert.equal(run.done, true);
  assert.deepEqual(run.captured.map((c) => c.step), ["center", "turn_left", "turn_right"]);
});

test("a step not met in time is captured anyway, with its best frame: the server decides", () => {
  const run = new ChallengeRun(["center", "turn_right"], OPTIONS, 0);
  run.next(frame(0), false, 0);
  const yaws = [0, -0.1, -0.15, 0.1, -0.12];
  const verdicts = yaws.map((yaw, i) => run.observe(frame(yaw), 1000 * (i + 1)));
  assert.deepEqual(verdicts.map((v) => v.better), [true, true, true, false, false]);
  assert.equal(run.best.frame.yaw, -0.15);
  assert.equal(verdicts.some((v) => v.capture), false);
  const late = run.observe(frame(0, { faces: 0 }), OPTIONS.stepTimeoutMs);
  assert.deepEqual([late.capture, late.forced, late.better], [true, true, false]);
  assert.equal(run.remaining(OPTIONS.stepTimeoutMs), 0);
  run.next(run.best.frame, true, OPTIONS.stepTimeoutMs);
  assert.deepEqual(run.captured[1], { step: "turn_right", forced: true, yaw: -0.15 });
  assert.equal(run.best, null);
});

test("an unknown or empty challenge is refused", () => {
  assert.throws(() => new ChallengeRun([], OPTIONS, 0), /empty/);
  assert.throws(() => new ChallengeRun(["center", "nod"], OPTIONS, 0), /nod/);
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
  assert.deepEqual(
    ["verified", "locked"].map((decision) => describeDecision({ decision, reason: decision === "verified" ? "ok" : "locked" }).retry),
    [false, false],
  );
  assert.match(describeDecision({ decision: "locked", reason: "locked" }).next, /30 minutes/);
  const reasons = ["no_face", "multiple_faces", "repeated_frame", "liveness_failed", "identity_changed", "spoof_suspected", "no_match", "new_reason"];
  const texts = new Set();
  for (const reason of reasons) {
    const view = describeDecision({ decision: "not_verified", reason });
    assert.equal(view.retry, true);
    assert.ok(view.text && view.next, reason);
    texts.add(view.text);
  }
  assert.equal(texts.size, reasons.length);
});

test("config: capture knobs are overridable within bounds, defaultSubject must be a string", async () => {
  const serve = (extra) => async () => new Response(JSON.stringify({ apiUrl: "https://a.example", serverKeySpki: "AAAA", ...extra }));
  const config = await loadConfig(serve({ capture: { stepTimeoutMs: 4000 }, defaultSubject: "demo" }));
  assert.equal(config.capture.stepTimeoutMs, 4000);
  assert.equal(config.capture.turnMargin, DEFAULTS.capture.turnMargin);
  assert.equal(config.defaultSubject, "demo");
  assert.equal((await loadConfig(serve({}))).capture, DEFAULTS.capture);
  for (const capture of [{ stepTimeoutMs: 10 }, { nope: 1 }, { turnMargin: "0.2" }, 5]) {
    await assert.rejects(loadConfig(serve({ capture })), ConfigError, JSON.stringify(capture));
  }
  await assert.rejects(loadConfig(serve({ defaultSubject: 5 })), ConfigError);
});
