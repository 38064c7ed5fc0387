"""Who sends on which tick, pure: many streams on a few `MediaClock` grids, at the cost of one stream each.

`MediaClock` keeps each stream's deadlines, packet count and catch-up on its own: about 10 us per packet in
CPython, as much as sending the packet. Legs number their RTP timestamps from each tick's deadline and need none
of that per stream, so a grid is one stream of a clock and `SendGrid` keeps the set of streams that send on it.

There are `slots` grids of the same 20 ms period, their origins spread evenly over it (10 slots: a tick every
2 ms). A stream goes to the slot with the fewest streams (the soonest among equals) and stays there, so every
stream still sends on absolute deadlines 20 ms apart, but a server with 800 legs sends 80 packets every 2 ms
instead of 800 in one burst: a tick stays short, incoming packets are not kept waiting behind it, and a stall
(another process on the core, a page fault) delays the packets due during it, not the rest of a long burst.

A stream added at time t sends from its slot's first tick after t (as `MediaClock.add` does). After a stall each
slot catches up like a clock stream (at most `max_burst` ticks, the older ones reported as skipped); a stream
that joins then starts at the newest of them, without a burst. A slot leaves its clock when its last stream goes,
so an idle engine does not wake up.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from infolinia.voice.rtp import MediaClock

K = TypeVar("K", bound=Hashable)

_GRID = "grid"
_EPSILON = 1e-9


@dataclass(frozen=True, slots=True)
class Tick(Generic[K]):
    """A tick's deadline, the ticks of its slot skipped before it, and the streams that send on it."""

    deadline: float
    skipped: int
    streams: tuple[K, ...]


class _Slot(Generic[K]):
    __slots__ = ("clock", "joining", "sending")

    def __init__(self, clock: MediaClock[str]) -> None:
        self.clock = clock
        self.sending: dict[K, None] = {}
        self.joining: dict[K, float] = {}  # stream -> the deadline of its first tick

    def __len__(self) -> int:
        return len(self.sending) + len(self.joining)

    def next_tick(self, now: float) -> float:
        return self.clock.time_of(self.clock.last_tick(now) + 1)

    def due(self, now: float) -> list[Tick[K]]:
        dues = self.clock.due(now)
        ticks = []
        for i, due in enumerate(dues):
            if self.joining and i == len(dues) - 1:
                joined = [s for s, first in self.joining.items() if first <= due.deadline + _EPSILON]
                for stream in joined:
                    del self.joining[stream]
                    self.sending[stream] = None
            ticks.append(Tick(due.deadline, due.skipped, tuple(self.sending)))
        return ticks


class SendGrid(Generic[K]):
    def __init__(self, origin: float, period: float = 0.020, slots: int = 10, max_burst: int = 3) -> None:
        self.period = period
        self._slots: list[_Slot[K]] = [
            _Slot(MediaClock(origin + k * period / slots, period, max_burst)) for k in range(slots)
        ]
        self._slot_of: dict[K, _Slot[K]] = {}

    def __len__(self) -> int:
        return len(self._slot_of)

    def __contains__(self, stream: K) -> bool:
        return stream in self._slot_of

    def add(self, stream: K, now: float) -> None:
        """Send `stream` every period from its slot's first tick after `now`. Nothing when it is on already."""
        if stream in self._slot_of:
            return
        slot = min(self._slots, key=lambda s: (len(s), s.next_tick(now)))
        if not len(slot):
            slot.clock.add(_GRID, now)
        slot.joining[stream] = slot.next_tick(now)
        self._slot_of[stream] = slot

    def remove(self, stream: K) -> None:
        slot = self._slot_of.pop(stream, None)
        if slot is None:
            return
        slot.sending.pop(stream, None)
        slot.joining.pop(stream, None)
        if not len(slot):
            slot.clock.remove(_GRID)

    def latest_tick(self, now: float) -> float:
        """The newest deadline at or before `now` on the grid of the first slot (a place to align things on)."""
        clock = self._slots[0].clock
        return clock.time_of(clock.last_tick(now))

    def next_deadline(self) -> float | None:
        deadlines = [d for slot in self._slots if (d := slot.clock.next_deadline()) is not None]
        return min(deadlines, default=None)

    def due(self, now: float) -> list[Tick[K]]:
        """The ticks due by `now` in every slot, oldest first, each with the streams on it at that time."""
        ticks = [tick for slot in self._slots for tick in slot.due(now)]
        ticks.sort(key=lambda tick: tick.deadline)
        return ticks
