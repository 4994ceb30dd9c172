"""Demo Bank's backend: sign in with SecureFace, standard library only (+ :mod:`secureface.rp`).

The part a relying party has to get right is :meth:`Bank.start_login` and
:meth:`Bank.finish_login` (≈ 20 lines): a fresh ``state`` and ``nonce`` per login kept on the
server under an HttpOnly cookie; back on the callback, the ``state`` must be this browser's
(login CSRF), the login is used once, and the result is redeemed server to server and verified
for this login's nonce and user. The rest is a small web server.

Why ``/continue``: the sign-in form posts to ``/login``, and Chrome and Safari apply the page's
CSP ``form-action`` to every redirect that follows a form submission (w3c/webappsec-csp#8), so a
303 from ``/login`` straight to the hosted page (another origin) would be blocked. ``/login``
answers a page that moves on to ``/continue``, a plain navigation, which answers the 303 to the
hosted page; the client token is only ever in that one ``Location`` header.
"""

from __future__ import annotations

import hmac
import re
import secrets
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Generic, TypeVar, cast
from urllib.parse import parse_qs, urlsplit

from examples.relying_party import templates
from examples.relying_party.templates import LANGUAGES
from secureface.client import ApiError
from secureface.errors import IntegrityError, ResultRefused, SecureFaceError
from secureface.rp import RelyingPartyClient
from secureface.transactions.model import ACCESS_DENIED

#: The rule SecureFace applies to subjects (fullmatch: no trailing newline slips through).
USERNAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
TRANSACTION_ID_RE = re.compile(r"[A-Za-z0-9_-]{22}")
#: Every decision a genuine result can carry; only ``verified`` signs anyone in.
DECISIONS = ("verified", "not_verified", "locked")

LOGIN_COOKIE = "bank_login"
SESSION_COOKIE = "bank_session"
LANG_COOKIE = "bank_lang"
LOGIN_TTL_S = 600
SESSION_TTL_S = 3600
MAX_KEPT = 1000
MAX_FORM_BYTES = 4096

CSP = (
    "default-src 'none'; style-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-store"),
)
HTML = "text/html; charset=utf-8"

T = TypeVar("T")


class Expiring(Generic[T]):
    """An in-memory map under random keys: entries expire after ``ttl_s``; at most ``limit``
    are kept (the oldest go first). Thread-safe."""

    def __init__(self, ttl_s: float, limit: int, clock: Callable[[], float] = time.monotonic):
        self.ttl_s, self.limit, self.clock = ttl_s, limit, clock
        self._items: OrderedDict[str, tuple[float, T]] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, value: T) -> str:
        """Keep ``value``; returns its fresh key (32 random bytes, base64url)."""
        key = secrets.token_urlsafe(32)
        with self._lock:
            self._expire()
            while len(self._items) >= self.limit:
                self._items.popitem(last=False)
            self._items[key] = (self.clock(), value)
        return key

    def get(self, key: str) -> T | None:
        with self._lock:
            self._expire()
            entry = self._items.get(key)
            return None if entry is None else entry[1]

    def pop(self, key: str) -> T | None:
        with self._lock:
            self._expire()
            entry = self._items.pop(key, None)
            return None if entry is None else entry[1]

    def __len__(self) -> int:
        with self._lock:
            self._expire()
            return len(self._items)

    def _expire(self) -> None:
        cutoff = self.clock() - self.ttl_s
        while self._items:
            key, (created, _) = next(iter(self._items.items()))
            if created > cutoff:
                break
            del self._items[key]


@dataclass
class PendingLogin:
    """A sign-in this browser started: what the callback must find again."""

    username: str
    locale: str
    state: str
    nonce: str
    #: The hosted page's URL (it carries the client token): used once, by ``/continue``.
    hosted_url: str = field(default="", repr=False)


@dataclass(frozen=True)
class Session:
    username: str
    locale: str


@dataclass(frozen=True)
class Outcome:
    """How a callback ended: ``signed_in``, ``refused`` (with the result's ``hint``, or
    ``locked``), ``declined``, ``pending``, ``untrusted``, ``unavailable``, or ``csrf`` (then
    there is no ``login``: it was not this browser's)."""

    name: str
    login: PendingLogin | None = None
    hint: str = ""


class PayloadTooLarge(ValueError):
    pass


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = HTML
    headers: list[tuple[str, str]] = field(default_factory=list)


def redirect(location: str, headers: list[tuple[str, str]] | None = None) -> Response:
    return Response(303, headers=[("Location", location), *(headers or [])])


class Bank:
    """Demo Bank's state and pages; :class:`Handler` turns requests into calls here."""

    def __init__(
        self,
        public_url: str,
        rp: RelyingPartyClient,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not public_url.startswith(("http://", "https://")):
            raise ValueError("public_url must be an http(s) URL")
        self.public_url = public_url.rstrip("/")
        parts = urlsplit(self.public_url)
        self.origin = f"{parts.scheme}://{parts.netloc}".lower()
        self.secure_cookies = parts.scheme == "https"
        self.rp = rp
        self.logins: Expiring[PendingLogin] = Expiring(LOGIN_TTL_S, MAX_KEPT, clock)
        self.sessions: Expiring[Session] = Expiring(SESSION_TTL_S, MAX_KEPT, clock)
        self._hop_lock = threading.Lock()

    # ------------------------------------------------------------------ the part that matters

    def start_login(self, username: str, locale: str) -> tuple[str, PendingLogin]:
        """Start a SecureFace transaction for ``username``; returns the new pending login and
        its cookie value (raises what :meth:`RelyingPartyClient.start` raises)."""
        login = PendingLogin(
            username, locale, state=secrets.token_urlsafe(32), nonce=secrets.token_urlsafe(32)
        )
        started = self.rp.start(
            subject=username, nonce=login.nonce, state=login.state, locale=locale,
            return_url=f"{self.public_url}/callback", purpose="sign_in",
        )  # fmt: skip
        login.hosted_url = started.hosted_url  # the client token: never logged, never shown
        return self.logins.put(login), login

    def finish_login(self, cookie: str, query: dict[str, list[str]]) -> Outcome:
        """The callback's outcome for the pending login under ``cookie``."""
        login = self.logins.pop(cookie) if cookie else None  # used up at once, whatever follows
        state = single(query, "state")
        if (
            login is None
            or state is None
            or not hmac.compare_digest(state.encode(), login.state.encode())
        ):
            return Outcome("csrf")  # not this browser's login: e.g. an attacker's planted one
        if (error := single(query, "error")) is not None:
            return Outcome("declined" if error == ACCESS_DENIED else "untrusted", login)
        transaction_id = single(query, "transaction_id") or ""
        if not TRANSACTION_ID_RE.fullmatch(transaction_id):
            return Outcome("untrusted", login)
        try:
            token = self.rp.redeem(transaction_id)  # server to server, once
            # Every genuine decision is accepted here only to show its hint: the token must
            # still be for this client (aud), this login (nonce), this user (sub), unexpired.
            result = self.rp.verify(
                token, nonce=login.nonce, subject=login.username, accept=DECISIONS
            )
        except ResultRefused:
            return Outcome("refused", login)
        except IntegrityError:
            return Outcome("untrusted", login)  # forged, another login's, expired: an attack
        except ApiError as exc:
            if exc.status == 409 and exc.code == "pending":
                return Outcome("pending", login)
            if exc.status in (404, 410):  # another party's, already redeemed (a replay), expired
                return Outcome("untrusted", login)
            return Outcome("unavailable", login)
        except (SecureFaceError, ValueError, KeyError, TypeError):
            return Outcome("unavailable", login)
        if not result.verified:  # a not_verified or locked token is genuine too: never success
            return Outcome(
                "refused", login, "locked" if result.decision == "locked" else result.hint
            )
        return Outcome("signed_in", login)

    # ------------------------------------------------------------------ routes

    def home(self, req: Request) -> Response:
        lang = req.lang()
        headers = []
        if single(req.query, "lang") in LANGUAGES:
            headers.append(self.cookie(LANG_COOKIE, lang, max_age=365 * 86400))
        session = self.sessions.get(req.cookie(SESSION_COOKIE))
        if session is not None:
            return Response(200, templates.signed_in_page(lang, session.username), headers=headers)
        return Response(200, templates.sign_in_page(lang), headers=headers)

    def login(self, req: Request) -> Response:
        lang = req.lang()
        if not self.same_origin(req):
            return Response(403, templates.outcome_page(lang, "csrf"))
        try:
            form = req.form()
        except PayloadTooLarge:
            return Response(413, templates.error_page(lang, "error_title"))
        except ValueError:
            return Response(400, templates.sign_in_page(lang))
        username = single(form, "username") or ""
        locale = single(form, "locale") or ""
        if locale not in LANGUAGES:
            error = templates.text(lang, "invalid_language")
            return Response(400, templates.sign_in_page(lang, username=username, error=error))
        if not USERNAME_RE.fullmatch(username):
            error = templates.text(locale, "invalid_username")
            return Response(400, templates.sign_in_page(locale, username=username, error=error))
        try:
            key, _ = self.start_login(username, locale)
        except (SecureFaceError, ValueError, KeyError, TypeError) as exc:
            log(f"starting a transaction failed: {type(exc).__name__} {getattr(exc, 'code', '')}")
            return Response(502, templates.outcome_page(locale, "unavailable", other_ways=True))
        headers = [
            self.cookie(LOGIN_COOKIE, key, max_age=LOGIN_TTL_S),
            self.cookie(LANG_COOKIE, locale, max_age=365 * 86400),
        ]
        return Response(200, templates.continue_page(locale), headers=headers)

    def continue_(self, req: Request) -> Response:
        login = self.logins.get(req.cookie(LOGIN_COOKIE))
        with self._hop_lock:
            hosted_url = login.hosted_url if login is not None else ""
            if login is not None:
                login.hosted_url = ""  # once
        return redirect(hosted_url) if hosted_url else redirect("/")

    def callback(self, req: Request) -> Response:
        outcome = self.finish_login(req.cookie(LOGIN_COOKIE), req.query)
        clear = [self.cookie(LOGIN_COOKIE, "", max_age=0)]
        login = outcome.login
        if login is None:
            return Response(400, templates.outcome_page(req.lang(), "csrf"), headers=clear)
        if outcome.name == "signed_in":
            self.sessions.pop(req.cookie(SESSION_COOKIE))  # a new session id at every sign-in
            key = self.sessions.put(Session(login.username, login.locale))
            return redirect("/", [*clear, self.cookie(SESSION_COOKIE, key)])
        status = {"untrusted": 400, "unavailable": 502}.get(outcome.name, 200)
        page = templates.outcome_page(
            login.locale, outcome.name, hint=outcome.hint,
            other_ways=outcome.name in ("refused", "unavailable"),
        )  # fmt: skip
        return Response(status, page, headers=clear)

    def logout(self, req: Request) -> Response:
        if not self.same_origin(req):
            return Response(403, templates.outcome_page(req.lang(), "csrf"))
        self.sessions.pop(req.cookie(SESSION_COOKIE))
        return redirect("/", [self.cookie(SESSION_COOKIE, "", max_age=0)])

    def other_ways(self, req: Request) -> Response:
        return Response(200, templates.other_ways_page(req.lang()))

    def style(self, req: Request) -> Response:
        return Response(200, templates.STYLE, content_type="text/css; charset=utf-8")

    # ------------------------------------------------------------------ helpers

    def same_origin(self, req: Request) -> bool:
        """Whether a POST comes from this bank's own pages. Browsers say so in
        ``Sec-Fetch-Site``; ``Origin`` is ``null`` on our own forms (Referrer-Policy
        no-referrer), so only a real, different origin counts against. A client sending neither
        (curl, an old browser) passes: the callback's ``state`` is what stops login CSRF."""
        site = req.headers.get("Sec-Fetch-Site")
        if site is not None and site != "same-origin":
            return False
        origin = req.headers.get("Origin")
        return origin is None or origin == "null" or origin.lower() == self.origin

    def cookie(self, name: str, value: str, *, max_age: int | None = None) -> tuple[str, str]:
        attributes = f"{name}={value}; Path=/; HttpOnly; SameSite=Lax"
        if max_age is not None:
            attributes += f"; Max-Age={max_age}"
        if self.secure_cookies:
            attributes += "; Secure"
        return ("Set-Cookie", attributes)


@dataclass
class Request:
    """What a route sees of a request."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Message[str, str]
    read_body: Callable[[int], bytes]

    def cookie(self, name: str) -> str:
        """The value of cookie ``name`` ("" when absent; the first one when repeated)."""
        for header in self.headers.get_all("Cookie") or ():
            for pair in header.split(";"):
                key, sep, value = pair.strip().partition("=")
                if sep and key == name:
                    return str(value).strip()
        return ""

    def lang(self) -> str:
        """``?lang=``, else the language cookie, else Accept-Language (hi or en)."""
        chosen = single(self.query, "lang")
        if chosen in LANGUAGES:
            return chosen
        if self.cookie(LANG_COOKIE) in LANGUAGES:
            return self.cookie(LANG_COOKIE)
        accept = (self.headers.get("Accept-Language") or "").strip().lower()
        return "hi" if accept.startswith("hi") else "en"

    def form(self) -> dict[str, list[str]]:
        """The urlencoded form body (ValueError when malformed, PayloadTooLarge)."""
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            raise ValueError("not a urlencoded form")
        length = int(self.headers.get("Content-Length") or "0")
        if length < 0:
            raise ValueError("negative Content-Length")
        if length > MAX_FORM_BYTES:
            raise PayloadTooLarge("form too large")
        raw = self.read_body(length).decode("utf-8")
        return parse_qs(raw, keep_blank_values=True, max_num_fields=10)


def single(values: dict[str, list[str]], name: str) -> str | None:
    """The one value of ``name``; None when absent or repeated."""
    found = values.get(name)
    return found[0] if found is not None and len(found) == 1 else None


def log(message: str) -> None:
    print(f"[demo-bank] {message}", file=sys.stderr, flush=True)


Route = Callable[[Bank, Request], Response]
ROUTES: dict[str, dict[str, Route]] = {
    "/": {"GET": Bank.home},
    "/style.css": {"GET": Bank.style},
    "/login": {"POST": Bank.login},
    "/continue": {"GET": Bank.continue_},
    "/callback": {"GET": Bank.callback},
    "/logout": {"POST": Bank.logout},
    "/other-ways": {"GET": Bank.other_ways},
}


class Handler(BaseHTTPRequestHandler):
    """HTTP in and out: routing, security headers, no stack traces and no secrets in logs."""

    server_version = "DemoBank"
    protocol_version = "HTTP/1.1"
    default_request_version = "HTTP/1.0"  # a garbled request line still gets headers (CSP…)
    timeout = 30

    def version_string(self) -> str:
        return self.server_version  # no Python version in the Server header

    def __getattr__(self, name: str) -> Callable[[], None]:
        # http.server looks up do_<METHOD>: every method goes to the router (404 / 405).
        if name.startswith("do_"):
            return self.dispatch
        raise AttributeError(name)

    def dispatch(self) -> None:
        bank = cast(BankServer, self.server).bank
        method = self.command
        try:
            url = urlsplit(self.path)
            query = parse_qs(url.query, keep_blank_values=True, max_num_fields=20)
        except ValueError:
            self.respond(Response(400, templates.error_page("en", "error_title")))
            return
        request = Request(method, url.path, query, self.headers, self.rfile.read)
        routes = ROUTES.get(url.path)
        if routes is None:
            self.respond(Response(404, templates.error_page(request.lang(), "not_found_title")))
            return
        allowed = sorted({*routes, *(["HEAD"] if "GET" in routes else [])})
        route = routes.get("GET" if method == "HEAD" else method)
        if route is None:
            page = templates.error_page(request.lang(), "method_title")
            self.respond(Response(405, page, headers=[("Allow", ", ".join(allowed))]))
            return
        try:
            response = route(bank, request)
        except Exception as exc:  # a bug: a page, not a traceback (which could hold secrets)
            log(f"{method} {url.path} failed: {type(exc).__name__}")
            response = Response(500, templates.outcome_page("en", "error"))
        self.respond(response)

    def respond(self, response: Response) -> None:
        # A request with a body: close after answering, so an unread body is never taken as
        # the next request (only /login reads one).
        has_body = self.headers.get("Content-Length", "0") != "0" or "Transfer-Encoding" in (
            self.headers
        )
        self.send_response(response.status)
        for name, value in (*SECURITY_HEADERS, *response.headers):
            self.send_header(name, value)
        if has_body:
            self.send_header("Connection", "close")
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Malformed requests (http.server's own 400, 414, 431…) get a page with our headers."""
        self.close_connection = True
        self.log_error("code %d", code)
        body = templates.error_page("en", "error_title")
        self.send_response(code)
        for name, value in SECURITY_HEADERS:
            self.send_header(name, value)
        self.send_header("Content-Type", HTML)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and code >= 200 and code not in (204, 304):
            self.wfile.write(body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # The path without its query: state and transaction ids stay out of the log.
        try:
            path = urlsplit(getattr(self, "path", "") or "-").path
        except ValueError:
            path = "-"
        self.log_message("%s %s %s", self.command, path[:200], code)

    def log_message(self, format: str, *args: Any) -> None:
        sys.stderr.write(f"[demo-bank] {self.address_string()} {format % args}\n")


class BankServer(ThreadingHTTPServer):
    daemon_threads = True
    bank: Bank


def serve(
    port: int,
    public_url: str,
    api: str,
    client_id: str,
    client_secret: str,
    issuer: str = "",
    *,
    host: str = "127.0.0.1",
) -> BankServer:
    """Bind Demo Bank on ``host:port`` (0: any free port) and serve it from a daemon thread;
    stop it with ``server.shutdown(); server.server_close()``.

    ``public_url`` is where browsers reach it ("" = ``http://127.0.0.1:<bound port>``); its
    ``/callback`` must be registered as a return URL for ``client_id``.
    """
    server = BankServer((host, port), Handler)
    bound = server.server_address[1]
    rp = RelyingPartyClient(api, client_id, client_secret, issuer=issuer)
    server.bank = Bank(public_url or f"http://127.0.0.1:{bound}", rp)
    threading.Thread(target=server.serve_forever, name="demo-bank", daemon=True).start()
    return server
