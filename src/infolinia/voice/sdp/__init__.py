"""SDP (RFC 4566) and the offer/answer model (RFC 3264) for audio calls: pure, no I/O.

``parse_sdp(bytes)`` gives a ``SessionDescription``, ``bytes(description)`` the wire form back; every malformed
or over-limit input raises ``SdpError``. ``answer_offer(offer, Local(...))`` gives our ``Answer`` or
``NotAcceptable`` (488).
"""

from __future__ import annotations

from .errors import MAX_FORMATS, MAX_LINES, MAX_MEDIA, MAX_SDP_SIZE, SdpError
from .offer_answer import Accepted, Answer, Local, NotAcceptable, answer_offer, make_offer, read_answer
from .session import Connection, Media, Origin, RtpMap, SessionDescription, parse_rtpmap, parse_sdp

__all__ = [
    "MAX_FORMATS",
    "MAX_LINES",
    "MAX_MEDIA",
    "MAX_SDP_SIZE",
    "Accepted",
    "Answer",
    "Connection",
    "Local",
    "Media",
    "NotAcceptable",
    "Origin",
    "RtpMap",
    "SdpError",
    "SessionDescription",
    "answer_offer",
    "make_offer",
    "parse_rtpmap",
    "parse_sdp",
    "read_answer",
]
