"""Forwarding one leg's incoming packets as another leg's outgoing stream: the RFC 3550 header rewrite, pure.

A `Relay` belongs to the receiving leg and writes into the target leg's `OutStream`. The first packet it
forwards, and the first after a change of incoming SSRC or after the target sent packets of its own (DTMF, a
prompt), re-bases: from then on, outgoing sequence = incoming + an offset and outgoing timestamp = incoming + an
offset, chosen so the target's stream continues where it was (its next sequence number, the timestamp that the
time of arrival has on its line), and that packet carries the marker bit. Between re-bases, gaps and reordering
of the incoming stream show unchanged on the outgoing one, and the incoming marker bit passes through.

The rewrite works in place on the receive buffer: a new 12-byte header (this leg's version, payload type
mapped, SSRC of the target), CSRC, extension and padding left out, and the payload translated PCMU <-> PCMA
when the two legs negotiated different laws. RFC 4733 events keep their payload and get the target's
telephone-event payload type, or are dropped when the target negotiated none.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from infolinia.voice.media.outstream import HEADER, MARKER, MASK32, VERSION_BYTE, OutStream

T = TypeVar("T")
_HALF16 = 0x8000


class Relay(Generic[T]):
    __slots__ = (
        "_audio_pt",
        "_dtmf_pt",
        "_own_seen",
        "_sequence_offset",
        "_ssrc",
        "_table",
        "_timestamp_offset",
        "out",
        "target",
    )

    def __init__(self, target: T, out: OutStream, audio_pt: int, dtmf_pt: int | None, table: bytes | None) -> None:
        """Forward into `out`, the stream of `target` (kept for the caller), as `audio_pt` (and events as
        `dtmf_pt`), translating audio through `table`."""
        self.target = target
        self.out = out
        self._audio_pt = audio_pt
        self._dtmf_pt = dtmf_pt
        self._table = table
        self._ssrc: int | None = None
        self._own_seen = -1
        self._sequence_offset = 0
        self._timestamp_offset = 0

    def rewrite(
        self, buf: bytearray, start: int, end: int, sequence: int, timestamp: int, ssrc: int, event: bool, now: float
    ) -> int:
        """Rewrite the packet in `buf` for the target; its new length, or 0 to drop it.

        The caller has read the packet: its payload is `buf[start:end]`, its header fields `sequence`,
        `timestamp` and `ssrc`; `event` says it is an RFC 4733 telephone event (else audio); `now` is its
        arrival time.
        """
        if event:
            payload_type = self._dtmf_pt
            if payload_type is None:
                return 0
        else:
            payload_type = self._audio_pt
        marker = buf[1] & MARKER
        out = self.out
        if ssrc != self._ssrc or out.own != self._own_seen:
            self._ssrc, self._own_seen, marker = ssrc, out.own, MARKER
            self._sequence_offset = (out.sequence - sequence) & 0xFFFF
            self._timestamp_offset = (out.timestamp_at(now) - timestamp) & MASK32
        sequence = (sequence + self._sequence_offset) & 0xFFFF
        timestamp = (timestamp + self._timestamp_offset) & MASK32
        length = end - start
        if start != 12 or (self._table is not None and not event):
            payload = buf[start:end]
            buf[12 : 12 + length] = payload if event or self._table is None else payload.translate(self._table)
        HEADER.pack_into(buf, 0, VERSION_BYTE, payload_type | marker, sequence, timestamp, out.ssrc)
        if (sequence - out.sequence) & 0xFFFF < _HALF16:  # in order (or after a gap): the stream moves on
            out.sequence = (sequence + 1) & 0xFFFF
            if not event:
                out.anchor(timestamp, now)
        return 12 + length
