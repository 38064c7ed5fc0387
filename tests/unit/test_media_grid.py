"""The send grid: streams spread over slots of one 20 ms period, absolute deadlines, joining and catch-up."""

from __future__ import annotations

import itertools
from collections import defaultdict

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infolinia.voice.media.grid import SendGrid


def run(grid: SendGrid[int], until: float) -> dict[int, list[float]]:
    """Drive the grid like the engine's timer: wake at each next deadline until `until`."""
    sent: dict[int, list[float]] = defaultdict(list)
    while (deadline := grid.next_deadline()) is not None and deadline <= until:
        for tick in grid.due(deadline):
            for stream in tick.streams:
                sent[stream].append(tick.deadline)
    return sent


def test_streams_spread_evenly_and_each_sends_every_20_ms() -> None:
    grid: SendGrid[int] = SendGrid(origin=0.0)
    for stream in range(100):
        grid.add(stream, now=0.0005)
    sent = run(grid, until=1.0)
    phases = defaultdict(int)
    for times in sent.values():
        assert all(b - a == pytest.approx(0.02) for a, b in itertools.pairwise(times))
        assert 0.0005 < times[0] <= 0.0205  # from its slot's first tick after joining
        phases[round(times[0] % 0.02, 6)] += 1
    assert len(sent) == 100
    assert sorted(phases.values()) == [10] * 10  # ten slots 2 ms apart, ten streams each


def test_ticks_come_oldest_first_and_removal_stops_the_clock() -> None:
    grid: SendGrid[str] = SendGrid(origin=0.0, slots=4)
    for name in "abcd":
        grid.add(name, now=0.0)
    ticks = grid.due(0.05)
    assert [t.deadline for t in ticks] == sorted(t.deadline for t in ticks)
    for name in "abcd":
        grid.remove(name)
    assert grid.next_deadline() is None and len(grid) == 0
    grid.remove("a")  # nothing


def test_after_a_stall_each_slot_catches_up_a_little_and_reports_the_rest() -> None:
    grid: SendGrid[int] = SendGrid(origin=0.0, slots=2, max_burst=3)
    grid.add(1, now=0.0)
    run(grid, until=0.1)
    ticks = grid.due(0.5)  # 400 ms late
    assert [t.streams for t in ticks] == [(1,)] * 3
    assert ticks[0].skipped + 3 == round((0.5 - 0.1) / 0.02)
    assert [t.skipped for t in ticks[1:]] == [0, 0]


def test_a_stream_joining_during_a_stall_starts_without_a_burst() -> None:
    grid: SendGrid[int] = SendGrid(origin=0.0, slots=1)
    grid.add(1, now=0.0)
    run(grid, until=0.1)
    grid.add(2, now=0.105)  # joins at 0.12, then the loop stalls until 0.2
    ticks = grid.due(0.2)
    assert [t.streams for t in ticks] == [(1,), (1,), (1, 2)]


@given(st.lists(st.floats(0, 1), min_size=1, max_size=40))
def test_every_stream_starts_within_one_period_of_joining(joins: list[float]) -> None:
    grid: SendGrid[int] = SendGrid(origin=0.0)
    starts: dict[int, float] = {}

    def drive(until: float) -> None:  # the engine's timer, on time
        while (deadline := grid.next_deadline()) is not None and deadline <= until:
            for tick in grid.due(deadline):
                for stream in tick.streams:
                    starts.setdefault(stream, tick.deadline)

    for stream, at in sorted(enumerate(joins), key=lambda x: x[1]):
        drive(at)
        grid.add(stream, at)
    drive(2.0)
    assert all(0 < starts[s] - joins[s] <= 0.02 + 1e-9 for s in range(len(joins)))
