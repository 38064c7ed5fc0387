"""RFC 4733 digits to send, pure: one frame per media clock tick, a pause between presses.

Each press lasts `DIGIT_MS` (a start packet with the marker, updates every 20 ms, the end packet three times, as
`dtmf_frames` lists them) and starts at the timestamp its first tick has on the leg's stream; `GAP_TICKS` ticks
of ordinary audio follow before the next press.
"""

from __future__ import annotations

from collections import deque
from typing import Final

from infolinia.voice.media.errors import MediaError
from infolinia.voice.rtp import DIGITS, DtmfFrame, dtmf_frames

DIGIT_MS: Final = 100
GAP_TICKS: Final = 5  # 100 ms between presses


class DigitSender:
    __slots__ = ("_frames", "_gap", "_index", "_pending", "active", "sending")

    def __init__(self) -> None:
        self._pending: deque[str] = deque()
        self._frames: list[DtmfFrame] = []
        self._index = 0
        self._gap = 0
        self.active = False  # presses queued, one going out, or the pause after one: `tick` has work
        self.sending = False  # a press is going out: its ticks carry events, not audio

    def add(self, digits: str) -> None:
        bad = [d for d in digits if d not in DIGITS]
        if bad:
            raise MediaError(f"not DTMF digits: {''.join(bad)!r} (0-9, *, #, A-D)")
        self._pending.extend(digits)
        self.active = bool(self._pending) or self.active

    def clear(self) -> None:
        self._pending.clear()
        self._frames = []
        self._index = self._gap = 0
        self.active = self.sending = False

    def tick(self, timestamp: int) -> DtmfFrame | None:
        """The event frame for this tick, or None when the tick carries audio; `timestamp` is the tick's own."""
        if self._index < len(self._frames):
            self._index += 1
            return self._frames[self._index - 1]
        self.sending = False
        if self._gap:
            self._gap -= 1
            return None
        if not self._pending:
            self.active = False
            return None
        self._frames = dtmf_frames(self._pending.popleft(), timestamp, duration_ms=DIGIT_MS)
        self._index = 1
        self._gap = GAP_TICKS
        self.sending = True
        return self._frames[0]
