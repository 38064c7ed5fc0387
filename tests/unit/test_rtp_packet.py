"""RTP packets: exact bytes, round trips, every malformed class rejected with RtpError, fuzzing."""

from __future__ import annotations

import struct
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infolinia.voice.rtp import RtpError, RtpExtension, RtpPacket, is_rtcp

# PCMU, marker, seq 0x1234, ts 0xDEADBEEF, SSRC 0x01020304, payload "abc"
SIMPLE = bytes.fromhex("80 80 1234 deadbeef 01020304") + b"abc"


def test_simple_packet_exact_bytes() -> None:
    packet = RtpPacket.parse(SIMPLE)
    assert packet == RtpPacket(
        payload_type=0, sequence=0x1234, timestamp=0xDEADBEEF, ssrc=0x01020304, payload=b"abc", marker=True
    )
    assert bytes(packet) == SIMPLE


def test_all_header_parts_exact_bytes() -> None:
    packet = RtpPacket(
        payload_type=101,
        sequence=65535,
        timestamp=0xFFFFFFFF,
        ssrc=7,
        payload=b"\x01\x02",
        csrc=(0xAABBCCDD, 5),
        extension=RtpExtension(0xBEDE, b"\x10\xff\x00\x00"),
        padding=3,
    )
    wire = bytes(packet)
    expected = (
        bytes([0x80 | 0x20 | 0x10 | 2, 101])
        + struct.pack("!HII", 65535, 0xFFFFFFFF, 7)
        + bytes.fromhex("aabbccdd 00000005")
        + bytes.fromhex("bede 0001 10ff0000")
        + b"\x01\x02"
        + b"\x00\x00\x03"
    )
    assert wire == expected
    assert RtpPacket.parse(wire) == packet


def test_empty_extension_and_padding_only_packet() -> None:
    wire = bytes.fromhex("b0 08 0001 00000002 00000003 1000 0000") + b"\x00\x00\x00\x04"
    packet = RtpPacket.parse(wire)
    assert packet.extension == RtpExtension(0x1000, b"")
    assert packet.payload == b""
    assert packet.padding == 4
    assert bytes(packet) == wire


@pytest.mark.parametrize(
    ("wire", "reason"),
    [
        (b"", "empty"),
        (SIMPLE[:11], "shorter than the fixed header"),
        (bytes([0x40]) + SIMPLE[1:], "version 1"),
        (bytes([0x00]) + SIMPLE[1:], "version 0"),
        (bytes([0xC0]) + SIMPLE[1:], "version 3"),
        (bytes([0x81]) + SIMPLE[1:12], "CSRC list runs past the end"),
        (bytes([0x8F]) + SIMPLE[1:] + bytes(56), "15 CSRCs, 14 present"),
        (bytes([0x90]) + SIMPLE[1:12] + b"\xbe\xde", "extension header cut"),
        (bytes([0x90]) + SIMPLE[1:12] + b"\xbe\xde\x00\x02" + bytes(4), "extension data cut"),
        (bytes([0xA0]) + SIMPLE[1:12] + b"ab\x00", "padding count 0"),
        (bytes([0xA0]) + SIMPLE[1:12] + b"ab\x04", "padding count larger than the payload"),
        (bytes([0xA0]) + SIMPLE[1:12], "padding bit without any byte after the header"),
        (bytes([0xA1]) + SIMPLE[1:12] + b"\x00\x00\x00\x02", "padding runs into the CSRC list"),
        (bytes([0xB0]) + SIMPLE[1:12] + b"\x00\x00\x00\x00\x02", "padding runs into the extension header"),
    ],
)
def test_malformed_datagrams_raise_rtp_error(wire: bytes, reason: str) -> None:
    with pytest.raises(RtpError):
        RtpPacket.parse(wire)


def test_padding_may_cover_the_whole_payload() -> None:
    packet = RtpPacket.parse(bytes([0xA0]) + SIMPLE[1:12] + b"\x00\x00\x03")
    assert (packet.payload, packet.padding) == (b"", 3)


@pytest.mark.parametrize(
    "change",
    [
        {"payload_type": 128},
        {"payload_type": -1},
        {"sequence": 65536},
        {"timestamp": 1 << 32},
        {"ssrc": -1},
        {"csrc": tuple(range(16))},
        {"csrc": (1 << 32,)},
        {"padding": 256},
        {"extension": RtpExtension(0x10000, b"")},
        {"extension": RtpExtension(1, b"abc")},
    ],
)
def test_unwritable_fields_raise_rtp_error(change: dict[str, object]) -> None:
    packet = replace(RtpPacket.parse(SIMPLE), **change)  # type: ignore[arg-type]
    with pytest.raises(RtpError):
        bytes(packet)


def test_rtp_error_is_a_value_error() -> None:
    assert issubclass(RtpError, ValueError)


@pytest.mark.parametrize(("second", "rtcp"), [(200, True), (201, True), (204, True), (192, True), (223, True)])
def test_rtcp_packet_types_are_recognised(second: int, rtcp: bool) -> None:
    assert is_rtcp(bytes([0x80, second, 0, 1])) is rtcp


@pytest.mark.parametrize("second", [0, 8, 101, 127, 0x80, 0x80 | 101, 191, 224, 255])
def test_rtp_payload_types_are_not_rtcp(second: int) -> None:
    assert not is_rtcp(bytes([0x80, second]) + bytes(10))


def test_is_rtcp_on_tiny_datagrams() -> None:
    assert not is_rtcp(b"")
    assert not is_rtcp(b"\x80")


@given(st.binary(max_size=200))
def test_random_bytes_raise_only_rtp_error(data: bytes) -> None:
    try:
        packet = RtpPacket.parse(data)
    except RtpError:
        return
    assert RtpPacket.parse(bytes(packet)) == packet


@given(st.binary(min_size=12, max_size=200), st.integers(0, 15), st.booleans(), st.booleans())
def test_random_headers_with_valid_version_raise_only_rtp_error(
    data: bytes, count: int, extension: bool, padding: bool
) -> None:
    first = 0x80 | (0x20 if padding else 0) | (0x10 if extension else 0) | count
    wire = bytes([first]) + data[1:]
    try:
        packet = RtpPacket.parse(wire)
    except RtpError:
        return
    padding_bytes = wire[len(wire) - packet.padding : -1] if packet.padding else b""
    if not any(padding_bytes):  # the writer pads with zeros
        assert bytes(packet) == wire


def _pad4(data: bytes) -> bytes:
    return data + bytes(-len(data) % 4)


_u32 = st.integers(0, 0xFFFFFFFF)
packets = st.builds(
    RtpPacket,
    payload_type=st.integers(0, 127),
    sequence=st.integers(0, 0xFFFF),
    timestamp=_u32,
    ssrc=_u32,
    payload=st.binary(max_size=64),
    marker=st.booleans(),
    csrc=st.lists(_u32, max_size=15).map(tuple),
    extension=st.none() | st.builds(RtpExtension, st.integers(0, 0xFFFF), st.binary(max_size=16).map(_pad4)),
    padding=st.integers(0, 255),
)


@given(packets)
def test_valid_packets_round_trip(packet: RtpPacket) -> None:
    wire = bytes(packet)
    assert RtpPacket.parse(wire) == packet
    assert bytes(RtpPacket.parse(wire)) == wire
