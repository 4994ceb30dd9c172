"""The example relying party (examples/relying_party, "Demo Bank") where no SecureFace API is
needed: login CSRF refusal, username validation, HTML escaping, security headers, 404/405,
the declined path, the bounded stores, the command line. Its SecureFace API address is a port
that refuses connections, so every path that would reach the API ends in "unavailable".
(The whole flow with the real stack and Chromium: tests/e2e.)"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from examples.relying_party import templates
from examples.relying_party.app import (
    CSP,
    LOGIN_TTL_S,
    Bank,
    BankServer,
    Expiring,
    PendingLogin,
    Session,
    serve,
)
from secureface.rp import RelyingPartyClient

pytestmark = pytest.mark.loopback  # starts its own server on 127.0.0.1

REPO = Path(__file__).resolve().parents[2]
SECRET = "test-client-secret-never-shown"
STATE = "S" * 43
TRANSACTION_ID = "T" * 22
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


@pytest.fixture(scope="module")
def refusing_port() -> Iterator[int]:
    """A bound port nobody listens on: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(refusing_port: int) -> Iterator[BankServer]:
    bank = serve(0, "", f"http://127.0.0.1:{refusing_port}", "demo-bank", SECRET)
    yield bank
    bank.shutdown()
    bank.server_close()


class Answer:
    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status, self.body = status, body
        self.headers = {k.lower(): v for k, v in headers}
        self.cookies = [v for k, v in headers if k.lower() == "set-cookie"]
        self.text = body.decode("utf-8", "replace")

    @property
    def outcome(self) -> str:
        found = re.search(r'<main data-outcome="([a-z_]+)"', self.text)
        return found.group(1) if found else ""


def call(
    server: BankServer,
    method: str,
    path: str,
    *,
    form: dict[str, str] | list[tuple[str, str]] | None = None,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    cookies: dict[str, str] | None = None,
) -> Answer:
    all_headers = dict(headers or {})
    if form is not None:
        body = urlencode(form).encode()
        all_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    if cookies:
        all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
    try:
        connection.request(method, path, body=body, headers=all_headers)
        response = connection.getresponse()
        return Answer(response.status, response.getheaders(), response.read())
    finally:
        connection.close()


def raw(server: BankServer, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=10) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def plant_login(server: BankServer, **changes: Any) -> str:
    """A pending login as /login leaves it (the API call it needs is not the point here)."""
    values = {"username": "alice", "locale": "en", "state": STATE, "nonce": "N" * 43}
    return server.bank.logins.put(PendingLogin(**{**values, **changes}))


def callback(server: BankServer, login_cookie: str | None, query: str) -> Answer:
    cookies = {"bank_login": login_cookie} if login_cookie is not None else None
    return call(server, "GET", f"/callback?{query}", cookies=cookies)


# ------------------------------------------------------------------------------- pages


def test_the_sign_in_page_in_english_and_hindi(server: BankServer) -> None:
    english = call(server, "GET", "/")
    assert english.status == 200
    assert '<html lang="en">' in english.text
    assert '<form method="post" action="/login">' in english.text
    assert 'name="username"' in english.text and 'name="locale"' in english.text
    assert "Sign in with your face" in english.text
    assert 'href="/other-ways"' in english.text
    hindi = call(server, "GET", "/?lang=hi")
    assert '<html lang="hi">' in hindi.text
    assert "अपने चेहरे से साइन इन करें" in hindi.text
    assert '<option value="hi" selected' in hindi.text
    assert hindi.cookies == ["bank_lang=hi; Path=/; HttpOnly; SameSite=Lax; Max-Age=31536000"]
    remembered = call(server, "GET", "/", cookies={"bank_lang": "hi"})
    assert '<html lang="hi">' in remembered.text
    assert '<html lang="hi">' in call(server, "GET", "/", headers={"Accept-Language": "hi-IN"}).text
    assert '<html lang="en">' in call(server, "GET", "/?lang=xx").text


def test_every_string_exists_in_both_languages() -> None:
    assert set(templates.STRINGS["en"]) == set(templates.STRINGS["hi"])
    assert set(templates.HINTS["en"]) == set(templates.HINTS["hi"])


def test_other_ways_and_the_stylesheet(server: BankServer) -> None:
    other = call(server, "GET", "/other-ways")
    assert other.status == 200
    assert 'data-page="other-ways"' in other.text
    style = call(server, "GET", "/style.css")
    assert style.status == 200
    assert style.headers["content-type"] == "text/css; charset=utf-8"
    assert style.body == templates.STYLE


@pytest.mark.parametrize(
    ("method", "path", "form", "status"),
    [
        ("GET", "/", None, 200),
        ("GET", "/style.css", None, 200),
        ("GET", "/other-ways", None, 200),
        ("GET", "/nope", None, 404),
        ("POST", "/", None, 405),
        ("GET", "/callback", None, 400),
        ("GET", "/continue", None, 303),
        ("POST", "/login", {"username": "", "locale": "en"}, 400),
        ("POST", "/login", {"username": "alice", "locale": "en"}, 502),
        ("POST", "/logout", None, 303),
    ],
)
def test_security_headers_on_every_answer(
    server: BankServer, method: str, path: str, form: dict[str, str] | None, status: int
) -> None:
    answer = call(server, method, path, form=form)
    assert answer.status == status
    for name, value in HEADERS.items():
        assert answer.headers[name] == value
    assert answer.headers["server"] == "DemoBank"  # no Python version


def test_a_malformed_request_gets_a_page_with_the_security_headers(server: BankServer) -> None:
    for request, status in (
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET / HTTP/9.9\r\n\r\n", 505),
        (b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n", 414),
    ):
        answer = raw(server, request).decode()
        head = answer.split("\r\n\r\n")[0].lower()
        assert answer.startswith(f"HTTP/1.1 {status} "), answer[:200]
        for name, value in HEADERS.items():
            assert f"{name}: {value}".lower() in head
        assert "traceback" not in answer.lower()


@pytest.mark.parametrize(
    ("method", "path", "status", "allow"),
    [
        ("GET", "/nope", 404, None),
        ("GET", "/callback/extra", 404, None),
        ("GET", "/CALLBACK", 404, None),
        ("GET", "/callback%2F", 404, None),
        ("FOO", "/nope", 404, None),
        ("POST", "/", 405, "GET, HEAD"),
        ("GET", "/login", 405, "POST"),
        ("PUT", "/callback", 405, "GET, HEAD"),
        ("DELETE", "/logout", 405, "POST"),
        ("GET", "/logout", 405, "POST"),
        ("OPTIONS", "/login", 405, "POST"),
        ("FOO", "/", 405, "GET, HEAD"),
    ],
)
def test_unknown_paths_are_404_and_wrong_methods_405(
    server: BankServer, method: str, path: str, status: int, allow: str | None
) -> None:
    answer = call(server, method, path)
    assert answer.status == status
    assert answer.headers.get("allow") == allow
    assert answer.headers["content-type"] == "text/html; charset=utf-8"


def test_head_answers_the_headers_only(server: BankServer) -> None:
    answer = call(server, "HEAD", "/")
    assert answer.status == 200 and answer.body == b""
    assert int(answer.headers["content-length"]) > 0


# ------------------------------------------------------------------------------- /login


@pytest.mark.parametrize(
    "username",
    ["", "-alice", ".alice", "_a", "@a", "a b", "a" * 65, "alice\n", "alice\r\n", "ålice", "a/b",
     "a:b", "a$b", "<script>", "al%ice"],
)  # fmt: skip
def test_a_username_outside_the_subject_rule_is_refused_before_any_api_call(
    server: BankServer, username: str
) -> None:
    before = len(server.bank.logins)
    answer = call(server, "POST", "/login", form={"username": username, "locale": "en"})
    assert answer.status == 400
    assert 'id="error"' in answer.text and "up to 64 letters" in answer.text
    assert answer.cookies == []
    assert len(server.bank.logins) == before


@pytest.mark.parametrize("username", ["alice", "a", "A" * 64, "first.last@bank-1_x", "0"])
def test_a_valid_username_goes_on_to_the_api(server: BankServer, username: str) -> None:
    """The API refuses connections here: the page says so, and no login is left pending."""
    before = len(server.bank.logins)
    answer = call(server, "POST", "/login", form={"username": username, "locale": "hi"})
    assert (answer.status, answer.outcome) == (502, "unavailable")
    assert '<html lang="hi">' in answer.text
    assert 'href="/other-ways"' in answer.text
    assert answer.cookies == []
    assert len(server.bank.logins) == before


def test_the_echoed_username_is_html_escaped(server: BankServer) -> None:
    evil = "\"><script>alert(1)</script><b x='&"
    answer = call(server, "POST", "/login", form={"username": evil, "locale": "en"})
    assert answer.status == 400
    assert "<script>" not in answer.text and "<b x=" not in answer.text
    assert 'value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;b x=&#x27;&amp;"' in (
        answer.text
    )


@pytest.mark.parametrize(
    ("form", "status"),
    [
        ({"username": "alice", "locale": "fr"}, 400),
        ({"username": "alice", "locale": ""}, 400),
        ({"username": "alice"}, 400),
        ([("username", "alice"), ("username", "bob"), ("locale", "en")], 400),
        ({"username": "alice", "locale": "en", "x": "y" * 5000}, 413),
    ],
)
def test_a_malformed_sign_in_form_is_refused(
    server: BankServer, form: dict[str, str] | list[tuple[str, str]], status: int
) -> None:
    answer = call(server, "POST", "/login", form=form)
    assert answer.status == status
    assert answer.cookies == []


def test_a_sign_in_post_that_is_not_a_form_is_refused(server: BankServer) -> None:
    headers = {"Content-Type": "application/json"}
    answer = call(server, "POST", "/login", body=b'{"username": "alice"}', headers=headers)
    assert answer.status == 400
    bad_length = raw(
        server,
        b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: nope\r\n\r\n",
    )
    assert bad_length.startswith(b"HTTP/1.1 400 ")


def test_posts_from_another_site_are_refused(server: BankServer) -> None:
    form = {"username": "alice", "locale": "en"}
    foreign = call(server, "POST", "/login", form=form, headers={"Origin": "https://evil.example"})
    assert (foreign.status, foreign.outcome) == (403, "csrf")
    for site in ("cross-site", "same-site", "none"):  # same-site: e.g. another port
        headers = {"Origin": "null", "Sec-Fetch-Site": site}
        assert call(server, "POST", "/login", form=form, headers=headers).status == 403
    # What Chromium sends for the bank's own form (Referrer-Policy no-referrer: Origin null).
    chromium = {"Origin": "null", "Sec-Fetch-Site": "same-origin"}
    assert call(server, "POST", "/login", form=form, headers=chromium).status == 502  # API down
    own = call(server, "POST", "/login", form=form, headers={"Origin": server.bank.origin})
    assert own.status == 502
    key = server.bank.sessions.put(Session("alice", "en"))
    logout = call(
        server, "POST", "/logout", cookies={"bank_session": key},
        headers={"Origin": "https://evil.example"},
    )  # fmt: skip
    assert logout.status == 403
    assert server.bank.sessions.get(key) is not None


# ------------------------------------------------------------------------------- /continue


def test_continue_sends_the_browser_to_the_hosted_page_once(server: BankServer) -> None:
    hosted = "http://127.0.0.1:8080/#token=" + "k" * 43
    key = plant_login(server, hosted_url=hosted)
    first = call(server, "GET", "/continue", cookies={"bank_login": key})
    assert (first.status, first.headers["location"]) == (303, hosted)
    again = call(server, "GET", "/continue", cookies={"bank_login": key})
    assert (again.status, again.headers["location"]) == (303, "/")
    assert server.bank.logins.get(key) is not None  # still pending: the callback uses it
    nobody = call(server, "GET", "/continue")
    assert (nobody.status, nobody.headers["location"]) == (303, "/")


def test_the_continue_page_carries_no_client_token() -> None:
    page = templates.continue_page("en").decode()
    assert '<meta http-equiv="refresh" content="0;url=/continue">' in page
    assert "token" not in page


# ------------------------------------------------------------------------------- /callback


CLEARED = "bank_login=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"


@pytest.mark.parametrize(
    "query",
    [
        f"transaction_id={TRANSACTION_ID}&state={STATE}",
        f"transaction_id={TRANSACTION_ID}&state={STATE}&error=access_denied",
        "",
    ],
)
def test_a_callback_without_a_login_started_in_this_browser_is_refused(
    server: BankServer, query: str
) -> None:
    """Login CSRF: an attacker's own transaction planted in a victim's browser has no pending
    login here (no cookie, or another one)."""
    for cookie in (None, "", "not-a-login", "A" * 43):
        answer = callback(server, cookie, query)
        assert (answer.status, answer.outcome) == (400, "csrf")
        assert "This sign-in was not started here" in answer.text
        assert answer.cookies == [CLEARED]


@pytest.mark.parametrize(
    "state_query",
    [
        "state=" + "X" * 43,
        "state=" + STATE[:-1],
        "state=" + STATE + "x",
        "state=",
        "",
        f"state={STATE}&state={STATE}",
        "state=%C3%A9" + STATE,
        "state=" + STATE + "%0A",
        "state=%00",
    ],
)
def test_a_callback_whose_state_is_not_the_logins_is_refused_and_uses_the_login_up(
    server: BankServer, state_query: str
) -> None:
    key = plant_login(server)
    answer = callback(server, key, f"transaction_id={TRANSACTION_ID}&{state_query}")
    assert (answer.status, answer.outcome) == (400, "csrf")
    assert server.bank.logins.get(key) is None  # one try only
    retry = callback(server, key, f"transaction_id={TRANSACTION_ID}&state={STATE}")
    assert (retry.status, retry.outcome) == (400, "csrf")


def test_declining_on_the_hosted_page(server: BankServer) -> None:
    key = plant_login(server, locale="hi")
    answer = callback(
        server, key, f"transaction_id={TRANSACTION_ID}&state={STATE}&error=access_denied"
    )
    assert (answer.status, answer.outcome) == (200, "declined")
    assert '<html lang="hi">' in answer.text  # the language the person chose
    assert "आपने सत्यापन न करना चुना" in answer.text
    assert 'href="/"' in answer.text
    assert answer.cookies == [CLEARED]
    assert server.bank.logins.get(key) is None
    english = callback(
        server, plant_login(server), f"state={STATE}&error=access_denied"
    )  # no transaction id needed to decline
    assert english.outcome == "declined" and "You chose not to verify" in english.text


@pytest.mark.parametrize(
    "rest",
    ["", "transaction_id=", "transaction_id=short", "transaction_id=" + "T" * 23,
     "transaction_id=../../v1/x%2F%2F", f"transaction_id={TRANSACTION_ID}%0A",
     f"transaction_id={TRANSACTION_ID}&transaction_id={TRANSACTION_ID}",
     f"transaction_id={TRANSACTION_ID}&error=server_error"],
)  # fmt: skip
def test_a_callback_without_a_well_formed_transaction_id_is_not_trusted(
    server: BankServer, rest: str
) -> None:
    key = plant_login(server)
    answer = callback(server, key, f"state={STATE}&{rest}")
    assert (answer.status, answer.outcome) == (400, "untrusted")
    assert "The result could not be trusted" in answer.text
    assert server.bank.logins.get(key) is None


def test_a_well_formed_callback_redeems_server_to_server(server: BankServer) -> None:
    """Here the API refuses connections: unavailable, and the login is used up all the same."""
    key = plant_login(server)
    answer = callback(server, key, f"transaction_id={TRANSACTION_ID}&state={STATE}")
    assert (answer.status, answer.outcome) == (502, "unavailable")
    assert server.bank.sessions.get(key) is None
    assert server.bank.logins.get(key) is None
    assert not any(c.startswith("bank_session=") for c in answer.cookies)


# ------------------------------------------------------------------------------- signed in


def test_the_signed_in_page_escapes_the_user_and_signs_out(server: BankServer) -> None:
    key = server.bank.sessions.put(Session("<b>x</b>&\"'", "en"))
    home = call(server, "GET", "/", cookies={"bank_session": key})
    assert (home.status, home.outcome) == (200, "signed_in")
    assert (
        'Signed in as <strong id="signed-in-user">&lt;b&gt;x&lt;/b&gt;&amp;&quot;&#x27;</strong>'
        in home.text
    )
    assert '<form method="post" action="/logout">' in home.text
    out = call(server, "POST", "/logout", cookies={"bank_session": key})
    assert (out.status, out.headers["location"]) == (303, "/")
    assert out.cookies == ["bank_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"]
    assert server.bank.sessions.get(key) is None
    after = call(server, "GET", "/", cookies={"bank_session": key})
    assert 'data-page="sign-in"' in after.text and "signed-in-user" not in after.text


def test_the_signed_in_page_in_hindi(server: BankServer) -> None:
    key = server.bank.sessions.put(Session("alice", "hi"))
    home = call(server, "GET", "/", cookies={"bank_session": key, "bank_lang": "hi"})
    assert '<strong id="signed-in-user">alice</strong> के रूप में साइन इन किया गया' in home.text


@pytest.mark.parametrize(
    ("hint", "words"),
    [
        ("too_dark", "It was too dark"),
        ("no_face", "We could not see your face"),
        ("multiple_faces", "More than one face"),
        ("too_far", "too far from the camera"),
        ("moves_not_followed", "movements asked for"),
        ("locked", "too many attempts"),
        ("", ""),
        ("unknown_hint", ""),
    ],
)
def test_a_refusal_says_what_to_do_in_words(hint: str, words: str) -> None:
    page = templates.outcome_page("en", "refused", hint=hint, other_ways=True).decode()
    assert '<main data-outcome="refused">' in page
    assert "We could not verify it was you" in page
    assert 'href="/">Try again</a>' in page and 'href="/other-ways"' in page
    assert (words.lower() in page.lower()) if words else 'id="hint"' not in page
    assert hint == "" or f">{hint}<" not in page  # the words, not the code


@pytest.mark.parametrize(
    "outcome", ["signed_in", "refused", "csrf", "declined", "untrusted", "pending", "unavailable"]
)
def test_every_outcome_page_is_marked_for_machines(outcome: str) -> None:
    if outcome == "signed_in":
        page = templates.signed_in_page("en", "alice").decode()
    else:
        page = templates.outcome_page("hi", outcome).decode()
    assert f'<main data-outcome="{outcome}">' in page


# ------------------------------------------------------------------------------- state


def test_pending_logins_expire_and_are_bounded() -> None:
    now = [1000.0]
    store: Expiring[str] = Expiring(LOGIN_TTL_S, 3, clock=lambda: now[0])
    first = store.put("first")
    assert len(first) == 43 and store.get(first) == "first"
    now[0] += LOGIN_TTL_S - 1
    assert store.get(first) == "first"
    now[0] += 1
    assert store.get(first) is None and len(store) == 0
    keys = [store.put(str(i)) for i in range(5)]
    assert len(store) == 3
    assert [store.get(k) for k in keys] == [None, None, "2", "3", "4"]  # the oldest went
    assert store.pop(keys[2]) == "2" and store.pop(keys[2]) is None


def test_cookies_are_secure_behind_https(refusing_port: int) -> None:
    rp = RelyingPartyClient(f"http://127.0.0.1:{refusing_port}", "demo-bank", SECRET)
    assert Bank("https://bank.example/", rp).cookie("bank_session", "v") == (
        "Set-Cookie",
        "bank_session=v; Path=/; HttpOnly; SameSite=Lax; Secure",
    )
    with pytest.raises(ValueError):
        Bank("javascript:alert(1)", rp)


# ------------------------------------------------------------------------------- command line


def test_the_command_line_serves_until_sigterm_and_never_shows_the_secret(
    tmp_path: Path, refusing_port: int
) -> None:
    secret_file = tmp_path / "rp-demo-bank.json"
    secret_file.write_text(json.dumps({"client_secret": SECRET}))
    secret_file.chmod(0o600)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO / "layers/secureface"), str(REPO)]),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "examples.relying_party", "--port", "0",
         "--api", f"http://127.0.0.1:{refusing_port}", "--client-id", "demo-bank",
         "--secret-file", str(secret_file)],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        assert url, line
        connection = http.client.HTTPConnection("127.0.0.1", int(url.group(1)), timeout=10)
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        connection.request("POST", "/login", body="username=alice&locale=en", headers=form)
        assert connection.getresponse().status == 502
        connection.close()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert SECRET not in line + out + err
    assert "POST /login 502" in err


def test_the_command_line_refuses_an_unreadable_secret_file(tmp_path: Path) -> None:
    secret_file = tmp_path / "rp.json"
    secret_file.write_text('{"not_the_secret": "x"}')
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO / "layers/secureface"), str(REPO)]),
    }
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "examples.relying_party", "--port", "0", "--api",
         "http://127.0.0.1:1", "--client-id", "demo-bank", "--secret-file", str(secret_file)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert done.returncode == 2
    assert "cannot read a client secret from" in done.stderr
    assert time.monotonic() - started < 30
