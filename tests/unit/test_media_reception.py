"""Reception accounting (RFC 3550 A.1 and A.8): loss, duplicates, reordering, wrap, restarts and jitter."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infolinia.voice.media.reception import MAX_DROPOUT, Reception

SSRC = 42


def feed(reception: Reception, sequences: list[int], ssrc: int = SSRC) -> list[bool]:
    return [reception.packet(ssrc, s & 0xFFFF, 160 * s, 160.0 * i, True) for i, s in enumerate(sequences)]


def test_gaps_count_as_lost() -> None:
    reception = Reception()
    feed(reception, [10, 11, 14, 15, 20])
    assert reception.lost == 2 + 4
    assert reception.duplicates == 0


def test_late_packets_fill_their_gap_and_duplicates_are_not_received_twice() -> None:
    reception = Reception()
    assert feed(reception, [1, 2, 4, 3, 4, 2, 5]) == [True, True, True, True, False, False, True]
    assert (reception.lost, reception.duplicates) == (0, 2)


def test_the_sequence_number_wraps() -> None:
    reception = Reception()
    feed(reception, [65533, 65534, 65535, 65536, 65538])
    assert reception.lost == 1


def test_a_new_ssrc_keeps_the_loss_so_far_and_counts_afresh() -> None:
    reception = Reception()
    feed(reception, [1, 3])
    feed(reception, [900, 901, 903], ssrc=7)
    assert reception.lost == 2


def test_a_large_jump_restarts_only_when_the_next_packet_confirms_it() -> None:
    reception = Reception()
    feed(reception, [100, 101])
    far = 101 + MAX_DROPOUT + 10
    assert feed(reception, [far]) == [True]  # delivered, not counted
    assert reception.lost == 0
    feed(reception, [102])  # it was a stray: the stream goes on
    feed(reception, [far, far + 1, far + 3])  # a real restart: two in a row
    assert reception.lost == 1


@given(st.lists(st.booleans(), min_size=1, max_size=500), st.integers(0, 0xFFFF))
def test_lost_is_exactly_what_was_left_out(kept: list[bool], start: int) -> None:
    kept[0] = kept[-1] = True  # RFC 3550 counts only between the first and the highest received
    reception = Reception()
    feed(reception, [start + i for i, k in enumerate(kept) if k])
    assert reception.lost == kept.count(False)


def test_jitter_is_zero_for_constant_transit_and_follows_a8_otherwise() -> None:
    steady = Reception()
    for i in range(100):
        steady.packet(SSRC, i, 160 * i, 160.0 * i + 37, True)
    assert steady.jitter == 0
    alternating = Reception()
    d = 40.0  # timestamp units: every packet 5 ms early or late against the one before
    for i in range(200):
        alternating.packet(SSRC, i, 160 * i, 160.0 * i + (d if i % 2 else 0.0), True)
    assert alternating.jitter == pytest.approx(d * (1 - (15 / 16) ** 199))


def test_telephone_events_do_not_count_for_jitter() -> None:
    reception = Reception()
    for i in range(50):  # one press: the same timestamp in every packet, 20 ms apart
        reception.packet(SSRC, i, 8000, 160.0 * i, False)
    assert reception.jitter == 0
    assert reception.lost == 0
