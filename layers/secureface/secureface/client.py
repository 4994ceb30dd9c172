"""Python client: key exchange, manifest checks, parallel model download and decryption.

Used by the CLI (``python -m secureface fetch-models``), by operators, and by the integration
and attack tests. It trusts nothing the server says that does not chain to a pinned key::

    client = SecureFaceClient(
        "http://127.0.0.1:3000", server_spki, manifest_spki=manifest_spki, state_file=Path("s.json")
    )
    manifest = client.fetch_manifest()          # manifest key: signature, lifetime, rollback, jump
    session = client.open_session(client_token, purpose="models")  # delegation → transcript
    data = client.fetch_model(session, browser_models(manifest)[0])  # segments → sha256 check

Only the models a browser runs are served (:data:`~secureface.models.manifest.BROWSER_ROLES`);
the embedder and the face mesh stay on the server.

Failures raise :class:`~secureface.errors.SecureFaceError` subclasses: ``IntegrityError`` for
every cryptographic refusal (its ``reason`` says which check), ``ApiError`` for HTTP errors.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from secureface.crypto.ecdsa import load_public_key
from secureface.crypto.stream import HEADER_LEN, StreamOpener, segment_count
from secureface.errors import BadRequestError, IntegrityError, SecureFaceError
from secureface.models.manifest import BROWSER_ROLES, Manifest, ModelEntry, verify_manifest_at
from secureface.models.segments import (
    MAX_SEGMENTS_PER_RESPONSE,
    SEGMENT_SIZE,
    SESSION_HEADER,
    range_path,
    stream_id,
)
from secureface.sessions.exchange import ClientSession, finish_exchange_at, new_client_hello
from secureface.sessions.sealed import REQUEST_LABEL, RESPONSE_LABEL, open_message, seal_message
from secureface.transactions.model import CONSENT_NOTICE
from secureface.verify.answer import VerifyAnswer
from secureface.verify.request import Consent, encode_payload


class ApiError(SecureFaceError):
    """The API answered an error body (or could not be reached: status 0)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


class SecureFaceClient:
    """A client pinned to the server's long-term public key (DER SPKI), which every session
    chains to, and to the manifest key (DER SPKI), which signs the model manifest (without it
    the client opens sessions but refuses to read a manifest)."""

    def __init__(
        self,
        api_url: str,
        pinned_spki: bytes,
        *,
        manifest_spki: bytes | None = None,
        state_file: Path | None = None,
        timeout_s: float = 30.0,
        clock: Callable[[], float] = time.time,
        source_ip: str = "",
    ) -> None:
        self.api_url = checked_url(api_url)
        self.source_ip = source_ip
        self.pinned: ec.EllipticCurvePublicKey = load_public_key(pinned_spki)
        self.manifest_key = load_public_key(manifest_spki) if manifest_spki else None
        self.state_file = state_file
        self.timeout_s = timeout_s
        self.clock = clock

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> bytes:
        """One HTTP exchange; non-2xx answers raise :class:`ApiError` with the server's code."""
        return http_request(
            method, self.api_url + path, body, headers or {}, self.timeout_s, self.source_ip
        )

    def highest_seen_version(self) -> int:
        """The highest manifest version accepted before (rollback protection)."""
        if self.state_file is None or not self.state_file.exists():
            return 0
        return int(json.loads(self.state_file.read_text()).get("manifest_version", 0))

    def fetch_manifest(self) -> Manifest:
        """Fetch and verify the manifest; remember its version.

        Raises:
            IntegrityError: bad signature, valid for more than 90 days, expired, rolled back
                below the highest version seen, or more than 1000 above it.
        """
        if self.manifest_key is None:
            raise IntegrityError(reason="no manifest key pinned")
        raw = json.loads(self.request("GET", "/models/manifest"))
        manifest = verify_manifest_at(
            str(raw.get("manifest", "")),
            self.manifest_key,
            now=int(self.clock()),
            min_version=self.highest_seen_version(),
        )
        if self.state_file is not None and manifest.manifest_version > self.highest_seen_version():
            self.state_file.write_text(json.dumps({"manifest_version": manifest.manifest_version}))
        return manifest

    def open_session(
        self, client_token: str, *, purpose: str = "verify", liveness: str = "light"
    ) -> ClientSession:
        """Run the key exchange for a transaction and authenticate the server; the transcript
        holds the challenge.

        Args:
            client_token: the transaction's client token (from the relying party).
            purpose: ``verify`` (the transaction's one attempt; uses the token up) or
                ``models`` (model download only).
            liveness: ``light`` (default) or ``motion`` (where the operator allows it).

        Raises:
            ApiError: the token is refused (401 ``invalid_client_token``) or the request is bad.
            IntegrityError: the answer does not chain to the pinned key.
        """
        key, nonce, body = new_client_hello(liveness)
        body = {**body, "client_token": client_token, "purpose": purpose}
        answer = self.request(
            "POST",
            "/session",
            body=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            response: dict[str, Any] = json.loads(answer)
        except ValueError as exc:
            raise IntegrityError(reason="key-exchange answer is not JSON") from exc
        return finish_exchange_at(response, key, nonce, self.pinned, now=int(self.clock()))

    def verify(
        self,
        session: ClientSession,
        frames: list[bytes],
        times_ms: list[int],
        *,
        transaction_id: str,
        locale: str = "en",
        consented_at_ms: int | None = None,
    ) -> VerifyAnswer:
        """Send a burst (JPEG frames captured during the session's challenge, each with its
        capture time in ms from the challenge's time zero) with the person's consent to the
        current notice, encrypted; return the decision (the relying party redeems the signed
        result).

        Raises:
            ApiError: the server refused the request (bad input, session invalid...).
            IntegrityError: the answer does not open under the session's response key, or is
                about another session or transaction.
        """
        accepted = int(self.clock() * 1000) if consented_at_ms is None else consented_at_ms
        consent = Consent(CONSENT_NOTICE, locale, accepted, transaction_id)
        payload = encode_payload(frames, times_ms, consent)
        sealed = seal_message(session.keys.request, REQUEST_LABEL, session.session_id, payload)
        body = json.dumps({"session_id": session.session_id, **sealed}).encode()
        answer = json.loads(
            self.request("POST", "/verify", body=body, headers={"Content-Type": "application/json"})
        )
        opened = open_message(session.keys.response, RESPONSE_LABEL, session.session_id, answer)
        return VerifyAnswer.parse(
            opened, session_id=session.session_id, transaction_id=transaction_id
        )

    def fetch_ranges(
        self,
        session: ClientSession,
        entry: ModelEntry,
        *,
        parallel: int = 4,
        per_range: int = MAX_SEGMENTS_PER_RESPONSE,
    ) -> list[bytes]:
        """The raw range responses (header ‖ sealed segments) of one model, in order, each of
        at most ``per_range`` segments."""
        total = segment_count(entry.size, SEGMENT_SIZE)
        starts = range(0, total, per_range)

        def fetch(first: int) -> bytes:
            count = min(per_range, total - first)
            return self.request(
                "GET",
                range_path(entry, first, count),
                headers={SESSION_HEADER: session.session_id},
            )

        with ThreadPoolExecutor(max_workers=parallel) as pool:
            return list(pool.map(fetch, starts))

    def fetch_model(self, session: ClientSession, entry: ModelEntry, *, parallel: int = 4) -> bytes:
        """Download, decrypt and check one model.

        Raises:
            IntegrityError: any segment fails, the stream is truncated, or the bytes differ
                from the manifest's size and SHA-256.
        """
        return open_model(session, entry, self.fetch_ranges(session, entry, parallel=parallel))


def browser_models(manifest: Manifest) -> list[ModelEntry]:
    """The manifest's models a browser runs: the only ones the segments route serves."""
    return [m for m in manifest.models if m.role in BROWSER_ROLES]


def open_model(session: ClientSession, entry: ModelEntry, ranges: list[bytes]) -> bytes:
    """Decrypt range responses (each ``header ‖ segments``) and check the result.

    Raises:
        IntegrityError: inconsistent headers, a segment failing, truncation, or a model that
            differs from the manifest.
    """
    if not ranges or any(len(r) < HEADER_LEN for r in ranges):
        raise IntegrityError(reason="range response shorter than the stream header")
    header = ranges[0][:HEADER_LEN]
    if any(r[:HEADER_LEN] != header for r in ranges):
        raise IntegrityError(reason="range responses carry different stream headers")
    opener = StreamOpener(session.keys.model, stream_id(session.session_id, entry), header)
    if opener.header.plaintext_size != entry.size:
        raise IntegrityError(reason="stream size differs from the manifest")
    data = opener.open_all(b"".join(r[HEADER_LEN:] for r in ranges))
    if hashlib.sha256(data).hexdigest() != entry.sha256:
        raise IntegrityError(reason=f"{entry.name} sha256 differs from the manifest")
    return data


class AdminClient:
    """Calls the ``AWS_IAM`` admin routes, signed with the caller's AWS credentials (SigV4).

    Authentication is IAM's; the answers are plain JSON (no session, no pinned key needed).
    """

    def __init__(self, api_url: str, *, timeout_s: float = 60.0) -> None:
        self.api_url = checked_url(api_url)
        self.timeout_s = timeout_s

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """One signed admin request; raises :class:`ApiError` when refused."""
        from secureface.adapters.aws import sigv4_headers

        url = self.api_url + path
        data = json.dumps(body).encode() if body is not None else b""
        headers = sigv4_headers(method, url, data, {"Content-Type": "application/json"})
        return dict(json.loads(http_request(method, url, data or None, headers, self.timeout_s)))


def checked_url(api_url: str) -> str:
    """The API base URL without a trailing slash; only http(s) is accepted.

    Raises:
        ValueError: another scheme (``file:``, ...).
    """
    if not api_url.startswith(("http://", "https://")):
        raise ValueError("api_url must be an http(s) URL")
    return api_url.rstrip("/")


def http_request(
    method: str,
    url: str,
    body: bytes | None,
    headers: dict[str, str],
    timeout_s: float,
    source_ip: str = "",
) -> bytes:
    """One HTTP exchange; non-2xx answers raise :class:`ApiError` with the server's code.

    ``source_ip`` binds the local end (a multi-homed host; tests acting as distinct clients).
    """
    req = urllib.request.Request(url, data=body, method=method, headers=headers)  # noqa: S310
    opener = urllib.request.build_opener(*([_BoundHttpHandler(source_ip)] if source_ip else []))
    try:
        with opener.open(req, timeout=timeout_s) as response:
            return bytes(response.read())
    except urllib.error.HTTPError as exc:
        try:
            err = json.loads(exc.read())
        except ValueError:
            err = {}
        code, message = str(err.get("code", "http_error")), str(err.get("message", exc.reason))
        raise ApiError(exc.code, code, message) from exc
    except (urllib.error.URLError, OSError) as exc:
        raise ApiError(0, "network_error", f"cannot reach {url}") from exc


class _BoundHttpHandler(urllib.request.HTTPHandler):
    """Plain-HTTP handler whose connections leave from ``source_ip``."""

    def __init__(self, source_ip: str) -> None:
        super().__init__()
        self.source_ip = source_ip

    def http_open(self, req: urllib.request.Request) -> Any:
        def connect(host: str, **kwargs: Any) -> http.client.HTTPConnection:
            return http.client.HTTPConnection(host, source_address=(self.source_ip, 0), **kwargs)

        return self.do_open(connect, req)


BURST_INDEX = "burst.json"


def save_burst(folder: Path, frames: Sequence[bytes], times_ms: Sequence[int]) -> Path:
    """Write a recorded burst: ``frame-NNN.jpg`` files and ``burst.json`` listing them in order
    with their capture times (ms from the challenge's time zero)."""
    folder.mkdir(parents=True, exist_ok=True)
    index = []
    for i, (frame, t) in enumerate(zip(frames, times_ms, strict=True)):
        name = f"frame-{i:03d}.jpg"
        (folder / name).write_bytes(frame)
        index.append({"file": name, "t": int(t)})
    (folder / BURST_INDEX).write_text(json.dumps({"frames": index}, indent=1))
    return folder


def load_burst(folder: Path) -> tuple[list[bytes], list[int]]:
    """Read a burst written by :func:`save_burst` (or by hand in the same format).

    Raises:
        BadRequestError: no or a malformed ``burst.json``, or a file outside the folder.
    """
    try:
        entries = json.loads((folder / BURST_INDEX).read_text())["frames"]
        names = [str(e["file"]) for e in entries]
        times = [int(e["t"]) for e in entries]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BadRequestError(f"{folder / BURST_INDEX} is missing or malformed") from exc
    if any(Path(n).name != n for n in names):
        raise BadRequestError("burst.json names a file outside its folder")
    return [(folder / n).read_bytes() for n in names], times
