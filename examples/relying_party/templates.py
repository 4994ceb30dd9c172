"""Demo Bank's pages: the strings in English and Hindi, the HTML around them, the stylesheet.

Every value put into a page goes through :func:`html.escape` here; the callers pass plain text.
"""

from __future__ import annotations

from html import escape

LANGUAGES = ("en", "hi")
LANGUAGE_NAMES = {"en": "English", "hi": "हिन्दी"}

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "bank": "Demo Bank",
        "demo_note": "A demonstration bank: no real accounts, no real money.",
        "sign_in_title": "Sign in",
        "username": "Username",
        "language": "Language",
        "sign_in_button": "Sign in with your face",
        "invalid_username": (
            "Enter your username: up to 64 letters, digits and . _ @ -, starting with a letter "
            "or a digit."
        ),
        "invalid_language": "Choose English or Hindi.",
        "signed_in_as": "Signed in as {user}",
        "signed_in_with": "You confirmed it was you with your face.",
        "sign_out": "Sign out",
        "continue_title": "Opening SecureFace…",
        "continue_body": "We are taking you to SecureFace to confirm it is you.",
        "continue_link": "Continue",
        "csrf_title": "This sign-in was not started here",
        "csrf_body": (
            "For your safety we did not continue it and you are not signed in. If you were "
            "signing in, start again from this page."
        ),
        "declined_title": "You chose not to verify",
        "declined_body": "Nothing was checked and you are not signed in.",
        "refused_title": "We could not verify it was you",
        "refused_body": "You are not signed in.",
        "pending_title": "Face verification is not finished",
        "pending_body": "You are not signed in. Start again when you are ready.",
        "untrusted_title": "The result could not be trusted",
        "untrusted_body": "You are not signed in. Start again from this page.",
        "unavailable_title": "Face sign-in is unavailable right now",
        "unavailable_body": "Try again in a few minutes, or use another way to sign in.",
        "try_again": "Try again",
        "back": "Back to sign in",
        "other_ways_link": "Other ways to sign in",
        "other_ways_title": "Other ways to sign in",
        "other_ways_body": (
            "Visit any branch with a photo ID, or call us on 1800-000-0000 (a demo number). "
            "Signing in with your face is always optional."
        ),
        "not_found_title": "Page not found",
        "method_title": "This page cannot be used that way",
        "error_title": "Something went wrong",
        "error_body": "Start again from the sign-in page.",
    },
    "hi": {
        "bank": "डेमो बैंक",
        "demo_note": "यह एक प्रदर्शन बैंक है: कोई असली खाता नहीं, कोई असली पैसा नहीं।",
        "sign_in_title": "साइन इन करें",
        "username": "उपयोगकर्ता नाम",
        "language": "भाषा",
        "sign_in_button": "अपने चेहरे से साइन इन करें",
        "invalid_username": (
            "अपना उपयोगकर्ता नाम दर्ज करें: अधिकतम 64 अक्षर, अंक और . _ @ -, जो किसी अक्षर या अंक से शुरू हो।"
        ),
        "invalid_language": "अंग्रेज़ी या हिन्दी चुनें।",
        "signed_in_as": "{user} के रूप में साइन इन किया गया",
        "signed_in_with": "आपने अपने चेहरे से पुष्टि की कि यह आप ही हैं।",
        "sign_out": "साइन आउट करें",
        "continue_title": "SecureFace खोला जा रहा है…",
        "continue_body": "यह पुष्टि करने के लिए कि यह आप ही हैं, हम आपको SecureFace पर ले जा रहे हैं।",
        "continue_link": "जारी रखें",
        "csrf_title": "यह साइन-इन यहाँ से शुरू नहीं किया गया था",
        "csrf_body": (
            "आपकी सुरक्षा के लिए हमने इसे आगे नहीं बढ़ाया और आप साइन इन नहीं हैं। अगर आप साइन इन "
            "कर रहे थे, तो इस पेज से फिर से शुरू करें।"
        ),
        "declined_title": "आपने सत्यापन न करना चुना",
        "declined_body": "कुछ भी जाँचा नहीं गया और आप साइन इन नहीं हैं।",
        "refused_title": "हम यह सत्यापित नहीं कर सके कि यह आप ही हैं",
        "refused_body": "आप साइन इन नहीं हैं।",
        "pending_title": "चेहरा सत्यापन पूरा नहीं हुआ",
        "pending_body": "आप साइन इन नहीं हैं। तैयार होने पर फिर से शुरू करें।",
        "untrusted_title": "परिणाम पर भरोसा नहीं किया जा सका",
        "untrusted_body": "आप साइन इन नहीं हैं। इस पेज से फिर से शुरू करें।",
        "unavailable_title": "चेहरे से साइन-इन अभी उपलब्ध नहीं है",
        "unavailable_body": "कुछ मिनट बाद फिर से कोशिश करें, या साइन इन करने का कोई और तरीका अपनाएँ।",
        "try_again": "फिर से कोशिश करें",
        "back": "साइन इन पर वापस जाएँ",
        "other_ways_link": "साइन इन करने के अन्य तरीके",
        "other_ways_title": "साइन इन करने के अन्य तरीके",
        "other_ways_body": (
            "फ़ोटो पहचान-पत्र के साथ किसी भी शाखा में आएँ, या हमें 1800-000-0000 (डेमो नंबर) पर "
            "कॉल करें। चेहरे से साइन इन करना हमेशा वैकल्पिक है।"
        ),
        "not_found_title": "पेज नहीं मिला",
        "method_title": "इस पेज का इस तरह उपयोग नहीं किया जा सकता",
        "error_title": "कुछ गलत हो गया",
        "error_body": "साइन-इन पेज से फिर से शुरू करें।",
    },
}

#: What the person can do about a refusal, in words (the result's ``hint``; ``locked`` is the
#: decision itself). Never anything like "the face almost matched".
HINTS: dict[str, dict[str, str]] = {
    "en": {
        "no_face": "We could not see your face. Face the camera and keep your face in the frame.",
        "multiple_faces": "More than one face was in view. Make sure only you are in front of "
        "the camera.",
        "too_dark": "It was too dark. Turn on a light or face a window.",
        "too_far": "You were too far from the camera. Come closer.",
        "moves_not_followed": "The movements asked for were not followed. Follow the prompts "
        "on the screen.",
        "locked": "There were too many attempts, so face sign-in is paused for a while. Use "
        "another way to sign in.",
    },
    "hi": {
        "no_face": "हमें आपका चेहरा नहीं दिखा। कैमरे की ओर देखें और चेहरा फ़्रेम में रखें।",
        "multiple_faces": "एक से अधिक चेहरे दिखे। ध्यान दें कि कैमरे के सामने केवल आप हों।",
        "too_dark": "रोशनी बहुत कम थी। लाइट जलाएँ या खिड़की की ओर मुँह करें।",
        "too_far": "आप कैमरे से बहुत दूर थे। पास आएँ।",
        "moves_not_followed": "बताई गई हरकतें नहीं की गईं। स्क्रीन पर दिए निर्देशों का पालन करें।",
        "locked": "बहुत अधिक प्रयास हुए, इसलिए चेहरे से साइन-इन कुछ समय के लिए रोका गया है। साइन "
        "इन करने का कोई और तरीका अपनाएँ।",
    },
}

STYLE = b"""\
body { font-family: system-ui, sans-serif; margin: 0; color: #1b2430; background: #f4f6f9; }
header { display: flex; justify-content: space-between; align-items: center;
         padding: 0.8rem 1.5rem; background: #0b3d6b; color: #fff; }
header a { color: #fff; text-decoration: none; }
.brand { font-weight: 700; font-size: 1.2rem; }
nav a { margin-left: 1rem; }
main { max-width: 32rem; margin: 2rem auto; padding: 1.5rem; background: #fff;
       border-radius: 0.5rem; box-shadow: 0 1px 4px rgba(0, 0, 0, 0.12); }
label { display: block; margin: 1rem 0 0.3rem; }
input, select, button { font: inherit; padding: 0.5rem; width: 100%; box-sizing: border-box; }
button { margin-top: 1.2rem; background: #0b3d6b; color: #fff; border: 0; border-radius: 0.3rem;
         cursor: pointer; }
.error, .hint { color: #8a1c1c; }
.note { color: #5a6472; font-size: 0.9rem; }
.links a { margin-right: 1rem; }
"""


def text(lang: str, key: str) -> str:
    """The plain-text string ``key`` in ``lang`` (English when ``lang`` is unknown)."""
    return STRINGS.get(lang, STRINGS["en"])[key]


def page(
    lang: str,
    title: str,
    body: str,
    *,
    main_attrs: str = "",
    head: str = "",
) -> bytes:
    """A whole page. ``title`` is plain text; ``body``, ``main_attrs`` and ``head`` are HTML the
    callers built with :func:`escape`."""
    nav = " ".join(
        f'<a href="/?lang={code}" lang="{code}" hreflang="{code}">{escape(name)}</a>'
        for code, name in LANGUAGE_NAMES.items()
    )
    html = f"""<!doctype html>
<html lang="{escape(lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} · {escape(text(lang, "bank"))}</title>
<link rel="stylesheet" href="/style.css">
{head}</head>
<body>
<header><a class="brand" href="/">{escape(text(lang, "bank"))}</a><nav>{nav}</nav></header>
<main{main_attrs}>
<h1>{escape(title)}</h1>
{body}
</main>
</body>
</html>
"""
    return html.encode("utf-8")


def sign_in_page(lang: str, *, username: str = "", error: str = "") -> bytes:
    """The sign-in form (``error``: a plain-text message shown above it)."""
    options = "".join(
        f'<option value="{code}"{" selected" if code == lang else ""} lang="{code}">'
        f"{escape(name)}</option>"
        for code, name in LANGUAGE_NAMES.items()
    )
    message = f'<p class="error" id="error" role="alert">{escape(error)}</p>\n' if error else ""
    body = f"""{message}<form method="post" action="/login">
<label for="username">{escape(text(lang, "username"))}</label>
<input id="username" name="username" value="{escape(username)}" required maxlength="64"
 autocomplete="username" autocapitalize="none" spellcheck="false">
<label for="locale">{escape(text(lang, "language"))}</label>
<select id="locale" name="locale">{options}</select>
<button type="submit">{escape(text(lang, "sign_in_button"))}</button>
</form>
<p class="links"><a href="/other-ways">{escape(text(lang, "other_ways_link"))}</a></p>
<p class="note">{escape(text(lang, "demo_note"))}</p>"""
    return page(lang, text(lang, "sign_in_title"), body, main_attrs=' data-page="sign-in"')


def signed_in_page(lang: str, user: str) -> bytes:
    """The home page of a signed-in person."""
    who = escape(text(lang, "signed_in_as")).replace(
        "{user}", f'<strong id="signed-in-user">{escape(user)}</strong>'
    )
    body = f"""<p>{who}</p>
<p>{escape(text(lang, "signed_in_with"))}</p>
<form method="post" action="/logout"><button type="submit">{escape(text(lang, "sign_out"))}</button>
</form>
<p class="note">{escape(text(lang, "demo_note"))}</p>"""
    return page(lang, text(lang, "bank"), body, main_attrs=' data-outcome="signed_in"')


def continue_page(lang: str) -> bytes:
    """Sent after the sign-in form: it moves on to ``/continue`` (see app.py for why)."""
    body = f"""<p>{escape(text(lang, "continue_body"))}</p>
<p><a href="/continue">{escape(text(lang, "continue_link"))}</a></p>"""
    head = '<meta http-equiv="refresh" content="0;url=/continue">\n'
    return page(
        lang, text(lang, "continue_title"), body, main_attrs=' data-page="continue"', head=head
    )


def outcome_page(lang: str, outcome: str, *, hint: str = "", other_ways: bool = False) -> bytes:
    """A result page: ``<main data-outcome="…">`` with the outcome's title and text, the hint
    (a key of :data:`HINTS`) in words, a link back to sign in and, if asked, to other ways."""
    hint_text = HINTS.get(lang, HINTS["en"]).get(hint, "")
    parts = [f"<p>{escape(text(lang, outcome + '_body'))}</p>"]
    if hint_text:
        parts.append(f'<p class="hint" id="hint">{escape(hint_text)}</p>')
    again = "try_again" if outcome in ("refused", "pending", "unavailable") else "back"
    links = [f'<a href="/">{escape(text(lang, again))}</a>']
    if other_ways:
        links.append(f'<a href="/other-ways">{escape(text(lang, "other_ways_link"))}</a>')
    parts.append(f'<p class="links">{"".join(links)}</p>')
    return page(
        lang,
        text(lang, outcome + "_title"),
        "\n".join(parts),
        main_attrs=f' data-outcome="{escape(outcome)}"',
    )


def other_ways_page(lang: str) -> bytes:
    """The bank's alternative path (the hosted page links here as ``alternative_url``)."""
    body = f"""<p>{escape(text(lang, "other_ways_body"))}</p>
<p class="links"><a href="/">{escape(text(lang, "back"))}</a></p>"""
    return page(lang, text(lang, "other_ways_title"), body, main_attrs=' data-page="other-ways"')


def error_page(lang: str, title_key: str) -> bytes:
    """404, 405, 413 and the like."""
    body = f'<p><a href="/">{escape(text(lang, "back"))}</a></p>'
    return page(lang, text(lang, title_key), body, main_attrs=' data-page="error"')
