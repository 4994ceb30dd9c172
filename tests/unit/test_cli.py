"""The CLI's own decisions (issue 12's two bugs, each with the test that would have caught it)."""

from __future__ import annotations

from secureface.cli import build_parser, publish_env
from secureface.settings import Settings, match_threshold


def test_publish_flags_win_over_the_environment() -> None:
    args = build_parser().parse_args(
        ["models", "publish", "--bucket", "flag-bucket", "--manifest-key", "flag-key"]
    )
    env = {"SECUREFACE_MODEL_BUCKET": "env-bucket", "SECUREFACE_MANIFEST_KEY_ID": "env-key",
           "SECUREFACE_DATA_KEY_ID": "env-data"}  # fmt: skip
    settings = Settings.from_env(publish_env(args, env))
    assert (settings.model_bucket, settings.manifest_key_id) == ("flag-bucket", "flag-key")
    assert settings.data_key_id == "env-data"  # no flag given: the environment's


def test_match_uses_the_servers_threshold_setting() -> None:
    assert match_threshold({}) == Settings.match_threshold == 0.363
    assert match_threshold({"SECUREFACE_MATCH_THRESHOLD": "0.5"}) == 0.5


def test_publish_signs_with_the_manifest_key_only() -> None:
    """Publishing takes the manifest key; the server key (sessions) is not a publish option."""
    import pytest

    with pytest.raises(SystemExit):
        build_parser().parse_args(["models", "publish", "--signing-key", "server-key"])
    env = {"SECUREFACE_MODEL_BUCKET": "b", "SECUREFACE_SIGNING_KEY_ID": "server-key"}
    args = build_parser().parse_args(["models", "publish"])
    assert Settings.from_env(publish_env(args, env)).manifest_key_id == ""  # refused by _publish


def test_a_nonce_beginning_with_a_dash_is_taken_in_the_documented_form() -> None:
    """A base64url nonce begins with '-' once in 64: ``--nonce VALUE`` then reads as a missing
    value (the relying-party test failed so), ``--nonce=VALUE`` (README, --help) always works."""
    common = [
        "token",
        "verify",
        "jwt",
        "--issuer",
        "https://i",
        "--audience",
        "a",
        "--subject",
        "s",
    ]
    args = build_parser().parse_args([*common, "--nonce=-n0nce_"])
    assert args.nonce == "-n0nce_"
