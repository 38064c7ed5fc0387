"""RFC 4733 telephone events: payload bytes, the sender's packets, and a receiver that makes one digit per press."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infolinia.voice.rtp import DIGITS, Digit, DtmfReceiver, RtpError, RtpPacket, TelephoneEvent, dtmf_frames

PT = 101
SSRC = 0x0E05384E


def test_payload_exact_bytes() -> None:
    # from a real sender: digit 1, end, volume 10, duration 2240
    event = TelephoneEvent.parse(bytes.fromhex("018a08c0"))
    assert event == TelephoneEvent(event=1, end=True, volume=10, duration=2240)
    assert event.digit == "1"
    assert bytes(event) == bytes.fromhex("018a08c0")


def test_reserved_bit_is_ignored_and_written_as_zero() -> None:
    event = TelephoneEvent.parse(bytes.fromhex("0b4a0140"))
    assert event == TelephoneEvent(event=11, end=False, volume=10, duration=320)
    assert bytes(event) == bytes.fromhex("0b0a0140")


def test_event_numbers_name_digits() -> None:
    assert [TelephoneEvent(n).digit for n in range(16)] == list("0123456789*#ABCD")
    assert TelephoneEvent(16).digit is None  # flash


@pytest.mark.parametrize("payload", [b"", b"\x01\x8a\x08", b"\x01\x8a\x08\xc0\x00"])
def test_payload_of_wrong_size_raises_rtp_error(payload: bytes) -> None:
    with pytest.raises(RtpError):
        TelephoneEvent.parse(payload)


@pytest.mark.parametrize(
    "event", [TelephoneEvent(256), TelephoneEvent(1, volume=64), TelephoneEvent(1, duration=65536)]
)
def test_unwritable_event_raises_rtp_error(event: TelephoneEvent) -> None:
    with pytest.raises(RtpError):
        bytes(event)


@given(st.binary(min_size=4, max_size=4))
def test_every_payload_round_trips_but_the_reserved_bit(payload: bytes) -> None:
    assert bytes(TelephoneEvent.parse(payload)) == payload[:1] + bytes([payload[1] & 0xBF]) + payload[2:]


def test_sender_frames_for_a_100_ms_press() -> None:
    frames = dtmf_frames("5", timestamp=1000, duration_ms=100)
    assert [(f.tick, f.marker, f.event.end, f.event.duration) for f in frames] == [
        (0, True, False, 160),
        (1, False, False, 320),
        (2, False, False, 480),
        (3, False, False, 640),
        (4, False, True, 800),
        (5, False, True, 800),
        (6, False, True, 800),
    ]
    assert {(f.timestamp, f.event.event, f.event.volume) for f in frames} == {(1000, 5, 10)}


def test_sender_short_press_starts_with_the_marker_and_ends_three_times() -> None:
    frames = dtmf_frames("#", timestamp=0, duration_ms=10, clock_rate=16000, ptime_ms=30, volume=7)
    assert [(f.marker, f.event) for f in frames] == [(True, TelephoneEvent(11, True, 7, 160))] + [
        (False, TelephoneEvent(11, True, 7, 160))
    ] * 2


def test_sender_packets_carry_the_stream_fields() -> None:
    frame = dtmf_frames("A", timestamp=99)[0]
    packet = frame.packet(PT, sequence=7, ssrc=SSRC)
    assert packet == RtpPacket(PT, 7, 99, SSRC, payload=bytes.fromhex("0c0a00a0"), marker=True)


@pytest.mark.parametrize(
    ("digit", "duration_ms"), [("", 100), ("12", 100), ("E", 100), ("1", 0), ("1", 9000), ("1", -20)]
)
def test_sender_refuses_bad_requests(digit: str, duration_ms: int) -> None:
    with pytest.raises(ValueError):
        dtmf_frames(digit, timestamp=0, duration_ms=duration_ms)


def press(digit: str, timestamp: int, first_sequence: int, duration_ms: int = 100) -> list[RtpPacket]:
    frames = dtmf_frames(digit, timestamp=timestamp, duration_ms=duration_ms)
    return [f.packet(PT, first_sequence + i, SSRC) for i, f in enumerate(frames)]


def receive_all(packets: list[RtpPacket], receiver: DtmfReceiver | None = None) -> list[Digit]:
    receiver = receiver or DtmfReceiver()
    return [d for d in map(receiver.receive, packets) if d is not None]


def test_one_digit_per_press() -> None:
    packets = press("1", 1000, 1) + press("1", 3000, 8) + press("9", 5000, 15)
    assert receive_all(packets) == [Digit("1", 1000), Digit("1", 3000), Digit("9", 5000)]


def test_the_digit_comes_with_the_first_packet() -> None:
    receiver = DtmfReceiver()
    packets = press("7", 0, 0)
    assert receiver.receive(packets[0]) == Digit("7", 0)
    assert [receiver.receive(p) for p in packets[1:]] == [None] * 6


def test_lost_first_packets_still_give_the_digit() -> None:
    packets = press("3", 1000, 1)[2:] + press("3", 3000, 8)[4:]  # second press: only its end packets arrive
    assert receive_all(packets) == [Digit("3", 1000), Digit("3", 3000)]


def test_duplicates_and_reordering_give_one_digit() -> None:
    packets = press("*", 1000, 1)
    shuffled = packets * 3
    random.Random(4).shuffle(shuffled)
    assert receive_all(shuffled) == [Digit("*", 1000)]


def test_a_new_ssrc_is_a_new_press() -> None:
    first = press("2", 1000, 1)
    other = [RtpPacket(p.payload_type, p.sequence, p.timestamp, SSRC + 1, p.payload, p.marker) for p in first]
    assert receive_all(first + other) == [Digit("2", 1000), Digit("2", 1000)]


def test_long_event_segments_continue_one_press() -> None:
    segment = TelephoneEvent(4, end=False, duration=0xFFFF)
    packets = [
        RtpPacket(PT, 1, 1000, SSRC, bytes(TelephoneEvent(4, duration=160)), marker=True),
        RtpPacket(PT, 2, 1000, SSRC, bytes(segment)),
        RtpPacket(PT, 3, 1000 + 0xFFFF, SSRC, bytes(TelephoneEvent(4, duration=160))),
        RtpPacket(PT, 4, 1000 + 0xFFFF, SSRC, bytes(TelephoneEvent(4, end=True, duration=800))),
    ]
    assert receive_all(packets) == [Digit("4", 1000)]


def test_a_marked_packet_after_an_unfinished_press_is_a_new_press() -> None:
    packets = press("6", 1000, 1)[:2] + press("6", 1160, 3)  # end of the first press lost
    assert receive_all(packets) == [Digit("6", 1000), Digit("6", 1160)]


def test_events_that_are_not_digits_are_not_reported() -> None:
    flash = RtpPacket(PT, 1, 1000, SSRC, bytes(TelephoneEvent(16, duration=160)), marker=True)
    assert receive_all([flash, *press("0", 2000, 2)]) == [Digit("0", 2000)]


def test_a_bad_payload_raises_rtp_error_and_leaves_the_receiver_working() -> None:
    receiver = DtmfReceiver()
    with pytest.raises(RtpError):
        receiver.receive(RtpPacket(PT, 1, 1000, SSRC, b"\x01"))
    assert receive_all(press("8", 1000, 2), receiver) == [Digit("8", 1000)]


@given(
    st.lists(st.sampled_from(DIGITS), min_size=1, max_size=6),
    st.randoms(use_true_random=False),
    st.integers(0, 0xFFFFFFFF),
)
def test_any_loss_short_of_a_whole_press_and_any_duplication_give_the_digits(
    digits: list[str], rng: random.Random, start: int
) -> None:
    arrived: list[RtpPacket] = []
    for i, digit in enumerate(digits):
        packets = press(digit, (start + 2400 * i) & 0xFFFFFFFF, 10 * i)
        kept = [p for p in packets if rng.random() < 0.6] or [rng.choice(packets)]
        arrived += [p for p in kept for _ in range(rng.randint(1, 3))]
    assert [d.digit for d in receive_all(arrived)] == digits
