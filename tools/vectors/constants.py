"""``tests/vectors/constants.json``: the protocol constants both languages write down — labels,
limits, sizes, identifier patterns — taken from the Python modules that own them, so that
``frontend/test/constants.test.js`` fails when the JavaScript copy drifts (and
``tests/vectors/test_vectors.py`` when the file is stale).

Patterns are the regular expressions' source text (the same in both languages for these).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from secureface.crypto import delegation, stream
from secureface.face import antispoof, detector
from secureface.models import manifest, segments
from secureface.sessions import exchange, sealed
from secureface.sessions.service import SESSION_ID_RE
from secureface.transactions import model as transactions
from secureface.transactions.result import DECISIONS
from secureface.transactions.service import SESSION_PURPOSES
from secureface.verify import answer, request


def constants() -> dict[str, Any]:
    return {
        "description": "Protocol constants of the server and the browser (python -m vectors)",
        "exchange": {
            "version": exchange.VERSION,
            "transcript_type": exchange.TRANSCRIPT_TYPE,
            "nonce_len": exchange.NONCE_LEN,
            "session_id_pattern": SESSION_ID_RE.pattern,
            "point_len": exchange.POINT_LEN,
            "delegation_typ": delegation.DELEGATION_TYP,
            "delegation_type": delegation.DELEGATION_TYPE,
            "max_delegation_validity_s": delegation.MAX_VALIDITY_S,
            "delegation_clock_skew_s": delegation.CLOCK_SKEW_S,
            "session_purposes": list(SESSION_PURPOSES),
        },
        "transactions": {
            "token_pattern": transactions.TOKEN_RE.pattern,
            "id_pattern": transactions.ID_RE.pattern,
            "nonce_pattern": transactions.NONCE_RE.pattern,
            "state_pattern": transactions.STATE_RE.pattern,
            "client_id_pattern": transactions.CLIENT_ID_RE.pattern,
            "purposes": list(transactions.PURPOSES),
            "locales": list(transactions.LOCALES),
            "consent_notice": transactions.CONSENT_NOTICE,
            "access_denied": transactions.ACCESS_DENIED,
        },
        "manifest": {
            "typ": manifest.MANIFEST_TYP,
            "type": manifest.MANIFEST_TYPE,
            "name_pattern": manifest.NAME_RE.pattern,
            "version_pattern": manifest.VERSION_RE.pattern,
            "roles": sorted(manifest.ROLES),
            "browser_roles": sorted(manifest.BROWSER_ROLES),
            "clock_skew_s": manifest.CLOCK_SKEW_S,
            "max_lifetime_s": manifest.MAX_LIFETIME_S,
            "max_version_jump": manifest.MAX_VERSION_JUMP,
        },
        "segments": {
            "session_header": segments.SESSION_HEADER,
            "max_segments_per_response": segments.MAX_SEGMENTS_PER_RESPONSE,
            "segment_size": segments.SEGMENT_SIZE,
        },
        "stream": {
            "magic": stream.MAGIC.decode("ascii"),
            "header_len": stream.HEADER_LEN,
            "tag_len": stream.TAG_LEN,
            "prefix_len": stream.PREFIX_LEN,
            "min_segment_size": stream.MIN_SEGMENT_SIZE,
            "max_segment_size": stream.MAX_SEGMENT_SIZE,
        },
        "verify": {
            "request_label": sealed.REQUEST_LABEL.decode("ascii"),
            "response_label": sealed.RESPONSE_LABEL.decode("ascii"),
            "nonce_len": sealed.NONCE_LEN,
            "answer_type": answer.ANSWER_TYPE,
            "answer_keys": sorted(
                ["type", *(f.name for f in dataclasses.fields(answer.VerifyAnswer))]
            ),
            "decisions": list(DECISIONS),
            "hints": ["", *answer.CLIENT_HINTS],
            "assurances": list(answer.ASSURANCES),
            "max_frames": request.MAX_FRAMES,
            "max_frame_bytes": request.MAX_FRAME_BYTES,
            "max_payload": request.MAX_PAYLOAD,
            "time_slack_ms": request.TIME_SLACK_MS,
        },
        "face": {
            "detector_input": detector.INPUT_SIZE,
            "strides": list(detector.STRIDES),
            "score_threshold": detector.SCORE_THRESHOLD,
            "nms_threshold": detector.NMS_THRESHOLD,
            "antispoof_input": antispoof.INPUT_SIZE,
            "crop_scale": antispoof.CROP_SCALE,
        },
    }
