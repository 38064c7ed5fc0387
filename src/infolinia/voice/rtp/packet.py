"""RTP packets (RFC 3550 section 5.1): parse a datagram, write one back, and tell RTCP apart (RFC 5761 section 4).

```
 0                   1                   2                   3
 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
|V=2|P|X|  CC   |M|     PT      |       sequence number         |
|                           timestamp                           |
|           synchronization source (SSRC) identifier            |
|            contributing source (CSRC) identifiers  (CC x 32)  |
|  extension profile (if X)     |   extension length (words)    |
|                  extension data (length x 32)                 |
|                     payload ...      | padding ... | pad count |
```
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from infolinia.voice.rtp.errors import RtpError

HEADER_SIZE = 12
RTP_VERSION = 2

_HEADER = struct.Struct("!BBHII")
_EXTENSION_HEADER = struct.Struct("!HH")


@dataclass(frozen=True, slots=True)
class RtpExtension:
    """The header extension (X bit): a 16-bit profile and its data, a whole number of 32-bit words."""

    profile: int
    data: bytes


@dataclass(slots=True)
class RtpPacket:
    """One RTP packet. `padding` is the P-bit padding count (0 = none), the pad count byte included.

    Mutable (a frozen dataclass takes ten times as long to build, and this is built per datagram): a relay
    rewrites `sequence`, `timestamp` or `ssrc` in place; `bytes()` checks every field's range.
    """

    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes = b""
    marker: bool = False
    csrc: tuple[int, ...] = ()
    extension: RtpExtension | None = None
    padding: int = 0

    @classmethod
    def parse(cls, data: bytes) -> RtpPacket:
        """Read one datagram; anything malformed raises RtpError."""
        if len(data) < HEADER_SIZE:
            raise RtpError(f"RTP packet too short: {len(data)} bytes")
        first, second, sequence, timestamp, ssrc = _HEADER.unpack_from(data)
        if first >> 6 != RTP_VERSION:
            raise RtpError(f"RTP version {first >> 6}, expected 2")
        if not first & 0x3F:  # no padding, extension or CSRC: the common case
            return cls(second & 0x7F, sequence, timestamp, ssrc, bytes(data[HEADER_SIZE:]), bool(second & 0x80))
        padding = _padding(data) if first & 0x20 else 0
        end = len(data) - padding
        csrc, offset = _csrc(data, first & 0x0F, end)
        extension, offset = _extension(data, offset, end) if first & 0x10 else (None, offset)
        if offset > end:
            raise RtpError("RTP padding runs into the header")
        return cls(
            payload_type=second & 0x7F,
            sequence=sequence,
            timestamp=timestamp,
            ssrc=ssrc,
            payload=bytes(data[offset:end]),
            marker=bool(second & 0x80),
            csrc=csrc,
            extension=extension,
            padding=padding,
        )

    def __bytes__(self) -> bytes:
        if not 0 <= self.payload_type <= 0x7F or len(self.csrc) > 15 or not 0 <= self.padding <= 0xFF:
            raise RtpError("RTP payload type, CSRC count or padding out of range")
        first = (
            RTP_VERSION << 6
            | (0x20 if self.padding else 0)
            | (0x10 if self.extension is not None else 0)
            | len(self.csrc)
        )
        second = (0x80 if self.marker else 0) | self.payload_type
        try:
            header = _HEADER.pack(first, second, self.sequence, self.timestamp, self.ssrc)
            if first & 0x3F:
                header += struct.pack(f"!{len(self.csrc)}I", *self.csrc) + _extension_bytes(self.extension)
        except struct.error as exc:
            raise RtpError(f"RTP field out of range: {exc}") from exc
        if not self.padding:
            return header + self.payload
        return b"".join((header, self.payload, bytes(self.padding - 1), bytes((self.padding,))))


def is_rtcp(data: bytes) -> bool:
    """True for a datagram that RFC 5761 demultiplexing sends to RTCP.

    The second byte of RTCP is its packet type (SR 200, RR 201, SDES 202, BYE 203, APP 204, and the feedback and
    XR types after them); read as RTP it is the marker bit plus a payload type of 64-95, which RTP on a shared port
    must not use. So the whole range 192-223 is RTCP.
    """
    return len(data) >= 2 and 192 <= data[1] <= 223


def _padding(data: bytes) -> int:
    count = data[-1]
    if count == 0:
        raise RtpError("RTP padding count is 0")
    if count > len(data) - HEADER_SIZE:
        raise RtpError(f"RTP padding count {count} exceeds the packet")
    return count


def _csrc(data: bytes, count: int, end: int) -> tuple[tuple[int, ...], int]:
    offset = HEADER_SIZE + 4 * count
    if offset > end:
        raise RtpError(f"RTP CSRC list ({count}) runs past the end")
    return struct.unpack_from(f"!{count}I", data, HEADER_SIZE), offset


def _extension(data: bytes, offset: int, end: int) -> tuple[RtpExtension, int]:
    if offset + 4 > end:
        raise RtpError("RTP extension header runs past the end")
    profile, words = _EXTENSION_HEADER.unpack_from(data, offset)
    start = offset + 4
    stop = start + 4 * words
    if stop > end:
        raise RtpError(f"RTP extension ({words} words) runs past the end")
    return RtpExtension(profile, bytes(data[start:stop])), stop


def _extension_bytes(extension: RtpExtension | None) -> bytes:
    if extension is None:
        return b""
    if len(extension.data) % 4:
        raise RtpError("RTP extension data is not a whole number of 32-bit words")
    return _EXTENSION_HEADER.pack(extension.profile, len(extension.data) // 4) + extension.data
