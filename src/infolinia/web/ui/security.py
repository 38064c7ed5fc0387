"""What every UI page carries for safety: response headers (a Content-Security-Policy that allows only our own
scripts, styles and images, and no framing), and CSRF tokens for the forms posted with the session cookie.

A logged-in form carries a token derived from the session secret (HMAC), so it cannot be made on another site and
dies with the session. The login form, before any session, uses a double-submit token: a random value in a
cookie and the same in the form.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Final

__all__ = ["CSRF_COOKIE", "CSRF_FIELD", "HEADERS", "login_token", "same", "session_token"]

HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
CSRF_FIELD: Final = "csrf"
CSRF_COOKIE: Final = "infolinia_csrf"


def session_token(session_secret: str) -> str:
    """The CSRF token of the forms of one session."""
    return hmac.new(session_secret.encode(), b"infolinia-ui-csrf", hashlib.sha256).hexdigest()


def login_token() -> str:
    return secrets.token_urlsafe(24)


def same(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))
