"""Where a caller's credentials come from: the same for HTTP requests and WebSocket handshakes."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import HTTPConnection

SESSION_COOKIE = "infolinia_session"
TENANT_HEADER = "X-Tenant"

__all__ = ["SESSION_COOKIE", "TENANT_HEADER", "Credentials", "bearer_secret", "credentials"]


@dataclass(frozen=True)
class Credentials:
    """What a caller presents: a bearer secret (API token or session) and, for a platform admin, a tenant slug."""

    secret: str | None
    tenant: str | None = None


def bearer_secret(conn: HTTPConnection, *, cookie: bool = True) -> str | None:
    header = conn.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return conn.cookies.get(SESSION_COOKIE) if cookie else None


def credentials(conn: HTTPConnection, *, cookie: bool = True) -> Credentials:
    """From the headers: ``Authorization: Bearer`` (else, if ``cookie``, the session cookie) and ``X-Tenant``."""
    return Credentials(bearer_secret(conn, cookie=cookie), conn.headers.get(TENANT_HEADER))
