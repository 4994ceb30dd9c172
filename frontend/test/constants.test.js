// The protocol constants the page writes down (src/protocol/limits.js; the face pipeline's in
// src/capture/face.js), against the server's (tests/vectors/constants.json, written by
// `python -m vectors` from the Python modules that own them). Every constant there is
// either checked here or listed as one the browser does not use: a constant added on the server
// side fails this test until the page has decided.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { ANTISPOOF_INPUT, CROP_SCALE, DETECTOR_INPUT, NMS_THRESHOLD, SCORE_THRESHOLD, STRIDES } from "../src/capture/face.js";
import { b64urlEncode } from "../src/protocol/encoding.js";
import * as limits from "../src/protocol/limits.js";

const constants = JSON.parse(readFileSync(new URL("../../tests/vectors/constants.json", import.meta.url), "utf8"));
const source = (re) => re.source;

/** constants.json path → the page's value (in the server's representation). */
const PAGE = {
  "exchange.version": limits.EXCHANGE_VERSION,
  "exchange.transcript_type": limits.TRANSCRIPT_TYPE,
  "exchange.nonce_len": limits.EXCHANGE_NONCE_LEN,
  "exchange.session_id_pattern": `^[A-Za-z0-9_-]{${b64urlEncode(new Uint8Array(limits.SESSION_ID_LEN)).length}}$`,
  "exchange.point_len": limits.POINT_LEN,
  "exchange.delegation_typ": limits.DELEGATION_TYP,
  "exchange.delegation_type": limits.DELEGATION_TYPE,
  "exchange.max_delegation_validity_s": limits.MAX_DELEGATION_VALIDITY_S,
  "exchange.delegation_clock_skew_s": limits.DELEGATION_CLOCK_SKEW_S,
  "exchange.session_purposes": [...limits.SESSION_PURPOSES],
  "transactions.token_pattern": source(limits.TOKEN_RE),
  "transactions.id_pattern": source(limits.TRANSACTION_ID_RE),
  "transactions.state_pattern": source(limits.STATE_RE),
  "transactions.client_id_pattern": source(limits.CLIENT_ID_RE),
  "transactions.purposes": [...limits.PURPOSES],
  "transactions.locales": [...limits.LOCALES],
  "transactions.consent_notice": limits.CONSENT_NOTICE,
  "transactions.access_denied": limits.ACCESS_DENIED,
  "manifest.typ": limits.MANIFEST_TYP,
  "manifest.type": limits.MANIFEST_TYPE,
  "manifest.name_pattern": source(limits.NAME_RE),
  "manifest.version_pattern": source(limits.VERSION_RE),
  "manifest.roles": [...limits.ROLES].sort(),
  "manifest.clock_skew_s": limits.MANIFEST_CLOCK_SKEW_S,
  "manifest.max_lifetime_s": limits.MAX_LIFETIME_S,
  "manifest.max_version_jump": limits.MAX_VERSION_JUMP,
  "segments.session_header": limits.SESSION_HEADER.toLowerCase(), // HTTP header names are case-insensitive
  "segments.max_segments_per_response": limits.SEGMENTS_PER_RANGE,
  "segments.segment_size": limits.SEGMENT_SIZE,
  "stream.magic": limits.STREAM_MAGIC,
  "stream.header_len": limits.HEADER_LEN,
  "stream.tag_len": limits.TAG_LEN,
  "stream.prefix_len": limits.PREFIX_LEN,
  "stream.min_segment_size": limits.MIN_SEGMENT_SIZE,
  "stream.max_segment_size": limits.MAX_SEGMENT_SIZE,
  "verify.request_label": limits.REQUEST_LABEL,
  "verify.response_label": limits.RESPONSE_LABEL,
  "verify.nonce_len": limits.VERIFY_NONCE_LEN,
  "verify.answer_type": limits.ANSWER_TYPE,
  "verify.answer_keys": [...limits.ANSWER_KEYS],
  "verify.decisions": [...limits.DECISIONS],
  "verify.hints": [...limits.ANSWER_HINTS],
  "verify.assurances": [...limits.ASSURANCES],
  "verify.max_frames": limits.MAX_FRAMES,
  "verify.max_frame_bytes": limits.MAX_FRAME_BYTES,
  "verify.max_payload": limits.MAX_PAYLOAD,
  "verify.time_slack_ms": limits.TIME_SLACK_MS,
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
