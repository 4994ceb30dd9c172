"""Relying parties through the running stack: a transaction started by the RP's backend, the
hosted flow's sessions, the result token redeemed once, and every attack on that contract
(docs/INTEGRATION.md). Each attack must be refused; none may end as a verified login."""

from __future__ import annotations

import base64
import itertools
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import jwt
import pytest

from devstack.aws import REGISTRY_SECRET
from devstack.seed import demo_face_png
from livesim import bursts, people
from secureface.client import AdminClient, ApiError, SecureFaceClient
from secureface.encoding import b64url_encode
from secureface.errors import IntegrityError, ResultRefused
from secureface.transactions.result import DECISIONS, verify_result
from secureface.verify.answer import VerifyAnswer
from tests.helpers import (
    Login,
    audited_reason,
    client_for,
    database,
    decided,
    error_body,
    http,
    past_liveness,
    relying_party,
    start_login,
)

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
_addresses = iter(range(200, 250))
#: A new take for every attempt: the memory of accepted bursts refuses a near-copy of an earlier
#: accepted one for the same person (a replay), and a person never moves the same way twice.
_takes = itertools.count(20)


def person(stack: dict[str, Any]) -> SecureFaceClient:
    """The browser of one person (an address of its own: lockout is per client)."""
    return client_for(stack, source_ip=f"127.0.1.{next(_addresses)}")


def attempt(stack: dict[str, Any], login: Login, photo: Any = None) -> str:
    """The hosted page's part of a login: verify session, live burst, answer's decision."""
    return answer_of(stack, login, photo).decision


def answer_of(stack: dict[str, Any], login: Login, photo: Any = None) -> VerifyAnswer:
    """:func:`attempt`'s whole answer."""
    client = person(stack)
    session = client.open_session(login.token)
    burst = bursts.genuine_burst(
        people.astronaut() if photo is None else photo, session.transcript.challenge,
        seed=next(_takes), screen_share=0.3,
    )  # fmt: skip
    answer = client.verify(
        session, list(burst.frames), list(burst.times_ms), transaction_id=login.transaction_id
    )
    if answer.decision != "not_verified" or photo is None:
        reason = audited_reason(stack, answer.session_id)
        print(f"attempt {login.subject}: {answer.decision} ({reason})")
    return answer


def customer(stack: dict[str, Any]) -> str:
    """A person enrolled (the astronaut) for this test alone: the memory of accepted bursts and
    the lockout are per person, and the simulated person's bursts resemble each other more than
    a real person's do, so two tests must not share one."""
    subject = f"customer-{next(_takes)}-{time.time_ns()}"
    with pytest.MonkeyPatch.context() as env:
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"):
            env.setenv(name, stack["env"][name])
        AdminClient(stack["urls"]["api"]).call(
            "POST", "/admin/enrollments",
            {"subject_id": subject, "images": [b64url_encode(demo_face_png())]},
        )  # fmt: skip
    return subject


def verified_login(stack: dict[str, Any], subject: str) -> Login:
    """A login that ended ``verified``: the enrolled person tries again with a new transaction
    when the liveness check refuses them (it does for about 1 live burst in 40 at this light:
    docs/BENCHMARKS.md), as a person would; these tests are about what follows."""

    def one() -> tuple[Login, VerifyAnswer]:
        login = start_login(stack, subject)
        return login, answer_of(stack, login)

    login, answer = past_liveness(stack, one, lambda done: decided(done[1]))
    assert answer.decision == "verified", audited_reason(stack, answer.session_id)
    return login


@pytest.fixture(scope="module")
def verified(stack: dict[str, Any]) -> tuple[Login, str]:
    """A verified login of an enrolled customer at demo-bank, and its redeemed result token."""
    login = verified_login(stack, customer(stack))
    return login, login.rp.redeem(login.transaction_id)


def jwks(stack: dict[str, Any]) -> dict[str, Any]:
    status, headers, body = http("GET", stack["urls"]["web"] + "/.well-known/jwks.json")
    assert status == 200 and headers["content-type"].startswith("application/json")
    return dict(json.loads(body))


def check(stack: dict[str, Any], token: str, login: Login, **changes: Any) -> Any:
    expected = {
        "issuer": stack["urls"]["web"], "audience": "demo-bank", "nonce": login.nonce,
        "subject": login.subject, "now": int(time.time()),
    }  # fmt: skip
    return verify_result(token, keys=jwks(stack), **{**expected, **changes})


# ----------------------------------------------------------------------------- the contract


def test_the_result_is_a_standard_jwt_that_pyjwt_verifies_through_the_jwks(
    stack: dict[str, Any], verified: tuple[Login, str]
) -> None:
    login, token = verified
    client = jwt.PyJWKClient(stack["urls"]["web"] + "/.well-known/jwks.json")
    key = client.get_signing_key_from_jwt(token)
    claims = jwt.decode(
        token, key, algorithms=["ES256"], audience="demo-bank", issuer=stack["urls"]["web"],
        options={"require": ["exp", "iat", "iss", "aud", "sub", "jti", "nonce"]},
    )  # fmt: skip
    assert jwt.get_unverified_header(token)["typ"] == "secureface-result+jwt"
    assert (claims["sub"], claims["nonce"], claims["jti"]) == (
        login.subject, login.nonce, login.transaction_id,
    )  # fmt: skip
    assert (claims["decision"], claims["assurance"], claims["amr"]) == (
        "verified", "light", ["face"],
    )  # fmt: skip
    assert claims["exp"] - claims["iat"] == 600 and claims["auth_time"] == claims["iat"]
    assert not {"score", "similarity", "reason", "embedding"} & set(claims)


def test_jose_in_node_verifies_the_result_through_the_live_jwks(
    stack: dict[str, Any], verified: tuple[Login, str]
) -> None:
    """panva's ``jose`` (what a node relying party uses) with createRemoteJWKSet."""
    login, token = verified
    script = REPO / "frontend" / "testing" / "verify-result.mjs"
    api = stack["urls"]["web"]

    def jose(audience: str) -> tuple[int, dict[str, Any]]:
        done = subprocess.run(
            ["node", str(script), api, audience, token], capture_output=True, text=True,
            timeout=60, check=False, cwd=REPO / "frontend",
        )  # fmt: skip
        return done.returncode, json.loads(done.stdout)

    code, claims = jose("demo-bank")
    assert code == 0, claims
    assert (claims["sub"], claims["nonce"]) == (login.subject, login.nonce)
    assert claims["decision"] == "verified"
    code, refused = jose("other-portal")
    assert (code, refused["error"]) == (1, "ERR_JWT_CLAIM_VALIDATION_FAILED")


def test_jwks_keys_are_named_by_their_thumbprint(stack: dict[str, Any]) -> None:
    keys = jwks(stack)["keys"]
    assert len(keys) == 1
    key = keys[0]
    assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("EC", "P-256", "ES256", "sig")
    members = json.dumps({k: key[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"))
    import hashlib

    digest = hashlib.sha256(members.encode()).digest()
    assert key["kid"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert "d" not in key  # never the private half


def test_the_result_is_redeemed_once_and_only_by_its_relying_party(
    stack: dict[str, Any], verified: tuple[Login, str]
) -> None:
    login, _ = verified
    with pytest.raises(ApiError) as twice:
        login.rp.redeem(login.transaction_id)
    assert (twice.value.status, twice.value.code) == (410, "gone")
    with pytest.raises(ApiError) as other:
        relying_party(stack, "other-portal").redeem(login.transaction_id)
    assert (other.value.status, other.value.code) == (404, "not_found")


def test_no_result_before_a_decision_and_nothing_used_up_by_asking(stack: dict[str, Any]) -> None:
    login = start_login(stack, customer(stack))
    with pytest.raises(ApiError) as early:
        login.rp.redeem(login.transaction_id)
    assert (early.value.status, early.value.code) == (409, "pending")
    decision = attempt(stack, login)  # the one verify session was still there
    assert login.result(accept=DECISIONS).decision == decision  # and its result, once


def test_the_hosted_page_reads_its_transaction_with_the_client_token(
    stack: dict[str, Any],
) -> None:
    login = start_login(stack, "demo", locale="hi")
    assert login.started.hosted_url == f"{stack['urls']['web']}/#token={login.token}"
    flow = post(stack, "/v1/flow", {"client_token": login.token})
    assert flow[0] == 200
    assert flow[1] == {
        "transaction_id": login.transaction_id,
        "relying_party": {
            "client_id": "demo-bank", "name": "Demo Bank",
            "alternative_url": stack["urls"]["rp"] + "/other-ways",
        },
        "purpose": "sign_in", "locale": "hi",
        "return_url": stack["relying_parties"]["demo-bank"]["return_url"],
        "state": login.state, "expires_at": login.started.expires_at,
    }  # fmt: skip
    # Once its verify session is open, the link is used up: a second tab gets nothing.
    person(stack).open_session(login.token)
    status, body = post(stack, "/v1/flow", {"client_token": login.token})
    assert (status, body["code"]) == (401, "invalid_client_token")


def test_the_transaction_and_its_redemption_are_audited_without_secrets(
    stack: dict[str, Any], verified: tuple[Login, str]
) -> None:
    login, token = verified
    audit = database(stack)["audit"]
    kinds = {r["kind"] for r in audit.find({"transaction_id": login.transaction_id})}
    assert kinds == {"transaction", "verify", "redeem"}
    audited = repr(list(audit.find({"transaction_id": login.transaction_id})))
    assert token not in audited  # the result lives in the transaction only, until redeemed
    stored = audited + repr(database(stack)["transactions"].find_one({"_id": login.transaction_id}))
    assert login.token not in stored  # only the client token's SHA-256 is kept
    assert stack["relying_parties"]["demo-bank"]["client_secret"] not in stored


# ----------------------------------------------------------------------------- attacks


@pytest.mark.parametrize(
    "change",
    [
        {"audience": "other-portal"},  # presented to another relying party
        {"nonce": "another-login-nonce-0123456789"},  # replayed into another login
        {"subject": "someone-else"},  # presented as another person's login
        {"issuer": "https://impostor.example"},
        {"now": "after expiry"},  # exp + the 60 s leeway
    ],
)
def test_a_result_outside_its_login_is_refused(
    stack: dict[str, Any], verified: tuple[Login, str], change: dict[str, Any]
) -> None:
    login, token = verified
    assert check(stack, token, login).verified  # the untouched token passes
    if change.get("now") == "after expiry":
        expires_at = check(stack, token, login).expires_at
        assert check(stack, token, login, now=expires_at + 59).verified  # the leeway
        change = {"now": expires_at + 60}
    with pytest.raises(IntegrityError):
        check(stack, token, login, **change)


def test_a_result_for_another_audience_is_refused_by_pyjwt_too(
    stack: dict[str, Any], verified: tuple[Login, str]
) -> None:
    _, token = verified
    key = jwt.PyJWKClient(stack["urls"]["web"] + "/.well-known/jwks.json")
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(
            token, key.get_signing_key_from_jwt(token), algorithms=["ES256"],
            audience="other-portal",
        )  # fmt: skip


def test_a_not_verified_result_never_passes_as_success(stack: dict[str, Any]) -> None:
    login = start_login(stack, f"not-enrolled-{time.time_ns()}")  # demo's failures stay at 0
    assert attempt(stack, login, photo=people.group_face(1)) == "not_verified"
    token = login.rp.redeem(login.transaction_id)
    with pytest.raises(ResultRefused):
        check(stack, token, login)
    refused = check(stack, token, login, accept=DECISIONS)  # genuine, and says so
    assert (refused.decision, refused.verified) == ("not_verified", False)


def test_a_tampered_or_re_signed_result_is_refused(
    stack: dict[str, Any], verified: tuple[Login, str]
) -> None:
    login, token = verified
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    for forged_claims in ({**claims, "sub": "mallory"}, {**claims, "decision": "verified"}):
        forged = base64.urlsafe_b64encode(json.dumps(forged_claims).encode()).rstrip(b"=")
        with pytest.raises(IntegrityError):
            check(stack, f"{header}.{forged.decode()}.{signature}", login)
    unsigned = jwt.encode(claims, key=None, algorithm="none", headers={"typ": "x"})  # type: ignore[arg-type]
    with pytest.raises(IntegrityError):
        check(stack, unsigned, login)
    hs256 = jwt.encode(claims, key="x" * 32, algorithm="HS256", headers={"kid": "k"})
    with pytest.raises(IntegrityError):
        check(stack, hs256, login)


def test_sessions_need_a_live_client_token(stack: dict[str, Any]) -> None:
    client = person(stack)
    missing = post(stack, "/session", {**hello(), "purpose": "models"})
    assert (missing[0], missing[1]["code"]) == (400, "bad_request")
    made_up = post(stack, "/session", {**hello(), "client_token": "A" * 43})
    assert (made_up[0], made_up[1]["code"]) == (401, "invalid_client_token")
    login = start_login(stack, "demo")
    client.open_session(login.token)  # the one verify session
    for purpose in ("verify", "models"):
        with pytest.raises(ApiError) as again:
            client.open_session(login.token, purpose=purpose)
        assert (again.value.status, again.value.code) == (401, "invalid_client_token")


def test_an_expired_transaction_opens_nothing_and_redeems_nothing(stack: dict[str, Any]) -> None:
    login = start_login(stack, "demo")
    database(stack)["transactions"].update_one(
        {"_id": login.transaction_id}, {"$set": {"expires_at": int(time.time()) - 1}}
    )
    with pytest.raises(ApiError) as late:
        person(stack).open_session(login.token, purpose="models")
    assert (late.value.status, late.value.code) == (401, "invalid_client_token")
    with pytest.raises(ApiError) as gone:
        login.rp.redeem(login.transaction_id)
    assert (gone.value.status, gone.value.code) == (410, "gone")


def test_model_sessions_per_token_are_bounded_and_never_verify(stack: dict[str, Any]) -> None:
    client = person(stack)
    login = start_login(stack, customer(stack))
    sessions = [client.open_session(login.token, purpose="models") for _ in range(5)]
    with pytest.raises(ApiError) as sixth:
        client.open_session(login.token, purpose="models")
    assert sixth.value.status == 401
    burst = bursts.genuine_burst(people.astronaut(), sessions[0].transcript.challenge, seed=3)
    with pytest.raises(ApiError) as refused:
        client.verify(
            sessions[0], list(burst.frames), list(burst.times_ms),
            transaction_id=login.transaction_id,
        )  # fmt: skip
    assert (refused.value.status, refused.value.code) == (401, "session_invalid")
    assert attempt(stack, login) in DECISIONS  # the token's verify session was still there


def test_consent_naming_another_transaction_is_refused(stack: dict[str, Any]) -> None:
    login, other = start_login(stack, "demo"), start_login(stack, "demo")
    client = person(stack)
    session = client.open_session(login.token)
    burst = bursts.genuine_burst(people.astronaut(), session.transcript.challenge, seed=4)
    with pytest.raises(ApiError) as refused:
        client.verify(
            session, list(burst.frames), list(burst.times_ms),
            transaction_id=other.transaction_id,
        )  # fmt: skip
    assert (refused.value.status, refused.value.code) == (400, "bad_request")
    with pytest.raises(ApiError) as pending:
        login.rp.redeem(login.transaction_id)  # nothing was decided for either
    assert pending.value.code == "pending"


@pytest.mark.parametrize(
    "return_url",
    ["http://127.0.0.1:1/evil", "{rp}/callback/", "{rp}/callback?next=/", "{rp}/CALLBACK",
     "{rp}/callback#x", "http://127.0.0.1:9/return"],
)  # fmt: skip
def test_a_return_url_not_registered_for_this_party_is_refused(
    stack: dict[str, Any], return_url: str
) -> None:
    url = return_url.format(rp=stack["urls"]["rp"])
    with pytest.raises(ApiError) as refused:
        relying_party(stack).start(subject="demo", nonce="n" * 32, return_url=url, state="s")
    assert (refused.value.status, refused.value.code) == (400, "bad_request")


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer x", "Basic !!!", "Basic " + base64.b64encode(b"demo-bank").decode(),
     "Basic " + base64.b64encode(b"demo-bank:wrong").decode(),
     "Basic " + base64.b64encode(b"nobody:x").decode()],
)  # fmt: skip
def test_relying_party_routes_need_its_credentials(
    stack: dict[str, Any], authorization: str | None
) -> None:
    headers = {"Content-Type": "application/json"}
    if authorization:
        headers["Authorization"] = authorization
    body = {"subject": "demo", "nonce": "n" * 32, "state": "s",
            "return_url": stack["relying_parties"]["demo-bank"]["return_url"]}  # fmt: skip
    for method, path, data in (
        ("POST", "/v1/transactions", json.dumps(body).encode()),
        ("GET", "/v1/transactions/AAAAAAAAAAAAAAAAAAAAAA", None),
    ):
        status, answer_headers, answer = http(
            method, stack["urls"]["api"] + path, body=data, headers=headers
        )
        assert (status, error_body(answer)["code"]) == (401, "invalid_client")
        assert answer_headers["www-authenticate"].startswith("Basic ")


def test_login_csrf_an_attackers_own_verified_result_does_not_log_the_victim_in(
    stack: dict[str, Any],
) -> None:
    """The attacker completes a verified transaction of their own and plants its id in the
    victim's callback: the relying party redeems it for the victim's login, whose nonce and
    subject differ, so the result does not verify (the example bank also refuses the foreign
    ``state`` before redeeming: tests/e2e)."""
    attacker = verified_login(stack, customer(stack))  # the attacker's own, enrolled face
    victim = start_login(stack, "victim-user")
    planted = victim.rp.redeem(attacker.transaction_id)  # same RP: redeemable once
    with pytest.raises(IntegrityError) as refused:
        victim.rp.verify(planted, nonce=victim.nonce, subject=victim.subject)
    assert refused.value.reason == "result for another nonce"


# ----------------------------------------------------------------------------- helpers


def hello() -> dict[str, Any]:
    from secureface.sessions.exchange import new_client_hello

    return new_client_hello()[2]


def post(stack: dict[str, Any], path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    status, _, answer = http(
        "POST", stack["urls"]["api"] + path, body=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    return status, json.loads(answer)


# ----------------------------------------------------------------------------- the CLI


def cli(stack: dict[str, Any], *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PYTHONPATH": str(REPO / "layers/secureface"), "PATH": "/usr/bin:/bin",
        **{k: v for k, v in stack["env"].items() if k.startswith("AWS_")},
    }  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "secureface", *args], capture_output=True, text=True, env=env,
        timeout=120, check=False,
    )  # fmt: skip


def test_cli_token_verify_checks_a_result_as_a_relying_party(
    stack: dict[str, Any], verified: tuple[Login, str]
) -> None:
    login, token = verified
    common = ["token", "verify", token, "--issuer", stack["urls"]["web"]]
    common += ["--subject", login.subject]
    ok = cli(stack, *common, "--audience", "demo-bank", f"--nonce={login.nonce}")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["verified"] is True
    wrong = cli(stack, *common, "--audience", "other-portal", f"--nonce={login.nonce}")
    assert wrong.returncode == 2 and "result for another audience" in wrong.stderr


def test_cli_rp_add_registers_a_party_by_the_digest_of_a_fresh_secret(
    stack: dict[str, Any],
) -> None:
    from secureface.transactions.model import token_digest

    added = cli(
        stack, "rp", "add", "--client-id", "cli-portal", "--name", "CLI Portal",
        "--return-url", "https://portal.example/back", "--secret-id", REGISTRY_SECRET,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    printed = json.loads(added.stdout)
    secrets_manager = boto3.client(
        "secretsmanager", endpoint_url=stack["urls"]["aws"], region_name=stack["env"]["AWS_REGION"],
        aws_access_key_id=stack["env"]["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=stack["env"]["AWS_SECRET_ACCESS_KEY"],
    )  # fmt: skip
    stored = json.loads(secrets_manager.get_secret_value(SecretId=REGISTRY_SECRET)["SecretString"])
    entry = next(p for p in stored["relying_parties"] if p["client_id"] == "cli-portal")
    assert entry["secret_sha256"] == token_digest(printed["client_secret"])
    assert printed["client_secret"] not in json.dumps(stored)  # only its digest is kept
    assert {p["client_id"] for p in stored["relying_parties"]} >= {"demo-bank", "other-portal"}
    bad = cli(stack, "rp", "add", "--client-id", "x", "--name", "X", "--return-url", "http://x")
    assert bad.returncode == 2  # the server's own rules: no such client id, no plain http
