"""Settings: defaults, overridden by ``INFOLINIA_*`` environment variables, overridden by command-line flags."""

from __future__ import annotations

import dataclasses
import math
import os
import re
from dataclasses import dataclass, field
from typing import Any

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///infolinia.db"
KB_SEMANTIC = ("auto", "true", "false")
ORIGIN = re.compile(r"https?://[a-z0-9.\-]+(:[0-9]{1,5})?|https?://\[[0-9a-f:.]+\](:[0-9]{1,5})?")


class SettingsError(ValueError):
    pass


def database_url_from_env(explicit: str | None = None) -> str:
    """The database URL: an explicit value, else ``INFOLINIA_DATABASE_URL``, else the SQLite file."""
    return explicit or os.environ.get("INFOLINIA_DATABASE_URL") or DEFAULT_DATABASE_URL


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=database_url_from_env)
    host: str = "127.0.0.1"
    http_port: int = 8080
    #: SIP/UDP port; 0 picks a free one (tests)
    sip_port: int = 5060
    #: also take SIP over TCP on the same port (RFC 3261 §18)
    sip_tcp: bool = True
    #: take e-mail over SMTP (``channels/email``)
    smtp: bool = True
    #: SMTP port of the listener; 0 picks a free one (tests)
    smtp_port: int = 2525
    #: the largest message the listener takes (announced in EHLO SIZE; larger ones get 552)
    smtp_max_bytes: int = 10_485_760
    #: the largest attachment of an inbound e-mail that is kept as a file
    email_attachment_max_bytes: int = 10_485_760
    #: UDP ports for call audio (RTP on the even port, RTCP on the odd one above it), ``LOW-HIGH``
    rtp_ports: str = "10000-20000"
    #: folder for generated prompts, recordings and voicemail (created on start)
    data_dir: str = "data"
    #: treat every tenant as open around the clock (demos and tests at any hour)
    always_open: bool = False
    #: lifetime of a browser session (and of the bearer token the login returns)
    session_hours: float = 12.0
    #: mark the session cookie Secure (set it when users reach the server over HTTPS)
    cookie_secure: bool = False
    #: believe X-Forwarded-For from this comma-separated list of proxy addresses (empty: believe nobody)
    trusted_proxies: str = ""
    max_body_bytes: int = 1_048_576
    #: failed logins allowed per e-mail and address within the window (six times as many per address)
    login_attempts: int = 5
    login_window_s: float = 300.0
    min_password_length: int = 8
    #: origins (``scheme://host[:port]``, comma-separated) whose pages may open WebSockets, besides the server's own
    allowed_origins: str = ""
    #: chats a visitor's address may start (and messages or callbacks it may leave) through the widget in 10 minutes
    chat_starts_per_ip: int = 20
    #: seconds of silence after which an event stream sends a keep-alive
    events_keepalive_s: float = 15.0
    #: events held for one slow stream subscriber before it is told ``overflow`` and closed
    events_buffer: int = 10_000
    #: check every event against its schema before publishing it (raises on a mismatch: for tests and debugging)
    validate_events: bool = False
    #: log the event loop's stack when it is held this many milliseconds (0: off; see docs/operations.md)
    trace_stalls_ms: float = 0.0
    #: semantic search in the knowledge base: ``auto`` (on when the ``semantic`` extra is installed), ``true``
    #: (it must be: start fails without it), ``false``
    kb_semantic: str = "auto"

    def __post_init__(self) -> None:
        if not 1 <= self.http_port <= 65535:
            raise SettingsError(f"http_port must be a port number (1-65535), not {self.http_port}")
        if not 0 <= self.sip_port <= 65535:
            raise SettingsError(f"sip_port must be a port number (0-65535, 0: any free one), not {self.sip_port}")
        if not 0 <= self.smtp_port <= 65535:
            raise SettingsError(f"smtp_port must be a port number (0-65535, 0: any free one), not {self.smtp_port}")
        positive = (
            "smtp_max_bytes", "email_attachment_max_bytes",
            "session_hours", "max_body_bytes", "login_attempts", "login_window_s", "events_keepalive_s",
            "events_buffer", "chat_starts_per_ip",
        )  # fmt: skip
        for name in positive:
            value = getattr(self, name)
            if not (value > 0 and math.isfinite(value)):
                raise SettingsError(f"{name} must be a positive number, not {value}")
        if not (self.trace_stalls_ms >= 0 and math.isfinite(self.trace_stalls_ms)):
            raise SettingsError(f"trace_stalls_ms must be 0 (off) or a positive number, not {self.trace_stalls_ms}")
        low, high = self.rtp_port_range
        if not (1024 <= low < high <= 65535 and high - low >= 3):
            raise SettingsError(f"rtp_ports must be LOW-HIGH in 1024-65535, 4 ports at least, not {self.rtp_ports!r}")
        if self.kb_semantic not in KB_SEMANTIC:
            raise SettingsError(f"kb_semantic must be one of {', '.join(KB_SEMANTIC)}, not {self.kb_semantic!r}")
        if not self.data_dir.strip():
            raise SettingsError("data_dir must name a folder")
        if not 1 <= self.min_password_length <= 256:
            raise SettingsError(f"min_password_length must be 1-256, not {self.min_password_length}")
        for origin in self.origins:
            if not ORIGIN.fullmatch(origin):
                raise SettingsError(f"allowed_origins: {origin!r} is not scheme://host[:port]")

    @property
    def rtp_port_range(self) -> tuple[int, int]:
        """``rtp_ports`` as (low, high), both included; (0, 0) when it does not read as two numbers."""
        low, sep, high = self.rtp_ports.partition("-")
        if not sep or not low.strip().isdigit() or not high.strip().isdigit():
            return (0, 0)
        return (int(low), int(high))

    @property
    def origins(self) -> frozenset[str]:
        """The allowed origins, lower-case, without a trailing slash."""
        return frozenset(o.strip().lower().rstrip("/") for o in self.allowed_origins.split(",") if o.strip())

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then ``INFOLINIA_<FIELD>`` variables, then ``overrides`` (flags); bad values are named."""
        env = dict(os.environ) if env is None else env
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = env.get(f"INFOLINIA_{f.name.upper()}")
            if raw is None or raw == "":
                continue
            values[f.name] = _parse(f.name, f.type, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def _parse(name: str, kind: object, raw: str) -> Any:
    try:
        if kind in (bool, "bool"):
            if raw.lower() in ("1", "true", "yes", "on"):
                return True
            if raw.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if kind in (int, "int"):
            return int(raw)
        if kind in (float, "float"):
            return float(raw)
    except ValueError:
        raise SettingsError(f"INFOLINIA_{name.upper()}={raw!r} is not a valid {kind}") from None
    return raw
