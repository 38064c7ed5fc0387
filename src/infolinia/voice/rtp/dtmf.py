"""RFC 4733 telephone events: the 4-byte payload, a receiver that reports each key press once, and a sender.

```
 0                   1                   2                   3
 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
|     event     |E|R|  volume   |          duration             |
```

All packets of one event carry the RTP timestamp of its start; the first has the marker bit, updates grow the
duration, and the last (E bit) is sent three times. The receiver keys a press on its timestamp, so a lost first
packet, the redundant end packets and duplicated or reordered ones still make exactly one digit.
"""

from __future__ import annotations

import struct
from collections import deque
from dataclasses import dataclass

from infolinia.voice.rtp.errors import RtpError
from infolinia.voice.rtp.packet import RtpPacket

DIGITS = "0123456789*#ABCD"
PAYLOAD_SIZE = 4
MAX_DURATION = 0xFFFF

_PAYLOAD = struct.Struct("!BBH")


@dataclass(frozen=True, slots=True)
class TelephoneEvent:
    """One telephone-event payload. `duration` is in RTP timestamp units; `volume` is -dBm0 (0-63)."""

    event: int
    end: bool = False
    volume: int = 10
    duration: int = 0

    @classmethod
    def parse(cls, payload: bytes) -> TelephoneEvent:
        if len(payload) != PAYLOAD_SIZE:
            raise RtpError(f"telephone-event payload is {len(payload)} bytes, expected 4")
        event, flags, duration = _PAYLOAD.unpack(payload)
        return cls(event=event, end=bool(flags & 0x80), volume=flags & 0x3F, duration=duration)

    def __bytes__(self) -> bytes:
        if not (0 <= self.event <= 0xFF and 0 <= self.volume <= 0x3F and 0 <= self.duration <= MAX_DURATION):
            raise RtpError("telephone-event field out of range")
        return _PAYLOAD.pack(self.event, (0x80 if self.end else 0) | self.volume, self.duration)

    @property
    def digit(self) -> str | None:
        """The DTMF key (events 0-15), or None for other events."""
        return DIGITS[self.event] if self.event < len(DIGITS) else None


@dataclass(frozen=True, slots=True)
class Digit:
    """A key press: the key and the RTP timestamp its event started at."""

    digit: str
    timestamp: int


@dataclass(slots=True)
class _Current:
    ssrc: int
    timestamp: int
    event: int
    duration: int
    ended: bool


class DtmfReceiver:
    """Turns the telephone-event packets of a stream into key presses, one per press.

    A press is known by its start timestamp (and SSRC). Its first packet seen reports the digit, marker or not;
    every later packet of it, end packets and duplicates included, reports nothing. A packet of a press
    reported recently (out of order) is ignored too. A long event split into segments (RFC 4733 2.5.1.3: a new
    timestamp, no marker, same event, before its end) continues the press it extends.
    """

    def __init__(self, remember: int = 32) -> None:
        self._current: _Current | None = None
        self._recent: deque[tuple[int, int]] = deque(maxlen=remember)

    def receive(self, packet: RtpPacket) -> Digit | None:
        """Feed one telephone-event packet; returns the digit when it starts a new press. Bad payload: RtpError."""
        event = TelephoneEvent.parse(packet.payload)
        key = (packet.ssrc, packet.timestamp)
        if key in self._recent:
            self._update(packet, event)
            return None
        self._recent.append(key)
        continues = not packet.marker and self._continues(packet, event)
        self._current = _Current(packet.ssrc, packet.timestamp, event.event, event.duration, event.end)
        if continues or event.digit is None:
            return None
        return Digit(event.digit, packet.timestamp)

    def _continues(self, packet: RtpPacket, event: TelephoneEvent) -> bool:
        current = self._current
        if current is None or current.ended or current.ssrc != packet.ssrc or current.event != event.event:
            return False
        step = (packet.timestamp - current.timestamp) & 0xFFFFFFFF
        return 0 < step <= current.duration

    def _update(self, packet: RtpPacket, event: TelephoneEvent) -> None:
        current = self._current
        if current is not None and (current.ssrc, current.timestamp) == (packet.ssrc, packet.timestamp):
            current.duration = max(current.duration, event.duration)
            current.ended = current.ended or event.end


@dataclass(frozen=True, slots=True)
class DtmfFrame:
    """One packet to send: at `tick` packet times after the press starts, with this marker, timestamp and event."""

    tick: int
    marker: bool
    timestamp: int
    event: TelephoneEvent

    def packet(self, payload_type: int, sequence: int, ssrc: int) -> RtpPacket:
        return RtpPacket(
            payload_type=payload_type,
            sequence=sequence,
            timestamp=self.timestamp,
            ssrc=ssrc,
            payload=bytes(self.event),
            marker=self.marker,
        )


def dtmf_frames(
    digit: str, timestamp: int, duration_ms: int = 100, clock_rate: int = 8000, ptime_ms: int = 20, volume: int = 10
) -> list[DtmfFrame]:
    """The packets of one key press: a start with the marker, updates every packet time, the end sent 3 times.

    Every packet carries `timestamp` (the press start). Durations grow by one packet time and stop at the
    press length, which must fit in 16 bits (no long-event segments). The end packets follow one packet time
    apart; the stream numbers every frame (`DtmfFrame.packet`). Some senders repeat the end packet's sequence
    number instead; the receiver takes either.
    """
    if len(digit) != 1 or digit not in DIGITS:
        raise ValueError(f"not a DTMF digit: {digit!r}")
    step = clock_rate * ptime_ms // 1000
    total = clock_rate * duration_ms // 1000
    if step <= 0 or not 0 < total <= MAX_DURATION:
        raise ValueError("DTMF duration must be positive and fit in 16 bits of timestamp units")
    code = DIGITS.index(digit)
    updates = -(-total // step)
    durations = [min((i + 1) * step, total) for i in range(updates)]
    frames = [
        DtmfFrame(i, i == 0, timestamp, TelephoneEvent(code, False, volume, d)) for i, d in enumerate(durations[:-1])
    ]
    end = TelephoneEvent(code, True, volume, total)
    first_end = len(frames)
    frames += [DtmfFrame(first_end + i, first_end + i == 0, timestamp, end) for i in range(3)]
    return frames
