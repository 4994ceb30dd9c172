"""Settings read from the environment: required names, defaults, validated knobs."""

from __future__ import annotations

import pytest

from secureface.errors import ConfigurationError
from secureface.settings import Settings

BASE = {"SECUREFACE_MODEL_BUCKET": "b", "SECUREFACE_SIGNING_KEY_ID": "k"}


def test_each_key_is_read_and_required_only_where_it_is_used() -> None:
    """The server key (key exchange) and the manifest key (model, verify, publish) are separate
    settings; the runtime requires each where it is used (runtime.signer, manifest_public_key)."""
    s = Settings.from_env(BASE | {"SECUREFACE_MANIFEST_KEY_ID": "m"})
    assert (s.signing_key_id, s.manifest_key_id) == ("k", "m")
    assert Settings.from_env({"SECUREFACE_MODEL_BUCKET": "b"}).signing_key_id == ""


def test_the_runtime_refuses_to_check_a_manifest_without_the_manifest_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from secureface import runtime

    for name, value in BASE.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SECUREFACE_MANIFEST_KEY_ID", raising=False)
    runtime.reset()
    try:
        with pytest.raises(ConfigurationError) as info:
            runtime.manifest_public_key()
        assert "SECUREFACE_MANIFEST_KEY_ID" in info.value.reason
    finally:
        runtime.reset()


def test_defaults() -> None:
    s = Settings.from_env(BASE)
    assert (s.match_threshold, s.frame_workers, s.mongo_db) == (0.363, 2, "secureface")


def test_motion_only_is_off_unless_turned_on_and_the_verify_deadline_is_read() -> None:
    default = Settings.from_env(BASE)
    assert (default.allow_motion_only, default.verify_deadline_s) == (False, 60)
    on = Settings.from_env(BASE | {"SECUREFACE_ALLOW_MOTION_ONLY": "true",
                                   "SECUREFACE_VERIFY_DEADLINE_S": "45"})  # fmt: skip
    assert (on.allow_motion_only, on.verify_deadline_s) == (True, 45)
    with pytest.raises(ConfigurationError):
        Settings.from_env(BASE | {"SECUREFACE_ALLOW_MOTION_ONLY": "yes"})


def test_the_minimum_manifest_version_is_read_and_unset_means_zero() -> None:
    assert Settings.from_env(BASE).min_manifest_version == 0  # runtime.model_delivery refuses it
    floor = Settings.from_env(BASE | {"SECUREFACE_MIN_MANIFEST_VERSION": "7"})
    assert floor.min_manifest_version == 7


def test_operator_knobs_are_read_and_bounded() -> None:
    s = Settings.from_env(BASE)
    assert (s.session_ttl_s, s.lockout_max_failures, s.lockout_window_s, s.lockout_lock_s,
            s.audit_retention_days) == (300, 5, 180, 1800, 90)  # fmt: skip
    env = BASE | {"SECUREFACE_SESSION_TTL_S": "120", "SECUREFACE_LOCKOUT_MAX_FAILURES": "3",
                  "SECUREFACE_LOCKOUT_WINDOW_S": "600", "SECUREFACE_LOCKOUT_LOCK_S": "3600",
                  "SECUREFACE_AUDIT_RETENTION_DAYS": "30"}  # fmt: skip
    s = Settings.from_env(env)
    assert (s.session_ttl_s, s.lockout_max_failures, s.lockout_window_s, s.lockout_lock_s,
            s.audit_retention_days) == (120, 3, 600, 3600, 30)  # fmt: skip
    for name, bad in (("SECUREFACE_SESSION_TTL_S", "10"), ("SECUREFACE_LOCKOUT_MAX_FAILURES", "0"),
                      ("SECUREFACE_AUDIT_RETENTION_DAYS", "x")):  # fmt: skip
        with pytest.raises(ConfigurationError):
            Settings.from_env(BASE | {name: bad})


def test_knobs_are_read() -> None:
    env = BASE | {"SECUREFACE_MATCH_THRESHOLD": "0.5", "SECUREFACE_FRAME_WORKERS": "1"}
    s = Settings.from_env(env)
    assert (s.match_threshold, s.frame_workers) == (0.5, 1)


@pytest.mark.parametrize(
    "env",
    [
        {"SECUREFACE_SIGNING_KEY_ID": "k"},
        BASE | {"SECUREFACE_MATCH_THRESHOLD": "1.5"},
        BASE | {"SECUREFACE_MATCH_THRESHOLD": "high"},
        BASE | {"SECUREFACE_FRAME_WORKERS": "0"},
        BASE | {"SECUREFACE_MANIFEST_TTL_S": "soon"},
        BASE | {"SECUREFACE_MIN_MANIFEST_VERSION": "-1"},
        BASE | {"SECUREFACE_MIN_MANIFEST_VERSION": "v2"},
    ],
)
def test_missing_or_invalid_settings_are_configuration_errors(env: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError):
        Settings.from_env(env)
