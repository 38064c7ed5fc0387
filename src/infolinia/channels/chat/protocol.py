"""The chat's WebSocket frames, pure: what a client may send (checked strictly: a malformed frame closes the socket
with ``MALFORMED``, a wrong token with ``UNAUTHORIZED``), and the close codes. Both sides speak JSON text frames.

Customer → server: ``hello`` (first: ``chat``, ``token``, ``after``), ``message`` (``client_id``, ``text``),
``typing``, ``end``, ``ping``. Agent → server: ``open`` (``chat``, ``after``), ``message`` (``chat``, ``client_id``,
``text``), ``typing`` (``chat``), ``end`` (``chat``), ``ping``. ``after`` is ``{"customer": n, "agent": m}``: the last
sequence number of each sender's lines the client saw; the server sends the lines above them again.

Server → client: ``ready``, ``message`` (``chat``, ``sender``, ``seq``, ``client_id``, ``text``, ``at``, ``file``),
``ack`` (``client_id``, ``seq``: the line is committed; the socket it came from gets this instead of the
``message``), ``typing``, ``state`` (``waiting`` with ``position`` and
``estimated_wait_s``, ``active`` with ``agent``, ``ended`` with ``by``), ``chat`` (to an agent: a chat opened for
them), ``error`` (``code``, ``message``, ``client_id``: the frame was refused, the socket stays; ``rate_limited``
also has ``retry_after_s``), ``pong``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

MALFORMED = 4400  # not a JSON object of a known type with the fields it needs
UNAUTHORIZED = 4401  # no hello first, or an unknown chat or wrong token
FORBIDDEN = 4403  # the page's origin may not embed the tenant's widget
GONE = 4410  # the chat ended
MAX_FRAME = 16_384  # characters of one frame
MAX_TEXT = 4000  # characters of one line
CLIENT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
SENDERS = ("customer", "agent")


class Malformed(ValueError):
    pass


@dataclass(frozen=True)
class Frame:
    type: str
    chat: int | None = None
    token: str | None = None
    client_id: str | None = None
    text: str | None = None
    after: tuple[int, int] = (0, 0)  # customer, agent


TYPES = {
    "customer": {"hello": {"chat", "token", "after"}, "message": {"client_id", "text"}, "typing": set(),
                 "end": set(), "ping": set()},
    "agent": {"open": {"chat", "after"}, "message": {"chat", "client_id", "text"}, "typing": {"chat"},
              "end": {"chat"}, "ping": set()},
}  # fmt: skip
REQUIRED = {"hello": {"chat", "token"}, "message": {"client_id", "text"}, "open": {"chat"}}


def parse(side: str, raw: str | None) -> Frame:
    """A frame from ``side`` (``customer`` or ``agent``), or Malformed saying what is wrong."""
    if raw is None:
        raise Malformed("frames are JSON text, not binary")
    if len(raw) > MAX_FRAME:
        raise Malformed(f"a frame is at most {MAX_FRAME} characters")
    try:
        body: Any = json.loads(raw)
    except ValueError:
        raise Malformed("not JSON") from None
    if not isinstance(body, dict) or not isinstance(body.get("type"), str):
        raise Malformed('expected a JSON object with a "type"')
    kind = body["type"]
    allowed = TYPES[side].get(kind)
    if allowed is None:
        raise Malformed(f"unknown frame type {kind[:40]!r}")
    extra = set(body) - allowed - {"type"}
    if extra:
        raise Malformed(f"unknown field(s) {', '.join(sorted(extra))[:80]} in {kind}")
    needed = REQUIRED.get(kind, set()) | ({"chat"} if side == "agent" and "chat" in allowed else set())
    missing = needed - set(body)
    if missing:
        raise Malformed(f"{kind} needs {', '.join(sorted(missing))}")
    chat = body.get("chat")
    if chat is not None and (type(chat) is not int or not 0 < chat < 2**31):
        raise Malformed("chat must be a positive integer")
    token = body.get("token")
    if token is not None and (not isinstance(token, str) or not 0 < len(token) <= 200):
        raise Malformed("token must be a string")
    client_id = body.get("client_id")
    if client_id is not None and (not isinstance(client_id, str) or not CLIENT_ID.match(client_id)):
        raise Malformed("client_id must be 1-64 letters, digits or _.:-")
    text = body.get("text")
    if text is not None:
        if not isinstance(text, str) or not text.strip() or "\x00" in text:
            raise Malformed("text must be a non-empty string without NUL")
        if len(text) > MAX_TEXT:
            raise Malformed(f"a line is at most {MAX_TEXT} characters")
    return Frame(kind, chat, token, client_id, text, _after(body.get("after")))


def _after(raw: Any) -> tuple[int, int]:
    if raw is None:
        return (0, 0)
    if not isinstance(raw, dict) or set(raw) - set(SENDERS):
        raise Malformed('after must be {"customer": n, "agent": m}')
    values = [raw.get(s, 0) for s in SENDERS]
    if any(type(v) is not int or not 0 <= v < 2**31 for v in values):
        raise Malformed("after's sequence numbers must be integers >= 0")
    return (values[0], values[1])


class LineBudget:
    """How many lines a socket may send: ``per_s`` a second on average, up to ``burst`` at once (a token bucket).
    A line over the budget is refused (not stored, not acknowledged) with the seconds until one more is allowed."""

    def __init__(self, per_s: float, burst: int) -> None:
        self.per_s, self.burst = per_s, burst
        self.tokens = float(burst)
        self.at: float | None = None

    def take(self, now: float) -> float | None:
        """None: the line may go (counted); else the seconds to wait before sending it again."""
        if self.at is not None:
            self.tokens = min(float(self.burst), self.tokens + (now - self.at) * self.per_s)
        self.at = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return None
        return (1.0 - self.tokens) / self.per_s


def dumps(frame: dict[str, Any]) -> str:
    return json.dumps(frame, separators=(",", ":"), default=str)
