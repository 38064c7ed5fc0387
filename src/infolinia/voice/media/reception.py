"""Reception accounting of one incoming RTP stream, pure: loss, duplicates and interarrival jitter.

After RFC 3550 appendix A.1 and A.8, simplified where a media server can afford it:

- The extended highest sequence number counts wraps (cycles). A packet up to `MAX_DROPOUT` ahead of the highest
  moves it on; one up to `MAX_MISORDER` behind is late (or a duplicate); a larger jump is taken as a restart of
  the sender once the packet after it confirms it (two in a row), as A.1 does.
- Lost = expected - received, where expected runs from the first sequence number to the extended highest;
  duplicates are recognised in a window of the last 64 sequence numbers, counted, and not received twice.
  A new SSRC or a restart keeps the loss counted so far and starts a fresh count.
- Jitter (A.8): J += (|D| - J) / 16, D the difference of relative transit times of two audio packets in
  timestamp units. Telephone events carry their press's start timestamp in every packet, so they do not count.
"""

from __future__ import annotations

from typing import Final

MAX_DROPOUT: Final = 3000
MAX_MISORDER: Final = 100
WINDOW: Final = 64
_WINDOW_MASK: Final = (1 << WINDOW) - 1
_HALF32: Final = 1 << 31
_MASK32: Final = 0xFFFFFFFF


class Reception:
    __slots__ = (
        "_arrival",
        "_bad",
        "_base",
        "_cycles",
        "_highest",
        "_lost_before",
        "_received",
        "_ssrc",
        "_timestamp",
        "_window",
        "duplicates",
        "jitter",
    )

    def __init__(self) -> None:
        self._ssrc: int | None = None
        self._base = self._highest = self._cycles = self._received = self._lost_before = 0
        self._window = 0
        self._bad = -1
        self._arrival: float | None = None
        self._timestamp = 0
        self.duplicates = 0
        self.jitter = 0.0  # timestamp units

    @property
    def lost(self) -> int:
        """Packets lost so far (negative when more arrived than were expected, as RFC 3550 allows)."""
        if self._ssrc is None:
            return self._lost_before
        expected = self._cycles + self._highest - self._base + 1
        return self._lost_before + expected - self._received

    def packet(self, ssrc: int, sequence: int, timestamp: int, arrival: float, audio: bool) -> bool:
        """Account one packet; False when it is a duplicate. `arrival` is in timestamp units (seconds * rate)."""
        if ssrc != self._ssrc:
            self._restart(ssrc, sequence)
        else:
            delta = (sequence - self._highest) & 0xFFFF
            if delta == 0:
                self.duplicates += 1
                return False
            if delta < MAX_DROPOUT:
                if sequence < self._highest:
                    self._cycles += 0x10000
                self._highest = sequence
                self._window = ((self._window << delta) | 1) & _WINDOW_MASK
            elif delta > 0x10000 - MAX_MISORDER:
                back = 0x10000 - delta
                if back < WINDOW:
                    if self._window >> back & 1:
                        self.duplicates += 1
                        return False
                    self._window |= 1 << back
            elif sequence == self._bad:
                self._restart(ssrc, sequence)
            else:
                self._bad = (sequence + 1) & 0xFFFF
                return True  # a jump not yet confirmed: delivered, not counted
        self._received += 1
        if audio:  # A.8, inline: this runs for every packet
            if self._arrival is not None:
                stamps = ((timestamp - self._timestamp + _HALF32) & _MASK32) - _HALF32
                self.jitter += (abs(arrival - self._arrival - stamps) - self.jitter) / 16
            self._arrival = arrival
            self._timestamp = timestamp
        return True

    def _restart(self, ssrc: int, sequence: int) -> None:
        self._lost_before = self.lost
        self._ssrc = ssrc
        self._base = self._highest = sequence
        self._cycles = self._received = 0
        self._window = 1
        self._bad = -1
        self._arrival = None
