"""A leg's outgoing RTP stream, pure: its SSRC, the next sequence number and a timestamp line that follows time.

Everything a leg sends, whether its own packets on the media clock or packets forwarded from a bridged leg,
goes out as this one stream (RFC 3550 section 8.2: a translator that rewrites headers keeps one SSRC per side).
The timestamp line is anchored on the last audio packet sent: `timestamp_at(t)` extends it by 8 units per
millisecond, so a stream that pauses (a bridge, a hold) resumes where time says it should.
"""

from __future__ import annotations

import random
import struct
from typing import Final

from infolinia.voice.media.codecs import RATE

HEADER: Final = struct.Struct("!BBHII")  # V=2 P X CC | M PT | sequence | timestamp | SSRC
VERSION_BYTE: Final = 0x80  # V=2, no padding, no extension, no CSRC
MARKER: Final = 0x80
MASK32: Final = 0xFFFFFFFF


class OutStream:
    __slots__ = ("_anchor_t", "_anchor_ts", "own", "sequence", "ssrc")

    def __init__(self, rng: random.Random | None = None) -> None:
        rng = rng or random.SystemRandom()
        self.ssrc = rng.getrandbits(32)
        self.sequence = rng.getrandbits(16)  # RFC 3550 5.1: random initial values
        self._anchor_ts = rng.getrandbits(32)
        self._anchor_t: float | None = None
        self.own = 0  # packets this stream built itself (not forwarded); a relay re-bases when it changes

    def timestamp_at(self, t: float) -> int:
        """The RTP timestamp that time `t` has on this stream's line."""
        if self._anchor_t is None:
            return self._anchor_ts
        return (self._anchor_ts + round((t - self._anchor_t) * RATE)) & MASK32

    def advance(self, t: float) -> int:
        """The timestamp of a packet sent at `t`, anchoring the line there (one call per clock tick)."""
        anchor_t = self._anchor_t
        if anchor_t is not None:
            self._anchor_ts = (self._anchor_ts + round((t - anchor_t) * RATE)) & MASK32
        self._anchor_t = t
        return self._anchor_ts

    def anchor(self, timestamp: int, t: float) -> None:
        """Note that the audio packet sent at time `t` carried `timestamp`."""
        self._anchor_ts = timestamp
        self._anchor_t = t

    def header(self, payload_type: int, marker: bool, timestamp: int) -> bytes:
        """The 12-byte header of this stream's next own packet (it takes the next sequence number)."""
        sequence = self.sequence
        self.sequence = (sequence + 1) & 0xFFFF
        self.own += 1
        return HEADER.pack(VERSION_BYTE, payload_type | (MARKER if marker else 0), sequence, timestamp, self.ssrc)
