"""Forwarding between bridged legs, without sockets: the RFC 3550 header rewrite, PCMU <-> PCMA tables, events."""

from __future__ import annotations

import itertools
import random
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infolinia.voice.media.codecs import transcoder
from infolinia.voice.media.outstream import OutStream
from infolinia.voice.media.relay import Relay
from infolinia.voice.rtp import (
    RtpExtension,
    RtpPacket,
    alaw_decode_array,
    alaw_encode,
    ulaw_decode_array,
    ulaw_encode,
)

SSRC_IN = 0x11223344


def packet(sequence: int, timestamp: int, payload: bytes = b"\x7f" * 160, *, pt: int = 0, marker: bool = False,
           ssrc: int = SSRC_IN) -> RtpPacket:  # fmt: skip
    return RtpPacket(pt, sequence, timestamp, ssrc, payload, marker)


def forward(relay: Relay, p: RtpPacket, now: float, event: bool = False) -> RtpPacket | None:
    """Put the packet in a receive buffer the way the leg does (payload at 12) and rewrite it."""
    wire = bytes(p)
    buf = bytearray(1501)
    buf[: len(wire)] = wire
    length = relay.rewrite(buf, 12, len(wire), p.sequence, p.timestamp, p.ssrc, event, now)
    return RtpPacket.parse(bytes(buf[:length])) if length else None


def stream() -> OutStream:
    return OutStream(random.Random(4))


def test_the_first_packet_continues_the_targets_stream_with_the_marker() -> None:
    out = stream()
    out.header(0, True, out.timestamp_at(10.0))
    out.anchor(out.timestamp_at(10.0), 10.0)
    next_sequence, expected_ts = out.sequence, out.timestamp_at(10.5)
    got = forward(Relay(None, out, 8, None, None), packet(500, 9_000, pt=8), now=10.5)
    assert got is not None
    assert (got.ssrc, got.sequence, got.timestamp, got.marker, got.payload_type) == (
        out.ssrc, next_sequence, expected_ts, True, 8,
    )  # fmt: skip
    assert out.sequence == (next_sequence + 1) & 0xFFFF


def test_gaps_reordering_and_marker_pass_through_between_rebases() -> None:
    out = stream()
    relay = Relay(None, out, 0, None, None)
    first = forward(relay, packet(65534, 4_294_967_000), 1.0)
    assert first is not None
    rest = [forward(relay, packet(s & 0xFFFF, (4_294_967_000 + 160 * (s - 65534)) & 0xFFFFFFFF, marker=m), 1.0)
            for s, m in ((65535, False), (65537, True), (65536, False))]  # fmt: skip
    assert all(p is not None for p in rest)
    sequences = [(p.sequence - first.sequence) & 0xFFFF for p in rest if p]
    stamps = [(p.timestamp - first.timestamp) & 0xFFFFFFFF for p in rest if p]
    assert sequences == [1, 3, 2]
    assert stamps == [160, 480, 320]
    assert [p.marker for p in rest if p] == [False, True, False]
    assert out.sequence == (first.sequence + 4) & 0xFFFF  # the late packet did not move it back


def test_a_new_source_or_own_packets_rebase_without_a_jump() -> None:
    out = stream()
    relay = Relay(None, out, 0, None, None)
    a = forward(relay, packet(100, 1000), 1.0)
    b = forward(relay, packet(7, 55, ssrc=999), 1.02)  # the peer restarted (re-INVITE, transfer)
    assert a is not None and b is not None
    assert b.sequence == (a.sequence + 1) & 0xFFFF and b.marker
    assert (b.timestamp - a.timestamp) & 0xFFFFFFFF == 160
    own = out.header(101, True, out.timestamp_at(1.04))  # the target sent a digit of its own
    own_sequence = struct.unpack_from("!H", own, 2)[0]
    c = forward(relay, packet(8, 215, ssrc=999), 1.06)
    assert c is not None and c.sequence == (own_sequence + 1) & 0xFFFF and c.marker


@given(st.integers(0, 0xFFFF), st.integers(0, 0xFFFFFFFF), st.lists(st.integers(1, 5), min_size=1, max_size=60))
def test_outgoing_sequence_and_timestamp_keep_the_incoming_steps(seq0: int, ts0: int, steps: list[int]) -> None:
    out = stream()
    relay = Relay(None, out, 0, None, None)
    seqs, stamps = [seq0], [ts0]
    for step in steps:
        seqs.append((seqs[-1] + step) & 0xFFFF)
        stamps.append((stamps[-1] + 160 * step) & 0xFFFFFFFF)
    got = [forward(relay, packet(s, t), 2.0) for s, t in zip(seqs, stamps, strict=True)]
    assert all(p is not None and p.ssrc == out.ssrc for p in got)
    assert [(b.sequence - a.sequence) & 0xFFFF for a, b in itertools.pairwise(got) if a and b] == steps
    assert [(b.timestamp - a.timestamp) & 0xFFFFFFFF for a, b in itertools.pairwise(got) if a and b] == [
        160 * s for s in steps
    ]


def test_transcoding_tables_equal_decode_then_encode() -> None:
    codes = bytes(range(256))
    assert codes.translate(transcoder("PCMU", "PCMA")) == alaw_encode(ulaw_decode_array(codes))  # type: ignore[arg-type]
    assert codes.translate(transcoder("PCMA", "PCMU")) == ulaw_encode(alaw_decode_array(codes))  # type: ignore[arg-type]
    assert transcoder("PCMU", "PCMU") is None and transcoder("PCMA", "PCMA") is None


@pytest.mark.parametrize(("source", "target", "pt"), [("PCMU", "PCMA", 8), ("PCMA", "PCMU", 0)])
def test_audio_is_translated_and_events_keep_their_payload(source: str, target: str, pt: int) -> None:
    out = stream()
    relay = Relay(None, out, pt, 96, transcoder(source, target))  # type: ignore[arg-type]
    payload = bytes(range(160))
    audio = forward(relay, packet(1, 160, payload, pt=8 if pt == 0 else 0), 1.0)
    assert audio is not None and audio.payload_type == pt
    assert audio.payload == payload.translate(transcoder(source, target))  # type: ignore[arg-type]
    event = forward(relay, packet(2, 160, b"\x05\x0a\x00\xa0", pt=101), 1.0, event=True)
    assert event is not None
    assert (event.payload_type, event.payload) == (96, b"\x05\x0a\x00\xa0")


def test_events_are_dropped_when_the_target_has_no_telephone_event() -> None:
    out = stream()
    before = out.sequence
    assert (
        forward(Relay(None, out, 0, None, None), packet(1, 160, b"\x05\x0a\x00\xa0", pt=101), 1.0, event=True) is None
    )
    assert out.sequence == before


def test_a_payload_after_csrc_and_extension_moves_up_to_a_plain_header() -> None:
    out = stream()
    relay = Relay(None, out, 0, None, None)
    p = RtpPacket(0, 9, 900, SSRC_IN, b"abc" * 10, csrc=(1, 2), extension=RtpExtension(0xBEDE, b"\x00" * 8))
    wire = bytes(p)
    buf = bytearray(wire)
    start = len(wire) - len(p.payload)
    length = relay.rewrite(buf, start, len(wire), 9, 900, SSRC_IN, False, 1.0)
    got = RtpPacket.parse(bytes(buf[:length]))
    assert (got.payload, got.csrc, got.extension) == (p.payload, (), None)


def test_outstream_timestamps_follow_time_from_the_last_packet() -> None:
    out = stream()
    start = out.timestamp_at(0.0)
    assert out.timestamp_at(123.0) == start  # nothing sent yet: the random start
    out.anchor(start, 5.0)
    assert out.timestamp_at(5.02) == (start + 160) & 0xFFFFFFFF
    assert out.timestamp_at(65.0) == (start + 480_000) & 0xFFFFFFFF
    header = out.header(8, True, 77)
    assert struct.unpack("!BBHII", header)[:2] == (0x80, 0x88)
