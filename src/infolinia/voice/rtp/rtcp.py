"""RTCP (RFC 3550 section 6.4): sender and receiver reports read from and written to a compound packet.

Other packet types (SDES, BYE, APP, feedback, XR) are kept whole as `RtcpOther`, so a compound packet writes back
to the same bytes (less any padding, and any profile extension after the report blocks of an SR or RR).
Anything malformed raises RtpError.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from infolinia.voice.rtp.errors import RtpError

SR = 200
RR = 201

_HEADER = struct.Struct("!BBH")
_SENDER_INFO = struct.Struct("!IQIII")
_BLOCK = struct.Struct("!IIIIII")
_SSRC = struct.Struct("!I")


@dataclass(frozen=True, slots=True)
class ReportBlock:
    """Reception of one source: `fraction_lost` out of 256, `packets_lost` cumulative (signed, 24 bits)."""

    ssrc: int
    fraction_lost: int
    packets_lost: int
    highest_sequence: int
    jitter: int
    last_sr: int
    delay_since_last_sr: int

    def __bytes__(self) -> bytes:
        if not (0 <= self.fraction_lost <= 0xFF and -0x800000 <= self.packets_lost <= 0x7FFFFF):
            raise RtpError("RTCP report block field out of range")
        lost = self.fraction_lost << 24 | (self.packets_lost & 0xFFFFFF)
        return _pack(
            _BLOCK, self.ssrc, lost, self.highest_sequence, self.jitter, self.last_sr, self.delay_since_last_sr
        )


@dataclass(frozen=True, slots=True)
class SenderReport:
    ssrc: int
    ntp_timestamp: int
    rtp_timestamp: int
    packet_count: int
    octet_count: int
    reports: tuple[ReportBlock, ...] = ()

    def __bytes__(self) -> bytes:
        info = _pack(
            _SENDER_INFO, self.ssrc, self.ntp_timestamp, self.rtp_timestamp, self.packet_count, self.octet_count
        )
        return _packet(SR, len(self.reports), info + b"".join(map(bytes, self.reports)))


@dataclass(frozen=True, slots=True)
class ReceiverReport:
    ssrc: int
    reports: tuple[ReportBlock, ...] = ()

    def __bytes__(self) -> bytes:
        return _packet(RR, len(self.reports), _pack(_SSRC, self.ssrc) + b"".join(map(bytes, self.reports)))


@dataclass(frozen=True, slots=True)
class RtcpOther:
    """An RTCP packet this module does not read: its type, the 5-bit count field and the body after the header."""

    packet_type: int
    count: int
    body: bytes

    def __bytes__(self) -> bytes:
        return _packet(self.packet_type, self.count, self.body)


RtcpPacket = SenderReport | ReceiverReport | RtcpOther


def parse_rtcp(data: bytes) -> list[RtcpPacket]:
    """Every packet of a compound RTCP datagram."""
    if len(data) < 4:
        raise RtpError(f"RTCP packet too short: {len(data)} bytes")
    packets: list[RtcpPacket] = []
    offset = 0
    while offset < len(data):
        packet, offset = _parse_one(data, offset)
        packets.append(packet)
    return packets


def _parse_one(data: bytes, offset: int) -> tuple[RtcpPacket, int]:
    if offset + 4 > len(data):
        raise RtpError("RTCP header runs past the end")
    first, packet_type, words = _HEADER.unpack_from(data, offset)
    if first >> 6 != 2:
        raise RtpError(f"RTCP version {first >> 6}, expected 2")
    end = offset + 4 * (words + 1)
    if end > len(data):
        raise RtpError("RTCP packet runs past the end")
    body = bytes(data[offset + 4 : end])
    if first & 0x20:
        if end != len(data):
            raise RtpError("RTCP padding on a packet that is not the last")
        body = body[: len(body) - _padding(body)]
    return _read(packet_type, first & 0x1F, body), end


def _padding(body: bytes) -> int:
    if not body or not 0 < body[-1] <= len(body):
        raise RtpError("RTCP padding count is 0 or larger than the packet")
    return body[-1]


def _read(packet_type: int, count: int, body: bytes) -> RtcpPacket:
    if packet_type == SR:
        need = _SENDER_INFO.size
        if len(body) < need + count * _BLOCK.size:
            raise RtpError("RTCP sender report shorter than its report blocks")
        ssrc, ntp, rtp, packets, octets = _SENDER_INFO.unpack_from(body)
        return SenderReport(ssrc, ntp, rtp, packets, octets, _blocks(body, need, count))
    if packet_type == RR:
        if len(body) < 4 + count * _BLOCK.size:
            raise RtpError("RTCP receiver report shorter than its report blocks")
        return ReceiverReport(_SSRC.unpack_from(body)[0], _blocks(body, 4, count))
    return RtcpOther(packet_type, count, body)


def _blocks(body: bytes, offset: int, count: int) -> tuple[ReportBlock, ...]:
    blocks = []
    for i in range(count):
        ssrc, lost, highest, jitter, lsr, dlsr = _BLOCK.unpack_from(body, offset + i * _BLOCK.size)
        cumulative = lost & 0xFFFFFF
        cumulative -= (cumulative & 0x800000) << 1
        blocks.append(ReportBlock(ssrc, lost >> 24, cumulative, highest, jitter, lsr, dlsr))
    return tuple(blocks)


def _packet(packet_type: int, count: int, body: bytes) -> bytes:
    if not (0 <= count <= 31 and 0 <= packet_type <= 255) or len(body) % 4 or len(body) // 4 > 0xFFFF:
        raise RtpError("RTCP packet cannot be written: count, type or body size out of range")
    return _HEADER.pack(0x80 | count, packet_type, len(body) // 4) + body


def _pack(layout: struct.Struct, *values: int) -> bytes:
    try:
        return layout.pack(*values)
    except struct.error as exc:
        raise RtpError(f"RTCP field out of range: {exc}") from exc
