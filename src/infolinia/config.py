"""Settings read from flags and the environment (``INFOLINIA_*``)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///infolinia.db"


def database_url_from_env(explicit: str | None = None) -> str:
    """The database URL: an explicit value, else ``INFOLINIA_DATABASE_URL``, else the SQLite file."""
    return explicit or os.environ.get("INFOLINIA_DATABASE_URL") or DEFAULT_DATABASE_URL


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=database_url_from_env)
    host: str = "127.0.0.1"
    http_port: int = 8080
    sip_port: int = 5060
    session_hours: float = 12.0
    cookie_secure: bool = False
    max_body_bytes: int = 1_048_576
    login_attempts: int = 5
    login_window_s: float = 300.0
