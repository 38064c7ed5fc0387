"""The one error type of the SDP layer, and its limits."""

from __future__ import annotations

MAX_SDP_SIZE = 16 * 1024
"""Bytes in one session description (a Linphone offer with every codec is under 2 KiB)."""

MAX_LINES = 512
"""Lines in one session description."""

MAX_MEDIA = 16
"""m= lines in one session description."""

MAX_FORMATS = 64
"""Formats (payload types) on one m= line."""


class SdpError(ValueError):
    """A malformed or over-limit session description. A request carrying one is answered 400 (or 488)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
