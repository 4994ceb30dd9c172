"""The error vocabulary of SecureFace.

Every failure the package raises is a :class:`SecureFaceError` carrying a stable machine code and
the HTTP status it maps to. HTTP adapters turn it into the one error body used by every route::

    {"statusCode": 404, "code": "not_found", "message": "No route GET /nope"}

Crypto and verification failures are deliberately opaque to the client: they carry one public code
and message, while the precise reason travels in :attr:`SecureFaceError.reason` for the server log.
"""

from __future__ import annotations


class SecureFaceError(Exception):
    """Base class: a failure with a stable code, an HTTP status and a client-safe message."""

    code = "internal_error"
    http_status = 500
    public_message = "Internal error"

    def __init__(self, message: str | None = None, *, reason: str | None = None) -> None:
        self.message = message or self.public_message
        #: The precise cause, for the server log only; never sent to the client.
        self.reason = reason or self.message
        super().__init__(self.message)

    def to_body(self) -> dict[str, object]:
        """The error body every route answers with."""
        return {"statusCode": self.http_status, "code": self.code, "message": self.message}


class BadRequestError(SecureFaceError):
    """The request is malformed: bad JSON, a missing field, a value out of range."""

    code = "bad_request"
    http_status = 400
    public_message = "Bad request"


class NotFoundError(SecureFaceError):
    """The route or the named resource does not exist."""

    code = "not_found"
    http_status = 404
    public_message = "Not found"


class MethodNotAllowedError(SecureFaceError):
    """The route exists but not with this HTTP method."""

    code = "method_not_allowed"
    http_status = 405
    public_message = "Method not allowed"

    def __init__(self, message: str | None = None, *, allowed: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.allowed = allowed


class PayloadTooLargeError(SecureFaceError):
    """The request body or one of its parts is over a documented limit."""

    code = "payload_too_large"
    http_status = 413
    public_message = "Payload too large"


class IntegrityError(SecureFaceError):
    """Any cryptographic check failed: signature, AEAD tag, hash, expiry, rollback.

    One opaque code for every crypto failure (as ``cryptography``'s ``InvalidToken``); the
    precise reason is in :attr:`reason` for the log.
    """

    code = "integrity_error"
    http_status = 400
    public_message = "Integrity check failed"


class PublishError(SecureFaceError):
    """Publishing models was refused (hash mismatch, manifest version not increasing...)."""

    code = "publish_refused"
    http_status = 409
    public_message = "Publishing refused"


class ConfigurationError(SecureFaceError):
    """A required setting is missing or invalid; a deployment bug, not a client error."""

    code = "configuration_error"
    http_status = 500
    public_message = "Service misconfigured"


class StoreUnavailableError(SecureFaceError):
    """A backing store (S3, KMS, MongoDB) failed or could not be reached."""

    code = "service_unavailable"
    http_status = 503
    public_message = "Service temporarily unavailable"


class SessionError(SecureFaceError):
    """The session is unknown, expired or already used: one answer for all three."""

    code = "session_invalid"
    http_status = 401
    public_message = "Session is invalid or expired; start a new session"


class ModelUnavailableError(SecureFaceError):
    """A published model failed the server's own integrity check (e.g. replaced in storage)."""

    code = "model_unavailable"
    http_status = 503
    public_message = "Model temporarily unavailable"


class ClientAuthError(SecureFaceError):
    """A relying party's credentials are missing or wrong (one answer for every cause)."""

    code = "invalid_client"
    http_status = 401
    public_message = "Client authentication failed"


class ClientTokenError(SecureFaceError):
    """The hosted page's client token is unknown, expired or used up (one answer for all)."""

    code = "invalid_client_token"
    http_status = 401
    public_message = "This verification link is invalid or expired; start again from the service"


class PendingError(SecureFaceError):
    """The transaction has no result yet (nothing was used up; ask again later)."""

    code = "pending"
    http_status = 409
    public_message = "No result yet"


class GoneError(SecureFaceError):
    """The result was already redeemed, or the transaction expired."""

    code = "gone"
    http_status = 410
    public_message = "The result was already redeemed or has expired"


class ResultRefused(SecureFaceError):
    """A genuine result token whose decision the caller does not accept (not ``verified``)."""

    code = "not_verified"
    http_status = 403
    public_message = "The person was not verified"
