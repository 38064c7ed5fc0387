"""RTCP: sender and receiver reports in compound packets, other types kept whole, malformed input rejected."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infolinia.voice.rtp import (
    ReceiverReport,
    ReportBlock,
    RtcpOther,
    RtpError,
    SenderReport,
    is_rtcp,
    parse_rtcp,
)

BLOCK = ReportBlock(0x11111111, 25, -3, 0x00010203, 40, 0xAABBCCDD, 6553)
BLOCK_WIRE = struct.pack("!IIIIII", 0x11111111, 25 << 24 | 0xFFFFFD, 0x00010203, 40, 0xAABBCCDD, 6553)
SR_WIRE = (
    bytes([0x81, 200]) + struct.pack("!H", 12) + struct.pack("!IQIII", 0x22222222, 0xE0000000_80000000, 160, 5, 800)
) + BLOCK_WIRE
SDES_WIRE = bytes([0x81, 202, 0, 3]) + struct.pack("!I", 0x22222222) + b"\x01\x03abc\x00\x00\x00"


def test_sender_report_with_a_block_and_sdes_exact_bytes() -> None:
    packets = parse_rtcp(SR_WIRE + SDES_WIRE)
    assert packets == [
        SenderReport(0x22222222, 0xE0000000_80000000, 160, 5, 800, (BLOCK,)),
        RtcpOther(202, 1, SDES_WIRE[4:]),
    ]
    assert b"".join(map(bytes, packets)) == SR_WIRE + SDES_WIRE
    assert is_rtcp(SR_WIRE)


def test_empty_receiver_report() -> None:
    wire = bytes([0x80, 201, 0, 1]) + struct.pack("!I", 7)
    assert parse_rtcp(wire) == [ReceiverReport(7)]
    assert bytes(ReceiverReport(7)) == wire


def test_padding_on_the_last_packet_is_removed() -> None:
    wire = bytes([0xA0, 201, 0, 2]) + struct.pack("!I", 7) + b"\x00\x00\x00\x04"
    assert parse_rtcp(wire) == [ReceiverReport(7)]


@pytest.mark.parametrize(
    "wire",
    [
        b"",
        b"\x80\xc9\x00",
        bytes([0x40, 201, 0, 1]) + bytes(4),  # version 1
        bytes([0x80, 201, 0, 2]) + bytes(4),  # length past the end
        bytes([0x81, 201, 0, 1]) + bytes(4),  # one block announced, none present
        bytes([0x80, 200, 0, 1]) + bytes(4),  # sender info cut
        bytes([0xA0, 201, 0, 1]) + bytes(4),  # padding count 0
        bytes([0xA0, 201, 0, 1]) + b"\x00\x00\x00\x09",  # padding past the packet
        bytes([0xA0, 201, 0, 1]) + bytes(3) + b"\x01" + bytes([0x80, 201, 0, 1]) + bytes(4),  # padding not last
        bytes([0x80, 201, 0, 1]) + bytes(4) + b"\x80",  # trailing bytes
    ],
)
def test_malformed_rtcp_raises_rtp_error(wire: bytes) -> None:
    with pytest.raises(RtpError):
        parse_rtcp(wire)


@pytest.mark.parametrize(
    "packet",
    [
        ReceiverReport(1 << 32),
        RtcpOther(202, 32, b""),
        RtcpOther(202, 1, b"abc"),
        ReceiverReport(1, (ReportBlock(1, 256, 0, 0, 0, 0, 0),)),
        ReceiverReport(1, (ReportBlock(1, 0, 1 << 23, 0, 0, 0, 0),)),
    ],
)
def test_unwritable_rtcp_raises_rtp_error(packet: ReceiverReport | RtcpOther) -> None:
    with pytest.raises(RtpError):
        bytes(packet)


@given(st.binary(max_size=120))
def test_random_bytes_raise_only_rtp_error(data: bytes) -> None:
    try:
        packets = parse_rtcp(data)
    except RtpError:
        return
    assert parse_rtcp(b"".join(map(bytes, packets))) == packets


_u32 = st.integers(0, 0xFFFFFFFF)
blocks = st.builds(
    ReportBlock, _u32, st.integers(0, 255), st.integers(-(1 << 23), (1 << 23) - 1), _u32, _u32, _u32, _u32
)
reports = st.lists(blocks, max_size=31).map(tuple)
rtcp_packets = st.one_of(
    st.builds(SenderReport, _u32, st.integers(0, (1 << 64) - 1), _u32, _u32, _u32, reports),
    st.builds(ReceiverReport, _u32, reports),
    st.builds(
        RtcpOther, st.integers(202, 223), st.integers(0, 31), st.binary(max_size=40).map(lambda b: b[: len(b) // 4 * 4])
    ),
)


@given(st.lists(rtcp_packets, min_size=1, max_size=4))
def test_valid_compound_packets_round_trip(packets: list[SenderReport | ReceiverReport | RtcpOther]) -> None:
    wire = b"".join(map(bytes, packets))
    assert parse_rtcp(wire) == packets
