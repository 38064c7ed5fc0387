"""The one error type of the SIP message layer."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .message import Request


class SipError(ValueError):
    """Malformed or over-limit SIP input.

    ``status`` is the response the peer is owed: 400 (or 505, 416, 513) when the input was a request whose start
    line parsed, ``None`` when nothing may be answered (a bad response, or bytes that are not a request at all).
    ``request`` is the request as far as it parsed, set when a response is due and its headers were readable, so
    that a transport can build the answer from its Via, From, To, Call-ID and CSeq.
    """

    def __init__(self, reason: str, *, status: int | None = None, request: Request | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.request = request

    @property
    def response_due(self) -> bool:
        return self.status is not None
