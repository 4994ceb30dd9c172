// The protocol constants the page writes down, against the server's (tests/vectors/constants.json,
// written by `python -m vectors` from the Python modules that own them). Every constant there is
// either checked here or listed as one the browser does not use: a constant added on the server
// side fails this test until the page has decided.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { ANTISPOOF_INPUT, CROP_SCALE, DETECTOR_INPUT, NMS_THRESHOLD, SCORE_THRESHOLD, STRIDES } from "../src/capture/face.js";
import { CONSENT_NOTICE, LOCALES, TRANSACTION_ID_RE } from "../src/consent.js";
import { CLIENT_ID_RE, PURPOSES, STATE_RE, TOKEN_RE } from "../src/flow.js";
import { b64urlEncode } from "../src/protocol/encoding.js";
import * as manifest from "../src/protocol/manifest.js";
import { SEGMENTS_PER_RANGE, SESSION_HEADER } from "../src/protocol/models.js";
import * as session from "../src/protocol/session.js";
import * as stream from "../src/protocol/stream.js";
import * as verify from "../src/protocol/verify.js";

const constants = JSON.parse(readFileSync(new URL("../../tests/vectors/constants.json", import.meta.url), "utf8"));
const source = (re) => re.source;

/** constants.json path → the page's value (in the server's representation). */
const PAGE = {
  "exchange.version": session.VERSION,
  "exchange.transcript_type": session.TRANSCRIPT_TYPE,
  "exchange.nonce_len": session.NONCE_LEN,
  "exchange.session_id_pattern": `^[A-Za-z0-9_-]{${b64urlEncode(new Uint8Array(session.SESSION_ID_LEN)).length}}$`,
  "exchange.point_len": session.POINT_LEN,
  "transactions.token_pattern": source(TOKEN_RE),
  "transactions.id_pattern": source(TRANSACTION_ID_RE),
  "transactions.state_pattern": source(STATE_RE),
  "transactions.client_id_pattern": source(CLIENT_ID_RE),
  "transactions.purposes": [...PURPOSES],
  "transactions.locales": [...LOCALES],
  "transactions.consent_notice": CONSENT_NOTICE,
  "manifest.typ": manifest.MANIFEST_TYP,
  "manifest.type": manifest.MANIFEST_TYPE,
  "manifest.name_pattern": source(manifest.NAME_RE),
  "manifest.version_pattern": source(manifest.VERSION_RE),
  "manifest.roles": [...manifest.ROLES].sort(),
  "manifest.clock_skew_s": manifest.CLOCK_SKEW_S,
  "manifest.max_lifetime_s": manifest.MAX_LIFETIME_S,
  "manifest.max_version_jump": manifest.MAX_VERSION_JUMP,
  "segments.session_header": SESSION_HEADER.toLowerCase(), // HTTP header names are case-insensitive
  "segments.max_segments_per_response": SEGMENTS_PER_RANGE,
  "segments.segment_size": stream.SEGMENT_SIZE,
  "stream.magic": new TextDecoder().decode(stream.MAGIC),
  "stream.header_len": stream.HEADER_LEN,
  "stream.tag_len": stream.TAG_LEN,
  "stream.prefix_len": stream.PREFIX_LEN,
  "stream.min_segment_size": stream.MIN_SEGMENT_SIZE,
  "stream.max_segment_size": stream.MAX_SEGMENT_SIZE,
  "verify.request_label": verify.REQUEST_LABEL,
  "verify.response_label": verify.RESPONSE_LABEL,
  "verify.nonce_len": verify.NONCE_LEN,
  "verify.answer_type": verify.ANSWER_TYPE,
  "verify.decisions": [...verify.DECISIONS],
  "verify.hints": [...verify.HINTS],
  "verify.assurances": [...verify.ASSURANCES],
  "verify.max_frames": verify.MAX_FRAMES,
  "verify.max_frame_bytes": verify.MAX_FRAME_BYTES,
  "verify.max_payload": verify.MAX_PAYLOAD,
  "verify.time_slack_ms": verify.TIME_SLACK_MS,
  "face.detector_input": DETECTOR_INPUT,
  "face.strides": [...STRIDES],
  "face.score_threshold": SCORE_THRESHOLD,
  "face.nms_threshold": NMS_THRESHOLD,
  "face.antispoof_input": ANTISPOOF_INPUT,
  "face.crop_scale": CROP_SCALE,
};
/** Constants of the server the page never needs, and why. */
const SERVER_ONLY = {
  "transactions.nonce_pattern": "the relying party's nonce travels server to server; the page never sees it",
  "manifest.browser_roles": "the server decides which roles it serves; the page loads what the manifest lists for it",
};

test("every server constant is the page's, or one the page does not use", () => {
  const flat = {};
  for (const [group, values] of Object.entries(constants)) {
    if (group === "description") continue;
    for (const [name, value] of Object.entries(values)) flat[`${group}.${name}`] = value;
  }
  assert.deepEqual(Object.keys(PAGE).concat(Object.keys(SERVER_ONLY)).sort(), Object.keys(flat).sort());
  for (const [path, value] of Object.entries(PAGE)) assert.deepEqual(value, flat[path], path);
});
