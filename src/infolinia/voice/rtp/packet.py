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


@dataclass(frozen=True, slots=True)
class RtpPacket:
    """One RTP packet. `padding` is the P-bit padding count (0 = none), the pad count byte included."""

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
        end = len(data)
        padding = _padding(data) if first & 0x20 else 0
        end -= padding
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
        _check_fields(self)
        first = RTP_VERSION << 6 | (0x20 if self.padding else 0) | (0x10 if self.extension else 0) | len(self.csrc)
        second = (0x80 if self.marker else 0) | self.payload_type
        parts = [_HEADER.pack(first, second, self.sequence, self.timestamp, self.ssrc)]
        parts.extend(struct.pack("!I", c) for c in self.csrc)
        if self.extension is not None:
            ext = self.extension
            parts.append(_EXTENSION_HEADER.pack(ext.profile, len(ext.data) // 4) + ext.data)
        parts.append(self.payload)
        if self.padding:
            parts.append(bytes(self.padding - 1) + bytes((self.padding,)))
        return b"".join(parts)


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


def _check_fields(packet: RtpPacket) -> None:
    checks = (
        (0 <= packet.payload_type <= 0x7F, "payload type"),
        (0 <= packet.sequence <= 0xFFFF, "sequence"),
        (0 <= packet.timestamp <= 0xFFFFFFFF, "timestamp"),
        (0 <= packet.ssrc <= 0xFFFFFFFF, "SSRC"),
        (len(packet.csrc) <= 15 and all(0 <= c <= 0xFFFFFFFF for c in packet.csrc), "CSRC list"),
        (0 <= packet.padding <= 0xFF, "padding"),
        (packet.extension is None or _extension_ok(packet.extension), "extension"),
    )
    for ok, what in checks:
        if not ok:
            raise RtpError(f"RTP {what} out of range")


def _extension_ok(extension: RtpExtension) -> bool:
    size = len(extension.data)
    return 0 <= extension.profile <= 0xFFFF and size % 4 == 0 and size // 4 <= 0xFFFF
