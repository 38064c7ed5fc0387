"""The media clock: absolute deadlines on one grid, no drift, bounded catch-up after a stall."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infolinia.voice.rtp.clock import Due, MediaClock


def test_a_stream_starts_at_the_next_tick() -> None:
    clock: MediaClock[str] = MediaClock(origin=100.0)
    assert clock.next_deadline() is None
    assert clock.add("a", now=100.005) == pytest.approx(100.02)
    assert clock.next_deadline() == pytest.approx(100.02)
    assert clock.due(100.019) == []
    assert clock.due(100.02) == [Due("a", 0, pytest.approx(100.02))]  # type: ignore[arg-type]
    assert clock.next_deadline() == pytest.approx(100.04)


def test_streams_share_the_grid_and_count_their_own_packets() -> None:
    clock: MediaClock[int] = MediaClock(origin=0.0)
    clock.add(1, now=0.0)
    clock.due(0.02)
    clock.due(0.04)
    clock.add(2, now=0.045)
    due = clock.due(0.06)
    assert [(d.stream, d.packet) for d in due] == [(1, 2), (2, 0)]
    assert [d.deadline for d in due] == pytest.approx([0.06, 0.06])


def test_deadlines_never_drift() -> None:
    clock: MediaClock[str] = MediaClock(origin=1_000_000.0)
    clock.add("a", now=1_000_000.0)
    late = 0.0
    for n in range(1, 100_001):  # more than half an hour of 20 ms packets, each handled a little late
        deadline = clock.next_deadline()
        assert deadline is not None
        [due] = clock.due(deadline + 0.0007)
        assert due.packet == n - 1
        late = max(late, abs(deadline - (1_000_000.0 + n * 0.02)))
    assert late < 1e-6


def test_a_stall_catches_up_a_few_packets_and_skips_the_rest() -> None:
    clock: MediaClock[str] = MediaClock(origin=0.0, max_burst=3)
    clock.add("a", now=0.0)
    assert [d.packet for d in clock.due(0.02)] == [0]
    due = clock.due(0.155)  # ticks 2..7 are due; only the newest 3 are sent
    assert [(d.packet, d.skipped) for d in due] == [(4, 3), (5, 0), (6, 0)]
    assert clock.next_deadline() == pytest.approx(0.16)


def test_a_short_delay_sends_everything_owed() -> None:
    clock: MediaClock[str] = MediaClock(origin=0.0, max_burst=3)
    clock.add("a", now=0.0)
    assert [(d.packet, d.skipped) for d in clock.due(0.061)] == [(0, 0), (1, 0), (2, 0)]


def test_removed_streams_stop_and_readded_streams_restart() -> None:
    clock: MediaClock[str] = MediaClock(origin=0.0)
    clock.add("a", now=0.0)
    clock.add("b", now=0.0)
    clock.remove("b")
    clock.remove("never added")
    assert [d.stream for d in clock.due(0.02)] == ["a"]
    clock.add("a", now=0.03)
    assert len(clock) == 1
    assert [(d.stream, d.packet) for d in clock.due(0.04)] == [("a", 0)]
    clock.remove("a")
    assert clock.next_deadline() is None
    assert clock.due(10.0) == []


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        MediaClock(origin=0.0, period=0.0)
    with pytest.raises(ValueError):
        MediaClock(origin=0.0, max_burst=0)


@given(
    st.lists(st.tuples(st.integers(0, 9), st.floats(0.0, 0.05)), min_size=1, max_size=60),
    st.floats(0.0, 1000.0),
)
def test_every_packet_is_sent_or_skipped_exactly_once_in_order(steps: list[tuple[int, float]], origin: float) -> None:
    clock: MediaClock[int] = MediaClock(origin=origin, max_burst=2)
    now = origin
    seen: dict[int, list[Due[int]]] = {}
    for stream, wait in steps:
        now += wait
        if stream not in seen:
            clock.add(stream, now)
            seen[stream] = []
        for due in clock.due(now):
            assert due.deadline <= now + 1e-9
            seen[due.stream].append(due)
    for dues in seen.values():
        counted = sum(1 + d.skipped for d in dues)
        assert [d.packet for d in dues] == sorted(d.packet for d in dues)
        assert counted == (dues[-1].packet + 1 if dues else 0)
        assert all(b.packet - a.packet == 1 + b.skipped for a, b in itertools.pairwise(dues))
