"""The media clock, sans-IO: every stream's packets on one grid of absolute deadlines.

Tick n is due at `origin + n * period`, computed from n each time, so no deadline drifts however long a call
lasts. A stream joins at the next tick and counts its packets from there: packet k of a stream is its tick
`first + k`, so its RTP timestamp is `start + k * samples_per_packet` whatever the loop was doing. The asyncio
shell asks `next_deadline()`, sleeps until then, and sends what `due(now)` returns; after a stall it catches up
at most `max_burst` packets per stream and skips the older ones (the receiver sees a gap, never a slowed clock).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)

_EPSILON = 1e-9  # seconds: float error must not move a deadline to the tick before


@dataclass(frozen=True, slots=True)
class Due(Generic[K]):
    """Packet `packet` of `stream`, due at `deadline`; `skipped` packets before it were too late to send."""

    stream: K
    packet: int
    deadline: float
    skipped: int = 0


class MediaClock(Generic[K]):
    def __init__(self, origin: float, period: float = 0.020, max_burst: int = 3) -> None:
        if period <= 0 or max_burst < 1:
            raise ValueError("period must be positive and max_burst at least 1")
        self.origin = origin
        self.period = period
        self.max_burst = max_burst
        self._first: dict[K, int] = {}
        self._next: dict[K, int] = {}
        self._buckets: dict[int, dict[K, None]] = {}
        self._ticks: list[int] = []

    def __len__(self) -> int:
        return len(self._next)

    def time_of(self, tick: int) -> float:
        return self.origin + tick * self.period

    def last_tick(self, now: float) -> int:
        """The newest tick due at `now` (its deadline <= now)."""
        return math.floor((now - self.origin) / self.period + _EPSILON)

    def add(self, stream: K, now: float) -> float:
        """Start a stream at the first tick after `now`; returns that deadline. A stream already there restarts."""
        self.remove(stream)
        tick = self.last_tick(now) + 1
        self._first[stream] = tick
        self._schedule(stream, tick)
        return self.time_of(tick)

    def remove(self, stream: K) -> None:
        tick = self._next.pop(stream, None)
        self._first.pop(stream, None)
        if tick is not None:
            self._buckets[tick].pop(stream, None)

    def next_deadline(self) -> float | None:
        """When the next packet of any stream is due, or None without streams."""
        while self._ticks and not self._buckets.get(self._ticks[0]):
            self._buckets.pop(heapq.heappop(self._ticks), None)
        return self.time_of(self._ticks[0]) if self._ticks else None

    def due(self, now: float) -> list[Due[K]]:
        """Every packet due by `now`, oldest deadline first; each stream then waits for the tick after `now`."""
        current = self.last_tick(now)
        out: list[Due[K]] = []
        while self._ticks and self._ticks[0] <= current:
            tick = heapq.heappop(self._ticks)
            for stream in self._buckets.pop(tick, {}):
                out.extend(self._catch_up(stream, tick, current))
        out.sort(key=lambda d: d.deadline)
        return out

    def _catch_up(self, stream: K, tick: int, current: int) -> list[Due[K]]:
        first = self._first[stream]
        start = max(tick, current - self.max_burst + 1)
        self._schedule(stream, current + 1)
        return [
            Due(stream, t - first, self.time_of(t), start - tick if t == start else 0)
            for t in range(start, current + 1)
        ]

    def _schedule(self, stream: K, tick: int) -> None:
        self._next[stream] = tick
        bucket = self._buckets.get(tick)
        if bucket is None:
            bucket = self._buckets[tick] = {}
            heapq.heappush(self._ticks, tick)
        bucket[stream] = None
