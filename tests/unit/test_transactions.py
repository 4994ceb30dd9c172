"""Relying-party transactions: the request's rules, the registry and client authentication, the
result token (and that a standard JWT library agrees with it), and the transaction's life from
start to redemption over the in-memory store. Each test is an attack or a boundary that must
hold; the fixed clock makes every boundary exact."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import logging
import time
from typing import Any
from urllib.parse import quote

import jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from secureface.crypto.ecdsa import spki_der
from secureface.errors import (
    BadRequestError,
    ClientAuthError,
    ClientTokenError,
    ConfigurationError,
    GoneError,
    IntegrityError,
    NotFoundError,
    PendingError,
    ResultRefused,
    StoreUnavailableError,
)
from secureface.rp import RelyingPartyClient
from secureface.transactions.model import (
    CONSENT_NOTICE,
    ID_RE,
    LOCALES,
    MAX_MODEL_SESSIONS,
    PURPOSES,
    RESULT_TTL_S,
    STATUS_CREATED,
    STATUS_DECIDED,
    STATUS_REDEEMED,
    STATUS_STARTED,
    TOKEN_RE,
    TRANSACTION_TTL_S,
    RelyingParty,
    Transaction,
    TransactionRequest,
)
from secureface.transactions.registry import (
    REGISTRY_CACHE_S,
    Registry,
    authenticate,
    new_client_secret,
    parse_registry,
)
from secureface.transactions.result import (
    DECISIONS,
    LEEWAY_S,
    RESULT_TYP,
    Result,
    jwk,
    jwks,
    verify_result,
)
from secureface.transactions.service import (
    CONSENT_SKEW_S,
    TransactionService,
    check_consent,
    claim_for_session,
    record_result_at,
)
from secureface.verify.request import Consent
from tests.fakes import LocalResultSigner, MemoryAudit, MemorySecret, MemoryTransactions

NOW = 1_764_316_800
ISSUER = "https://api.secureface.example"
FRONTEND = "https://face.example"
BANK, BANK_SECRET = "demo-bank", "bank-secret-0123456789abcdefghijklmnopqrstu"
PORTAL, PORTAL_SECRET = "other-portal", "portal-secret-0123456789abcdefghijklmnopq"
CALLBACK = "https://bank.example/callback"
CALLBACK_WITH_QUERY = "https://bank.example/cb?app=web"
PORTAL_RETURN = "https://portal.example/return"
NONCE = "n0nce-0123456789_abcdef~"
SUBJECT = "alice"
TID = "T" * 22
SID = "S" * 22


def digest(secret: str) -> str:
    """A client secret's SHA-256, computed here independently of the package."""
    return hashlib.sha256(secret.encode()).hexdigest()


def party_entry(client_id: str, secret: str, *urls: str, **extra: Any) -> dict[str, Any]:
    return {
        "client_id": client_id, "name": client_id.replace("-", " ").title(),
        "secret_sha256": digest(secret), "return_urls": list(urls), **extra,
    }  # fmt: skip


def registry_document() -> dict[str, Any]:
    return {
        "relying_parties": [
            party_entry(BANK, BANK_SECRET, CALLBACK, CALLBACK_WITH_QUERY,
                        alternative_url="https://bank.example/other-ways"),
            party_entry(PORTAL, PORTAL_SECRET, PORTAL_RETURN),
        ]
    }  # fmt: skip


PARTIES = parse_registry(json.dumps(registry_document()))


def basic(client_id: str, secret: str) -> str:
    """``Authorization: Basic`` as RFC 6749 §2.3.1 asks (both parts form-encoded)."""
    credentials = f"{quote(client_id, safe='')}:{quote(secret, safe='')}"
    return "Basic " + base64.b64encode(credentials.encode()).decode()


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- TransactionRequest.parse -----------------------------------------------------------------


def body(**changes: Any) -> dict[str, Any]:
    """A valid request with ``changes``; a change to ``...`` removes the field."""
    valid = {"subject": SUBJECT, "nonce": NONCE, "return_url": CALLBACK, "state": "st-1"}
    merged = {**valid, **changes}
    return {k: v for k, v in merged.items() if v is not ...}


def parse(changes: dict[str, Any], client_id: str = BANK) -> TransactionRequest:
    return TransactionRequest.parse(body(**changes), PARTIES[client_id])


def test_a_valid_request_parses_with_its_defaults() -> None:
    assert parse({}) == TransactionRequest(SUBJECT, NONCE, CALLBACK, "st-1", "", "sign_in")


@pytest.mark.parametrize(
    "changes",
    [
        {"nonce": "a" * 16},
        {"nonce": "Az09._~-" * 16},
        {"state": "x"},
        {"state": "s" * 256},
        {"subject": "a"},
        {"subject": "A" + "z.9_@-" * 10 + "abc"},
        {"return_url": CALLBACK_WITH_QUERY},
        *({"locale": locale} for locale in ("", *LOCALES)),
        *({"purpose": purpose} for purpose in PURPOSES),
    ],
)
def test_every_value_within_the_rules_is_accepted(changes: dict[str, Any]) -> None:
    request = parse(changes)
    for field, value in changes.items():
        assert getattr(request, field) == value


NOT_STRINGS: list[Any] = [None, 5, 1.5, True, ["x" * 20], {"$ne": None}]


@pytest.mark.parametrize(
    "nonce",
    [..., "", "a" * 15, "a" * 129, "a" * 15 + "/", "a" * 15 + "+", "a" * 15 + "=",
     "a" * 15 + " ", "a" * 15 + "%", "a" * 15 + "é", "a" * 15 + "\x00", "a" * 8 + "\na" * 8,
     *NOT_STRINGS],
)  # fmt: skip
def test_nonces_breaking_the_rule_are_refused(nonce: Any) -> None:
    with pytest.raises(BadRequestError, match="nonce"):
        parse({"nonce": nonce})


@pytest.mark.parametrize(
    "state",
    [..., "", "s" * 257, "a&b", "a b", "a#b", "a?b", "a/b", "<script>", "s\r\nx", "é",
     *NOT_STRINGS],
)  # fmt: skip
def test_states_breaking_the_rule_are_refused(state: Any) -> None:
    with pytest.raises(BadRequestError, match="state"):
        parse({"state": state})


@pytest.mark.parametrize("locale", ["fr", "EN", "en-US", " en", None, 0, ["en"], {"en": 1}])
def test_unknown_locales_are_refused(locale: Any) -> None:
    with pytest.raises(BadRequestError, match="locale"):
        parse({"locale": locale})


@pytest.mark.parametrize("purpose", ["", "login", "SIGN_IN", "models", None, ["sign_in"]])
def test_unknown_purposes_are_refused(purpose: Any) -> None:
    with pytest.raises(BadRequestError, match="purpose"):
        parse({"purpose": purpose})


@pytest.mark.parametrize(
    "subject",
    [..., {"$ne": None}, {"$gt": ""}, {"$regex": ".*"}, ["alice"], 5, None, True, "",
     "a/b", "../x", "x" * 65, "$where", ".alice", "-alice", "_alice", "alice bob", "alice\x00",
     "ålice"],
)  # fmt: skip
def test_subjects_that_are_not_plain_ids_are_refused(subject: Any) -> None:
    with pytest.raises(BadRequestError, match="subject"):
        parse({"subject": subject})


@pytest.mark.parametrize(
    "return_url",
    [
        ...,
        "",
        "https://bank.example/call",  # a prefix
        "https://bank.example/",
        "https://bank.example/callback/evil",  # the registered URL as a prefix
        "https://bank.example:8443/callback",  # another port
        "https://bank.example:443/callback",  # the same port, spelled out: not the same string
        "https://bank.example/callback?next=https://evil.example",  # an extra query
        "https://bank.example/callback?",
        "https://bank.example/cb?app=web&x=1",
        "https://bank.example/cb",
        "https://bank.example/callback/",  # a trailing slash
        "https://bank.example/callback#",  # a fragment
        "https://bank.example/callback#token=x",
        "http://bank.example/callback",  # another scheme
        "HTTPS://bank.example/callback",
        "https://BANK.example/callback",
        "https://bank.example.evil.example/callback",
        "https://evil.example/?https://bank.example/callback",
        "https://bank.example/callback\n",
        " https://bank.example/callback",
        PORTAL_RETURN,  # another relying party's URL
        *NOT_STRINGS,
        [CALLBACK],
    ],
)
def test_return_urls_other_than_exactly_a_registered_one_are_refused(return_url: Any) -> None:
    with pytest.raises(BadRequestError, match="return_url"):
        parse({"return_url": return_url})


def test_a_relying_party_cannot_use_another_partys_return_url() -> None:
    assert parse({"return_url": PORTAL_RETURN}, PORTAL).return_url == PORTAL_RETURN
    with pytest.raises(BadRequestError, match="return_url"):
        parse({"return_url": CALLBACK}, PORTAL)


@pytest.mark.parametrize(
    "changes", [{"nonce": NONCE + "\n"}, {"state": "st-1\n"}, {"subject": "alice\n"}]
)
def test_a_trailing_newline_is_outside_every_charset(changes: dict[str, Any]) -> None:
    """``$`` matches before a final newline: every rule must match the whole value."""
    with pytest.raises(BadRequestError, match=next(iter(changes))):
        parse(changes)


# --- the registry -----------------------------------------------------------------------------


def test_the_registry_parses_into_relying_parties() -> None:
    bank = PARTIES[BANK]
    assert set(PARTIES) == {BANK, PORTAL}
    assert bank == RelyingParty(
        BANK, "Demo Bank", digest(BANK_SECRET), (CALLBACK, CALLBACK_WITH_QUERY),
        "https://bank.example/other-ways",
    )  # fmt: skip
    assert PARTIES[PORTAL].alternative_url == ""


def test_an_upper_case_digest_is_read_as_the_same_digest() -> None:
    entry = party_entry(BANK, BANK_SECRET, CALLBACK)
    entry["secret_sha256"] = entry["secret_sha256"].upper()
    parties = parse_registry(json.dumps({"relying_parties": [entry]}))
    assert authenticate(parties, basic(BANK, BANK_SECRET)).client_id == BANK


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/callback",
        "http://127.0.0.1:8080/callback?x=1",
        "http://localhost:3000/callback",
        "https://bank.example:8443/a/b?c=d",
    ],
)
def test_https_urls_and_plain_http_to_the_local_host_are_registrable(url: str) -> None:
    document = {"relying_parties": [party_entry(BANK, BANK_SECRET, url, alternative_url=url)]}
    assert parse_registry(json.dumps(document))[BANK].return_urls == (url,)


def entry_with(**changes: Any) -> dict[str, Any]:
    """The bank's entry with ``changes``; a change to ``...`` removes the field."""
    entry = {**party_entry(BANK, BANK_SECRET, CALLBACK), **changes}
    return {k: v for k, v in entry.items() if v is not ...}


BAD_ENTRIES: list[dict[str, Any]] = [
    {"client_id": ...},
    {"name": ...},
    {"secret_sha256": ...},
    {"return_urls": ...},
    {"client_id": "Demo-Bank"},
    {"client_id": "d"},
    {"client_id": "-bank"},
    {"client_id": "demo_bank"},
    {"client_id": "demo bank"},
    {"client_id": "demo:bank"},
    {"client_id": "d" * 64},
    {"client_id": ""},
    {"client_id": "demo-bank\n"},
    {"secret_sha256": ""},
    {"secret_sha256": "a" * 63},
    {"secret_sha256": "a" * 65},
    {"secret_sha256": "g" * 64},
    {"secret_sha256": BANK_SECRET},
    {"name": ""},
    {"return_urls": []},
    {"return_urls": "https://bank.example/callback"},
    {"return_urls": None},
]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[]",
        "{}",
        '{"relying_parties": null}',
        '{"relying_parties": 5}',
        '{"relying_parties": "demo-bank"}',
        '{"relying_parties": [5]}',
        '{"relying_parties": [null]}',
        '{"relying_parties": [[]]}',
        *(json.dumps({"relying_parties": [entry_with(**change)]}) for change in BAD_ENTRIES),
    ],
)
def test_malformed_registries_are_refused(text: str) -> None:
    with pytest.raises(ConfigurationError):
        parse_registry(text)


BAD_URLS = [
    "http://bank.example/callback",  # not https
    "http://localhost.evil.example/callback",
    "http://127.0.0.1.nip.io/callback",
    "http://127.0.0.1@evil.example/callback",
    "http://[::2]/callback",
    "ftp://bank.example/callback",
    "javascript:alert(1)",
    "data:text/html,x",
    "//bank.example/callback",
    "/callback",
    "bank.example/callback",
    "https:///callback",
    "https://bank.example/callback#",  # fragments
    "https://bank.example/callback#x",
    "https://bank.example/cb?next=#x",
]


@pytest.mark.parametrize(
    "field,value",
    [
        *(("return_urls", [CALLBACK, url]) for url in [*BAD_URLS, ""]),
        *(("alternative_url", url) for url in BAD_URLS),  # "" there means none
    ],
)
def test_urls_that_are_not_https_or_carry_a_fragment_are_refused(field: str, value: Any) -> None:
    document = {"relying_parties": [entry_with(**{field: value})]}
    with pytest.raises(ConfigurationError):
        parse_registry(json.dumps(document))


def test_a_client_id_registered_twice_is_refused() -> None:
    document = registry_document()
    document["relying_parties"].append(party_entry(BANK, "another-secret", "https://x.example/"))
    with pytest.raises(ConfigurationError):
        parse_registry(json.dumps(document))


@pytest.mark.parametrize("change", [{"name": None}, {"name": 5}, {"return_urls": {CALLBACK: 1}}])
def test_registry_values_of_the_wrong_type_are_refused_not_coerced(
    change: dict[str, Any],
) -> None:
    with pytest.raises(ConfigurationError):
        parse_registry(json.dumps({"relying_parties": [entry_with(**change)]}))


def test_a_new_client_secret_is_random_and_its_digest_is_what_authenticates() -> None:
    secret, stored = new_client_secret()
    assert stored == digest(secret) and len(secret) >= 43 and secret != new_client_secret()[0]
    parties = parse_registry(json.dumps({"relying_parties": [party_entry(BANK, secret, CALLBACK)]}))
    assert authenticate(parties, basic(BANK, secret)).client_id == BANK


# --- client authentication (client_secret_basic) ----------------------------------------------


def test_the_right_secret_authenticates_its_own_client() -> None:
    assert authenticate(PARTIES, basic(BANK, BANK_SECRET)) == PARTIES[BANK]
    assert authenticate(PARTIES, basic(PORTAL, PORTAL_SECRET)) == PARTIES[PORTAL]


@pytest.mark.parametrize("scheme", ["Basic", "basic", "BASIC"])
def test_the_scheme_is_case_insensitive(scheme: str) -> None:
    header = basic(BANK, BANK_SECRET).replace("Basic", scheme, 1)
    assert authenticate(PARTIES, header).client_id == BANK


def raw_basic(credentials: str) -> str:
    return "Basic " + base64.b64encode(credentials.encode()).decode()


REFUSED_HEADERS = [
    basic(BANK, BANK_SECRET + "x"),  # wrong secret
    basic(BANK, BANK_SECRET[:-1]),
    basic(BANK, BANK_SECRET.upper()),
    basic(BANK, ""),
    basic(BANK, digest(BANK_SECRET)),  # the stored digest is not the secret
    basic(BANK, PORTAL_SECRET),  # another party's secret
    basic(PORTAL, BANK_SECRET),
    basic("unknown-bank", BANK_SECRET),  # unknown client
    basic("", ""),
    basic("Demo-Bank", BANK_SECRET),
    "",  # missing
    "Basic",
    "Basic ",
    "Basic !!!!",  # garbage
    "Basic " + base64.b64encode(f"{BANK}:{BANK_SECRET}".encode()).decode().rstrip("="),
    "Basic " + base64.urlsafe_b64encode(b"\xfb\xff:\xfe").decode(),
    "Basic " + base64.b64encode(b"\xff\xfe:\xfd").decode(),  # not UTF-8
    raw_basic(BANK + BANK_SECRET),  # no colon
    raw_basic(BANK),
    "Bearer " + base64.b64encode(f"{BANK}:{BANK_SECRET}".encode()).decode(),  # not Basic
    "Digest " + base64.b64encode(f"{BANK}:{BANK_SECRET}".encode()).decode(),
    "Basic" + base64.b64encode(f"{BANK}:{BANK_SECRET}".encode()).decode(),
    base64.b64encode(f"{BANK}:{BANK_SECRET}".encode()).decode(),
    f"Basic {BANK}:{BANK_SECRET}",  # not encoded at all
]


@pytest.mark.parametrize("authorization", REFUSED_HEADERS)
def test_every_failed_authentication_is_the_same_client_auth_error(authorization: str) -> None:
    with pytest.raises(ClientAuthError) as caught:
        authenticate(PARTIES, authorization)
    assert caught.value.to_body() == {
        "statusCode": 401, "code": "invalid_client", "message": ClientAuthError.public_message,
    }  # fmt: skip


@pytest.mark.parametrize(
    "authorization",
    [raw_basic(f"{BANK}:é"), raw_basic(f"{BANK}:%C3%A9"), raw_basic(f"{BANK}:%ff"),
     raw_basic("unknown-bank:é")],
)  # fmt: skip
def test_a_non_ascii_secret_is_a_client_auth_error(authorization: str) -> None:
    with pytest.raises(ClientAuthError):
        authenticate(PARTIES, authorization)


SPECIAL_SECRET = "s3:cr%t/&=+ x?#"  # characters the form encoding changes (ASCII)


def test_percent_encoded_client_ids_and_secrets_are_decoded() -> None:
    """RFC 6749 §2.3.1: id and secret are form-encoded before they are joined by the colon."""
    parties = parse_registry(
        json.dumps({"relying_parties": [party_entry(BANK, SPECIAL_SECRET, CALLBACK)]})
    )
    assert basic(BANK, SPECIAL_SECRET) == raw_basic(f"{BANK}:s3%3Acr%25t%2F%26%3D%2B%20x%3F%23")
    assert authenticate(parties, basic(BANK, SPECIAL_SECRET)).client_id == BANK
    encoded_id = "".join(f"%{ord(c):02X}" for c in BANK)
    assert authenticate(parties, raw_basic(f"{encoded_id}:{quote(SPECIAL_SECRET, safe='')}"))
    for wrong in (raw_basic(f"{BANK}:{quote(quote(SPECIAL_SECRET, safe=''), safe='')}"),
                  raw_basic(f"{BANK}:s3%3Acr%25t%2F%26%3D%2B%20y%3F%23")):  # fmt: skip
        with pytest.raises(ClientAuthError):
            authenticate(parties, wrong)


def test_the_packages_relying_party_client_sends_credentials_the_server_accepts() -> None:
    parties = parse_registry(
        json.dumps({"relying_parties": [party_entry(BANK, SPECIAL_SECRET, CALLBACK)]})
    )
    client = RelyingPartyClient("https://api.secureface.example", BANK, SPECIAL_SECRET)
    assert authenticate(parties, client._authorization).client_id == BANK


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_the_registry_is_cached_for_its_period_then_read_again() -> None:
    secret, clock = MemorySecret(registry_document()), Clock()
    registry = Registry(secret, clock)
    assert registry.authenticate(basic(BANK, BANK_SECRET)).client_id == BANK
    assert secret.reads == 1
    # the bank rotates its secret and the portal leaves
    rotated, _ = new_client_secret()
    secret.document = {"relying_parties": [party_entry(BANK, rotated, CALLBACK)]}
    clock.now += REGISTRY_CACHE_S - 1
    assert registry.authenticate(basic(BANK, BANK_SECRET)).client_id == BANK
    assert registry.get(PORTAL) is not None and secret.reads == 1
    clock.now += 1
    with pytest.raises(ClientAuthError):
        registry.authenticate(basic(BANK, BANK_SECRET))
    assert registry.authenticate(basic(BANK, rotated)).client_id == BANK
    assert registry.get(PORTAL) is None and secret.reads == 2


def test_a_registry_that_fails_to_load_is_tried_again_on_the_next_call() -> None:
    secret, clock = MemorySecret({"relying_parties": "broken"}), Clock()
    registry = Registry(secret, clock)
    with pytest.raises(ConfigurationError):
        registry.parties()
    secret.document = registry_document()
    assert registry.get(BANK) == PARTIES[BANK] and secret.reads == 2


# --- result tokens ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def signer() -> LocalResultSigner:
    return LocalResultSigner()


def result_at(now: int = NOW, **changes: Any) -> Result:
    result = Result(
        issuer=ISSUER, subject=SUBJECT, audience=BANK, nonce=NONCE, transaction_id=TID,
        issued_at=now, expires_at=now + RESULT_TTL_S, decision="verified", assurance="light",
    )  # fmt: skip
    return dataclasses.replace(result, **changes)


def check(token: str, signer: LocalResultSigner, now: int = NOW + 5, **expected: Any) -> Result:
    """verify_result as the bank checks its login's result."""
    args: dict[str, Any] = {
        "keys": signer.jwks(), "issuer": ISSUER, "audience": BANK, "nonce": NONCE,
        "subject": SUBJECT, "now": now, **expected,
    }  # fmt: skip
    return verify_result(token, **args)


def parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    header, payload, _ = token.split(".")
    return json.loads(unb64(header)), json.loads(unb64(payload))


def es256(header: dict[str, Any], claims: dict[str, Any], key: ec.EllipticCurvePrivateKey) -> str:
    """A compact JWS with exactly ``header`` (whatever its ``alg`` says), signed ES256 by
    ``key``: built here, not by the package."""
    protected = b64(json.dumps(header).encode())
    payload = b64(json.dumps(claims).encode())
    r, s = decode_dss_signature(
        key.sign(f"{protected}.{payload}".encode(), ec.ECDSA(hashes.SHA256()))
    )
    return f"{protected}.{payload}.{b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def thumbprint(x: str, y: str) -> str:
    """RFC 7638 §3: SHA-256 of the required members, sorted, without whitespace."""
    members = {"kty": "EC", "crv": "P-256", "x": x, "y": y}
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":"))
    assert canonical == f'{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}'
    return b64(hashlib.sha256(canonical.encode()).digest())


def test_a_signed_result_verifies_and_round_trips(signer: LocalResultSigner) -> None:
    token = signer.sign(result_at())
    assert check(token, signer) == result_at()
    header, claims = parts(token)
    assert header == {"alg": "ES256", "typ": RESULT_TYP, "kid": signer.jwks()["keys"][0]["kid"]}
    assert claims == {
        "iss": ISSUER, "sub": SUBJECT, "aud": BANK, "nonce": NONCE, "jti": TID, "iat": NOW,
        "exp": NOW + RESULT_TTL_S, "auth_time": NOW, "amr": ["face"], "decision": "verified",
        "assurance": "light", "hint": "",
    }  # fmt: skip


def test_the_kid_is_the_rfc7638_thumbprint_of_the_signing_key(signer: LocalResultSigner) -> None:
    numbers = signer.key.public_key().public_numbers()
    x, y = b64(numbers.x.to_bytes(32, "big")), b64(numbers.y.to_bytes(32, "big"))
    (entry,) = signer.jwks()["keys"]
    assert entry == {
        "kty": "EC", "crv": "P-256", "x": x, "y": y, "kid": thumbprint(x, y), "use": "sig",
        "alg": "ES256",
    }  # fmt: skip
    assert parts(signer.sign(result_at()))[0]["kid"] == thumbprint(x, y)


def test_the_jwk_of_a_known_key_matches_its_published_coordinates() -> None:
    """RFC 7517 Appendix A.1's P-256 key: our JWK reproduces its x and y exactly, and its kid
    is the thumbprint of those (RFC 7638 §3.1's own vector is an RSA key)."""
    x, y = (
        "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4",
        "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM",
    )
    numbers = ec.EllipticCurvePublicNumbers(
        int.from_bytes(unb64(x), "big"),
        int.from_bytes(unb64(y), "big"),
        ec.SECP256R1(),
    )
    key = jwk(spki_der(numbers.public_key()))
    assert (key["x"], key["y"], key["kid"]) == (x, y, thumbprint(x, y))


def test_the_jwks_publishes_the_signing_key_first_then_previous_keys() -> None:
    current, previous = LocalResultSigner(), LocalResultSigner()
    document = jwks([current.local.public_key_der(), previous.local.public_key_der()])
    assert [k["kid"] for k in document["keys"]] == [
        current.jwks()["keys"][0]["kid"], previous.jwks()["keys"][0]["kid"],
    ]  # fmt: skip
    old_token = previous.sign(result_at())
    assert verify_result(
        old_token, keys=document, issuer=ISSUER, audience=BANK, nonce=NONCE, subject=SUBJECT,
        now=NOW,
    ) == result_at()  # fmt: skip


@pytest.mark.parametrize(
    "expected",
    [
        {"audience": PORTAL},
        {"audience": ""},
        {"nonce": NONCE + "x"},
        {"nonce": ""},
        {"subject": "mallory"},
        {"subject": "Alice"},
        {"issuer": "https://evil.example"},
        {"issuer": ISSUER + "/"},
    ],
)
def test_a_result_for_another_audience_nonce_subject_or_issuer_is_refused(
    signer: LocalResultSigner, expected: dict[str, Any]
) -> None:
    with pytest.raises(IntegrityError):
        check(signer.sign(result_at()), signer, **expected)


def test_expiry_and_issue_time_allow_the_leeway_and_no_more(signer: LocalResultSigner) -> None:
    token = signer.sign(result_at())
    assert check(token, signer, now=NOW + RESULT_TTL_S + LEEWAY_S - 1)
    with pytest.raises(IntegrityError):
        check(token, signer, now=NOW + RESULT_TTL_S + LEEWAY_S)
    with pytest.raises(IntegrityError):
        check(token, signer, now=NOW + 10 * RESULT_TTL_S)
    assert check(token, signer, now=NOW - LEEWAY_S)
    with pytest.raises(IntegrityError):
        check(token, signer, now=NOW - LEEWAY_S - 1)  # issued in the future
    future = signer.sign(result_at(NOW + 3600))
    with pytest.raises(IntegrityError):
        check(future, signer, now=NOW)


def genuine(signer: LocalResultSigner) -> tuple[dict[str, Any], dict[str, Any]]:
    return parts(signer.sign(result_at()))


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "", None, "ES384", "ES512", "RS256"])
def test_a_header_naming_another_alg_is_refused_even_with_a_valid_signature(
    signer: LocalResultSigner, alg: Any
) -> None:
    header, claims = genuine(signer)
    with pytest.raises(IntegrityError):
        check(es256({**header, "alg": alg}, claims, signer.key), signer)


def test_an_unsigned_alg_none_token_is_refused(signer: LocalResultSigner) -> None:
    header, claims = genuine(signer)
    for signature in ("", "AA"):
        token = ".".join(
            [b64(json.dumps({**header, "alg": "none"}).encode()),
             b64(json.dumps(claims).encode()), signature]
        )  # fmt: skip
        with pytest.raises(IntegrityError):
            check(token, signer)


def test_an_hs256_token_keyed_with_the_public_key_is_refused(signer: LocalResultSigner) -> None:
    """The classic confusion: HMAC with the published key as the secret."""
    header, claims = genuine(signer)
    public = signer.key.public_key()
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for secret in (json.dumps(signer.jwks()["keys"][0]).encode(), pem, spki_der(public)):
        protected = b64(json.dumps({**header, "alg": "HS256"}).encode())
        payload = b64(json.dumps(claims).encode())
        mac = hmac.new(secret, f"{protected}.{payload}".encode(), hashlib.sha256).digest()
        with pytest.raises(IntegrityError):
            check(f"{protected}.{payload}.{b64(mac)}", signer)


@pytest.mark.parametrize(
    "typ", [..., "JWT", "jwt", "secureface-delegation+jwt", "secureface-result+JWT", "", None]
)
def test_a_result_of_another_type_is_refused(signer: LocalResultSigner, typ: Any) -> None:
    header, claims = genuine(signer)
    changed = {k: v for k, v in {**header, "typ": typ}.items() if v is not ...}
    with pytest.raises(IntegrityError):
        check(es256(changed, claims, signer.key), signer)


@pytest.mark.parametrize("kid", [..., "", None, 5, "unknown-kid", ["x"]])
def test_a_result_whose_kid_is_not_in_the_jwks_is_refused(
    signer: LocalResultSigner, kid: Any
) -> None:
    header, claims = genuine(signer)
    changed = {k: v for k, v in {**header, "kid": kid}.items() if v is not ...}
    with pytest.raises(IntegrityError):
        check(es256(changed, claims, signer.key), signer)


def test_a_result_signed_by_another_key_under_the_published_kid_is_refused(
    signer: LocalResultSigner,
) -> None:
    header, claims = genuine(signer)
    assert check(es256(header, claims, signer.key), signer)  # the forger's method works...
    with pytest.raises(IntegrityError):
        check(es256(header, claims, LocalResultSigner().key), signer)  # ...without the key


def test_a_token_with_a_flipped_byte_is_refused(signer: LocalResultSigner) -> None:
    token = signer.sign(result_at(decision="not_verified"))
    protected, payload, signature = token.split(".")
    raw = bytearray(unb64(payload))
    for i in (0, len(raw) // 2, len(raw) - 1):
        flipped = bytearray(raw)
        flipped[i] ^= 0x01
        with pytest.raises(IntegrityError):
            check(f"{protected}.{b64(bytes(flipped))}.{signature}", signer, accept=DECISIONS)
    forged = b64(json.dumps({**parts(token)[1], "decision": "verified"}).encode())
    with pytest.raises(IntegrityError):
        check(f"{protected}.{forged}.{signature}", signer)
    sig = bytearray(unb64(signature))
    sig[-1] ^= 0x80
    with pytest.raises(IntegrityError):
        check(f"{protected}.{payload}.{b64(bytes(sig))}", signer, accept=DECISIONS)


@pytest.mark.parametrize(
    "token",
    ["", "a.b", "a.b.c.d", "...", "x" * 100, None, 5, "e30.e30.", "e30.e30.AA", "!.!.!"],
)
def test_malformed_tokens_are_refused(signer: LocalResultSigner, token: Any) -> None:
    with pytest.raises(IntegrityError):
        check(token, signer)


@pytest.mark.parametrize("decision", ["not_verified", "locked"])
def test_a_genuine_refusal_never_passes_as_success(
    signer: LocalResultSigner, decision: str
) -> None:
    token = signer.sign(result_at(decision=decision, hint="too_dark"))
    with pytest.raises(ResultRefused) as caught:
        check(token, signer)
    assert caught.value.code == "not_verified"
    result = check(token, signer, accept=DECISIONS)
    assert (result.decision, result.hint, result.verified) == (decision, "too_dark", False)


@pytest.mark.parametrize(
    "change",
    [
        {"amr": ["pwd"]},
        {"amr": []},
        {"amr": "face"},
        {"amr": None},
        {"amr": ...},
        {"decision": "maybe"},
        {"decision": "VERIFIED"},
        {"decision": ...},
        {"aud": [BANK]},
        {"iat": str(NOW)},
        {"exp": float(NOW + RESULT_TTL_S)},
        {"exp": True},
        {"exp": ...},
        {"sub": None},
        {"nonce": ...},
        {"jti": 5},
    ],
)
def test_a_genuinely_signed_result_with_malformed_claims_is_refused(
    signer: LocalResultSigner, change: dict[str, Any]
) -> None:
    header, claims = genuine(signer)
    changed = {k: v for k, v in {**claims, **change}.items() if v is not ...}
    with pytest.raises(IntegrityError):
        check(es256(header, changed, signer.key), signer, accept=(*DECISIONS, "maybe", "VERIFIED"))


# The same tokens through PyJWT: proof that the format is standard, not ours alone.


def test_pyjwt_verifies_our_result_with_the_published_jwk(signer: LocalResultSigner) -> None:
    now = int(time.time())
    token = signer.sign(result_at(now))
    keys = signer.jwks()
    claims = jwt.decode(
        token, key=jwt.PyJWK(keys["keys"][0]), algorithms=["ES256"], audience=BANK,
        issuer=ISSUER, options={"require": ["iss", "sub", "aud", "exp", "iat", "jti"]},
    )  # fmt: skip
    assert claims == result_at(now).claims()
    header = jwt.get_unverified_header(token)
    assert header["typ"] == RESULT_TYP
    assert jwt.PyJWKSet.from_dict(keys)[header["kid"]].key_id == header["kid"]
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(token, key=jwt.PyJWK(keys["keys"][0]), algorithms=["ES256"], audience=PORTAL)
    with pytest.raises(jwt.InvalidIssuerError):
        jwt.decode(
            token, key=jwt.PyJWK(keys["keys"][0]), algorithms=["ES256"], audience=BANK,
            issuer="https://evil.example",
        )  # fmt: skip
    with pytest.raises(jwt.InvalidSignatureError):
        other = LocalResultSigner().jwks()["keys"][0]
        jwt.decode(token, key=jwt.PyJWK(other), algorithms=["ES256"], audience=BANK)


def test_a_result_pyjwt_signs_verifies_with_verify_result(signer: LocalResultSigner) -> None:
    kid = signer.jwks()["keys"][0]["kid"]
    claims = result_at().claims()
    token = jwt.encode(
        claims, signer.key, algorithm="ES256", headers={"typ": RESULT_TYP, "kid": kid}
    )
    assert check(token, signer) == result_at()
    untyped = jwt.encode(claims, signer.key, algorithm="ES256", headers={"kid": kid})
    with pytest.raises(IntegrityError):
        check(untyped, signer)  # PyJWT's default typ "JWT" is not a result


# --- the transaction service ------------------------------------------------------------------


class Service:
    """A TransactionService over the in-memory store and a registry over a document."""

    def __init__(self) -> None:
        self.store, self.audit = MemoryTransactions(), MemoryAudit()
        self.secret, self.clock = MemorySecret(registry_document()), Clock()
        self.service = TransactionService(
            store=self.store, registry=Registry(self.secret, self.clock), audit=self.audit,
            frontend_url=FRONTEND,
        )  # fmt: skip
        self.signer = LocalResultSigner()

    def start(self, client_id: str = BANK, now: int = NOW, **changes: Any) -> dict[str, Any]:
        secret, url = (
            (BANK_SECRET, CALLBACK) if client_id == BANK else (PORTAL_SECRET, PORTAL_RETURN)
        )
        return self.service.start_at(
            basic(client_id, secret), body(return_url=url, **changes), now=now
        )

    def decide(
        self, started: dict[str, Any], *, decision: str = "verified", now: int = NOW + 30
    ) -> str:
        """Open the verify session and record a decision, as POST /session and /verify do;
        returns the session id."""
        claimed, purpose = claim_for_session(
            self.store, {"client_token": started["client_token"]}, SID, now=now - 20
        )
        assert purpose == "verify" and claimed.status == STATUS_STARTED
        record_result_at(
            self.store, self.signer, ISSUER, claimed, SID, decision=decision,
            assurance="light", hint="", now=now,
        )  # fmt: skip
        return SID

    def redeem(self, transaction_id: str, client_id: str = BANK, now: int = NOW + 40) -> Any:
        secret = BANK_SECRET if client_id == BANK else PORTAL_SECRET
        return self.service.redeem_at(basic(client_id, secret), transaction_id, now=now)


@pytest.fixture
def svc() -> Service:
    return Service()


def test_start_answers_an_id_a_token_and_the_hosted_url(svc: Service) -> None:
    started = svc.start()
    assert set(started) == {"transaction_id", "client_token", "hosted_url", "expires_at"}
    assert ID_RE.match(started["transaction_id"]) and len(started["transaction_id"]) == 22
    assert TOKEN_RE.match(started["client_token"]) and len(started["client_token"]) == 43
    assert started["hosted_url"] == f"{FRONTEND}/#token={started['client_token']}"
    assert started["expires_at"] == NOW + TRANSACTION_TTL_S
    other = svc.start()
    assert other["transaction_id"] != started["transaction_id"]
    assert other["client_token"] != started["client_token"]


def test_only_the_tokens_digest_is_stored_and_the_token_is_never_audited_or_logged(
    svc: Service, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        started = svc.start(locale="hi", purpose="step_up")
    token = started["client_token"]
    stored = svc.store.records[started["transaction_id"]]
    assert stored == Transaction(
        transaction_id=started["transaction_id"], client_id=BANK,
        token_sha256=hashlib.sha256(token.encode()).hexdigest(),
        request=TransactionRequest(SUBJECT, NONCE, CALLBACK, "st-1", "hi", "step_up"),
        created_at=NOW, expires_at=NOW + TRANSACTION_TTL_S, status=STATUS_CREATED,
    )  # fmt: skip
    assert token not in repr(stored)
    assert svc.audit.entries == [
        {"kind": "transaction", "transaction_id": started["transaction_id"], "client_id": BANK,
         "subject_id": SUBJECT, "purpose": "step_up", "locale": "hi", "at": NOW},
    ]  # fmt: skip
    logged = [(r.getMessage(), r.__dict__) for r in caplog.records]
    assert logged and token not in repr(logged)


@pytest.mark.parametrize(
    "authorization", [REFUSED_HEADERS[0], REFUSED_HEADERS[5], REFUSED_HEADERS[10]]
)
def test_start_without_valid_credentials_stores_nothing(svc: Service, authorization: str) -> None:
    with pytest.raises(ClientAuthError):
        svc.service.start_at(authorization, body(), now=NOW)
    assert not svc.store.records and not svc.audit.entries


def test_start_with_another_partys_return_url_stores_nothing(svc: Service) -> None:
    with pytest.raises(BadRequestError, match="return_url"):
        svc.service.start_at(basic(BANK, BANK_SECRET), body(return_url=PORTAL_RETURN), now=NOW)
    assert not svc.store.records and not svc.audit.entries


def test_describe_shows_the_hosted_page_what_it_needs_without_using_the_token(
    svc: Service,
) -> None:
    started = svc.start(locale="en", purpose="recovery")
    described = svc.service.describe_at({"client_token": started["client_token"]}, now=NOW + 1)
    assert described == {
        "transaction_id": started["transaction_id"],
        "relying_party": {"client_id": BANK, "name": "Demo Bank",
                          "alternative_url": "https://bank.example/other-ways"},
        "purpose": "recovery", "locale": "en", "return_url": CALLBACK, "state": "st-1",
        "expires_at": NOW + TRANSACTION_TTL_S,
    }  # fmt: skip
    assert svc.service.describe_at({"client_token": started["client_token"]}, now=NOW + 2)
    claim_for_session(svc.store, {"client_token": started["client_token"]}, SID, now=NOW + 3)
    with pytest.raises(ClientTokenError):
        svc.service.describe_at({"client_token": started["client_token"]}, now=NOW + 4)


def test_describe_refuses_expired_unknown_and_malformed_tokens(svc: Service) -> None:
    token = svc.start()["client_token"]
    assert svc.service.describe_at({"client_token": token}, now=NOW + TRANSACTION_TTL_S - 1)
    with pytest.raises(ClientTokenError):
        svc.service.describe_at({"client_token": token}, now=NOW + TRANSACTION_TTL_S)
    with pytest.raises(ClientTokenError):
        svc.service.describe_at({"client_token": "A" * 43}, now=NOW)
    for malformed in ({}, {"client_token": token[:-1]}, {"client_token": None}):
        with pytest.raises(BadRequestError):
            svc.service.describe_at(malformed, now=NOW)


def test_describe_refuses_a_token_of_a_party_no_longer_registered(svc: Service) -> None:
    token = svc.start(PORTAL)["client_token"]
    svc.secret.document = {"relying_parties": [party_entry(BANK, BANK_SECRET, CALLBACK)]}
    svc.clock.now += REGISTRY_CACHE_S
    with pytest.raises(ClientTokenError):
        svc.service.describe_at({"client_token": token}, now=NOW + 1)


def claim(svc: Service, token: str, purpose: Any = ..., now: int = NOW + 1, sid: str = SID) -> Any:
    request: dict[str, Any] = {"client_token": token}
    if purpose is not ...:
        request["purpose"] = purpose
    return claim_for_session(svc.store, request, sid, now=now)


def test_a_token_opens_a_bounded_number_of_model_sessions(svc: Service) -> None:
    started = svc.start()
    for _ in range(MAX_MODEL_SESSIONS):
        transaction, purpose = claim(svc, started["client_token"], "models")
        assert (transaction.transaction_id, purpose) == (started["transaction_id"], "models")
        assert transaction.status == STATUS_CREATED
    with pytest.raises(ClientTokenError):
        claim(svc, started["client_token"], "models")
    # the person can still make the one attempt
    transaction, purpose = claim(svc, started["client_token"], "verify")
    assert (transaction.status, transaction.session_id, purpose) == (STATUS_STARTED, SID, "verify")


def test_the_verify_claim_is_single_use_and_ends_model_sessions_too(svc: Service) -> None:
    token = svc.start()["client_token"]
    transaction, purpose = claim(svc, token)  # verify is the default
    assert (purpose, transaction.status, transaction.session_id) == ("verify", STATUS_STARTED, SID)
    for again in ("verify", "models", ...):
        with pytest.raises(ClientTokenError):
            claim(svc, token, again, sid="X" * 22)
    assert svc.store.records[transaction.transaction_id].session_id == SID


@pytest.mark.parametrize("purpose", ["verify", "models"])
def test_an_expired_token_opens_nothing(svc: Service, purpose: str) -> None:
    token = svc.start()["client_token"]
    with pytest.raises(ClientTokenError):
        claim(svc, token, purpose, now=NOW + TRANSACTION_TTL_S)
    assert claim(svc, token, purpose, now=NOW + TRANSACTION_TTL_S - 1)


def test_a_token_of_no_transaction_opens_nothing(svc: Service) -> None:
    svc.start()
    for purpose in ("verify", "models"):
        with pytest.raises(ClientTokenError):
            claim(svc, b64(b"\x00" * 32), purpose)


@pytest.mark.parametrize(
    "request_body",
    [
        {},
        {"client_token": None},
        {"client_token": 5},
        {"client_token": ""},
        {"client_token": "A" * 42},
        {"client_token": "A" * 44},
        {"client_token": "A" * 42 + "="},
        {"client_token": "A" * 42 + "+"},
        {"client_token": "A" * 42 + "/"},
        {"client_token": "A" * 43 + "\n"},
        {"client_token": ["A" * 43]},
        {"client_token": {"$ne": None}},
    ],
)
def test_a_missing_or_malformed_token_is_a_bad_request(
    svc: Service, request_body: dict[str, Any]
) -> None:
    svc.start()
    with pytest.raises(BadRequestError):
        claim_for_session(svc.store, request_body, SID, now=NOW + 1)


@pytest.mark.parametrize("purpose", ["", "admin", "VERIFY", None, ["verify"], {"$ne": "x"}])
def test_an_unknown_purpose_is_a_bad_request_and_uses_nothing_up(
    svc: Service, purpose: Any
) -> None:
    token = svc.start()["client_token"]
    with pytest.raises(BadRequestError, match="purpose"):
        claim(svc, token, purpose)
    assert claim(svc, token, "verify")[0].status == STATUS_STARTED


def test_redeem_answers_pending_until_a_decision_without_using_anything_up(svc: Service) -> None:
    started = svc.start()
    with pytest.raises(PendingError) as caught:
        svc.redeem(started["transaction_id"], now=NOW + 1)
    assert caught.value.http_status == 409
    svc.decide(started)
    redeemed = svc.redeem(started["transaction_id"])
    assert redeemed == {
        "transaction_id": started["transaction_id"], "status": "completed",
        "result": svc.store.records[started["transaction_id"]].result,
    }  # fmt: skip


def test_redeem_answers_pending_while_started(svc: Service) -> None:
    started = svc.start()
    claim(svc, started["client_token"])
    with pytest.raises(PendingError):
        svc.redeem(started["transaction_id"], now=NOW + 10)
    assert svc.store.records[started["transaction_id"]].status == STATUS_STARTED


def test_a_result_is_redeemed_once_by_its_party_and_verifies(svc: Service) -> None:
    started = svc.start()
    svc.decide(started, decision="not_verified", now=NOW + 30)
    redeemed = svc.redeem(started["transaction_id"], now=NOW + 40)
    result = verify_result(
        redeemed["result"], keys=svc.signer.jwks(), issuer=ISSUER, audience=BANK, nonce=NONCE,
        subject=SUBJECT, now=NOW + 40, accept=DECISIONS,
    )  # fmt: skip
    assert result == result_at(
        NOW + 30, transaction_id=started["transaction_id"], decision="not_verified"
    )
    assert svc.store.records[started["transaction_id"]].status == STATUS_REDEEMED
    with pytest.raises(GoneError) as caught:
        svc.redeem(started["transaction_id"], now=NOW + 41)
    assert caught.value.http_status == 410
    assert [e["kind"] for e in svc.audit.entries] == ["transaction", "redeem"]
    assert redeemed["result"] not in repr(svc.audit.entries)


def test_another_party_cannot_redeem_or_use_up_a_result(svc: Service) -> None:
    started = svc.start()
    with pytest.raises(NotFoundError):  # not even "pending": it is not theirs to know about
        svc.redeem(started["transaction_id"], PORTAL, now=NOW + 1)
    svc.decide(started)
    with pytest.raises(NotFoundError) as caught:
        svc.redeem(started["transaction_id"], PORTAL)
    assert caught.value.http_status == 404
    assert svc.redeem(started["transaction_id"])["status"] == "completed"
    with pytest.raises(NotFoundError):  # not "gone" either
        svc.redeem(started["transaction_id"], PORTAL)


@pytest.mark.parametrize(
    "transaction_id", ["U" * 22, "", "../x", "T" * 21, "T" * 23, "T" * 21 + "="]
)
def test_an_unknown_transaction_is_not_found(svc: Service, transaction_id: str) -> None:
    svc.decide(svc.start())
    with pytest.raises(NotFoundError):
        svc.redeem(transaction_id)


def test_a_result_not_redeemed_in_time_is_gone(svc: Service) -> None:
    started = svc.start()
    svc.decide(started, now=NOW + 30)
    redeem_by = svc.store.records[started["transaction_id"]].redeem_by
    assert redeem_by == NOW + 30 + RESULT_TTL_S
    with pytest.raises(GoneError):
        svc.redeem(started["transaction_id"], now=redeem_by)
    assert svc.store.records[started["transaction_id"]].status == STATUS_DECIDED
    assert svc.redeem(started["transaction_id"], now=redeem_by - 1)


def test_a_transaction_that_expired_undecided_is_gone(svc: Service) -> None:
    started = svc.start()
    with pytest.raises(GoneError):
        svc.redeem(started["transaction_id"], now=NOW + TRANSACTION_TTL_S)


def test_a_session_opened_just_before_expiry_is_pending_never_gone_then_redeemed(
    svc: Service,
) -> None:
    """A 410 is final to a relying party: it must not come before a 200 for the same id."""
    started = svc.start()
    expiry = NOW + TRANSACTION_TTL_S
    claim_for_session(svc.store, {"client_token": started["client_token"]}, SID, now=expiry - 1)
    with pytest.raises(PendingError):
        svc.redeem(started["transaction_id"], now=expiry + 30)  # still deciding
    transaction = svc.store.get(started["transaction_id"])
    assert transaction is not None
    record_result_at(
        svc.store, svc.signer, ISSUER, transaction, SID, decision="verified",
        assurance="light", hint="", now=expiry + 40,
    )  # fmt: skip
    assert svc.redeem(started["transaction_id"], now=expiry + 45)["status"] == "completed"


def test_redeem_needs_valid_credentials_and_uses_nothing_up(svc: Service) -> None:
    started = svc.start()
    svc.decide(started)
    with pytest.raises(ClientAuthError):
        svc.service.redeem_at(basic(BANK, PORTAL_SECRET), started["transaction_id"], now=NOW + 40)
    assert svc.redeem(started["transaction_id"])["status"] == "completed"


def test_a_decision_is_recorded_once_and_only_by_the_transactions_session(svc: Service) -> None:
    started = svc.start()
    transaction, _ = claim(svc, started["client_token"])
    with pytest.raises(StoreUnavailableError):
        record_result_at(
            svc.store, svc.signer, ISSUER, transaction, "X" * 22, decision="verified",
            assurance="light", hint="", now=NOW + 30,
        )  # fmt: skip
    assert svc.store.records[transaction.transaction_id].result == ""
    record_result_at(
        svc.store, svc.signer, ISSUER, transaction, SID, decision="not_verified",
        assurance="light", hint="", now=NOW + 30,
    )  # fmt: skip
    with pytest.raises(StoreUnavailableError):
        record_result_at(
            svc.store, svc.signer, ISSUER, transaction, SID, decision="verified",
            assurance="light", hint="", now=NOW + 31,
        )  # fmt: skip
    assert svc.store.records[transaction.transaction_id].decision == "not_verified"


def test_a_transaction_never_started_cannot_be_decided(svc: Service) -> None:
    started = svc.start()
    transaction = svc.store.records[started["transaction_id"]]
    with pytest.raises(StoreUnavailableError):
        record_result_at(
            svc.store, svc.signer, ISSUER, transaction, "", decision="verified",
            assurance="light", hint="", now=NOW + 30,
        )  # fmt: skip
    assert svc.store.records[started["transaction_id"]].status == STATUS_CREATED


def consent_for(transaction: Transaction, accepted_at_ms: int) -> Consent:
    return Consent(CONSENT_NOTICE, "en", accepted_at_ms, transaction.transaction_id)


def test_consent_inside_the_transactions_lifetime_is_accepted(svc: Service) -> None:
    transaction = svc.store.records[svc.start()["transaction_id"]]
    now = NOW + 30
    for accepted in (
        (NOW - CONSENT_SKEW_S) * 1000,  # the earliest a skewed browser clock may say
        NOW * 1000 + 15_000,
        (now + CONSENT_SKEW_S) * 1000,  # the latest
    ):
        check_consent(consent_for(transaction, accepted), transaction, now=now)


def test_consent_for_another_transaction_or_at_an_implausible_time_is_refused(
    svc: Service,
) -> None:
    transaction = svc.store.records[svc.start()["transaction_id"]]
    other = svc.store.records[svc.start()["transaction_id"]]
    now = NOW + 30
    for consent in (
        consent_for(other, NOW * 1000 + 15_000),
        dataclasses.replace(consent_for(transaction, NOW * 1000), transaction_id=""),
        consent_for(transaction, (NOW - CONSENT_SKEW_S) * 1000 - 1),  # too early
        consent_for(transaction, 0),
        consent_for(transaction, NOW),  # seconds, not ms
        consent_for(transaction, (now + CONSENT_SKEW_S) * 1000 + 1),  # too far in the future
        consent_for(transaction, -1),
    ):
        with pytest.raises(BadRequestError):
            check_consent(consent, transaction, now=now)
