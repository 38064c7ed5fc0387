"""The media engine, the asyncio shell of the media plane: one per process, owning every leg's sockets and time.

Time: the legs' packets go out on `MediaClock` grids of 20 ms (`SendGrid`: ten of them, 2 ms apart, each leg on
one), and one timer (`loop.call_at`) is re-armed on their `next_deadline()`; each firing sends the packets of
every leg due, so sending costs one callback per tick for the whole server, not a task per call. A leg joins its
grid at the next tick. A slower housekeeping timer writes recordings out and finds peers that went silent.

Sockets: each leg's two sockets are watched with `loop.add_reader` and read with `recv_into` (`recvfrom_into`
until latched) into one buffer the legs share (the loop runs one callback at a time). That works alike on uvloop
and on asyncio's selector loop (no 256 KiB receive per datagram), and lets `open_leg()` be a plain call while the
call control builds its SDP."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from typing import Final

from infolinia.voice.media.address import ip_literal
from infolinia.voice.media.errors import MediaError
from infolinia.voice.media.grid import SendGrid
from infolinia.voice.media.leg import MAX_PACKET, MediaLeg
from infolinia.voice.media.ports import PortPool
from infolinia.voice.media.stats import COUNTERS

log = logging.getLogger(__name__)

HOUSEKEEPING_S: Final = 0.5  # at most; shorter when the media timeout is short
ENGINE_EVENTS: Final = ("packets_skipped", "tick_errors", "housekeeping_errors")


class MediaEngine:
    def __init__(self, host: str, ports: tuple[int, int], *, media_timeout_s: float = 30.0) -> None:
        """Legs bind on `host` (an IP address) with RTP on even ports in `ports` (low, high; both included)."""
        if media_timeout_s <= 0:
            raise MediaError("media_timeout_s must be positive")
        self.host = ip_literal(host)
        self.media_timeout_s = media_timeout_s
        self._pool = PortPool(self.host, *ports)
        self._legs: dict[int, MediaLeg] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._grid: SendGrid[MediaLeg] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._armed: float | None = None
        self._housekeeping: asyncio.TimerHandle | None = None
        self._closed = False
        self._closed_totals: Counter[str] = Counter(dict.fromkeys(COUNTERS, 0))
        self._counters: Counter[str] = Counter()
        self.buffer = bytearray(MAX_PACKET + 1)  # one more: a datagram that fills it is oversized
        self.view = memoryview(self.buffer)

    # --- lifecycle -------------------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._loop is not None:
            raise MediaError("the media engine is already started")
        self._loop = asyncio.get_running_loop()
        self._grid = SendGrid(origin=self.now())
        self._housekeeping = self._loop.call_later(self._housekeeping_interval, self._housekeep)

    async def close(self) -> None:
        """Close every leg and stop the timers. The engine cannot open legs or start again."""
        self._closed = True
        for leg in list(self._legs.values()):
            leg.close()
        for handle in (self._timer, self._housekeeping):
            if handle is not None:
                handle.cancel()
        self._timer = self._housekeeping = None
        self._armed = None

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise MediaError("the media engine is not started")
        return self._loop

    # --- legs ------------------------------------------------------------------------------------------------

    def open_leg(self) -> MediaLeg:
        """A new leg: RTP on an even free port of the range, RTCP on the one above. MediaError when none is free."""
        self._started_grid()  # raises when not started
        if self._closed:
            raise MediaError("the media engine is closed")
        port, rtp, rtcp = self._pool.acquire()
        leg = MediaLeg(self, port, rtp, rtcp)
        self._legs[port] = leg
        return leg

    def stats(self) -> dict[str, int]:
        """Legs open and ports in use, and counters summed over every leg the engine had: packets and bytes in
        and out, `bad_packets` with a `dropped_<reason>` for each reason, digits, RTCP, send and socket errors,
        timeouts, failed callbacks, and `packets_skipped` (clock ticks too late to send after a stall)."""
        totals = Counter(self._closed_totals)
        for leg in self._legs.values():
            leg.add_counters(totals)
        return {
            "legs_open": len(self._legs),
            "legs_bridged": sum(leg.bridged_to is not None for leg in self._legs.values()),
            "legs_playing": sum(leg.playing for leg in self._legs.values()),
            "port_pairs": self._pool.capacity,
            **totals,
            **{key: self._counters[key] for key in ENGINE_EVENTS},
        }

    # --- for the legs ----------------------------------------------------------------------------------------

    def now(self) -> float:
        """The media plane's time: `time.monotonic()`, CLOCK_MONOTONIC, which asyncio's and uvloop's `loop.time()`
        count too (uvloop in whole milliseconds, as of the start of a loop iteration)."""
        return time.monotonic()

    def tick_time(self) -> float:
        """The time of the latest media clock tick (where a recording starts)."""
        return self._started_grid().latest_tick(self.now())

    def schedule(self, leg: MediaLeg) -> None:
        self._started_grid().add(leg, self.now())
        self._rearm()

    def unschedule(self, leg: MediaLeg) -> None:
        if self._grid is not None:
            self._grid.remove(leg)

    def leg_closed(self, leg: MediaLeg) -> None:
        if self._legs.pop(leg.port, None) is leg:
            self._pool.release(leg.port)
            leg.add_counters(self._closed_totals)

    # --- time ------------------------------------------------------------------------------------------------

    def _started_grid(self) -> SendGrid[MediaLeg]:
        if self._grid is None:
            raise MediaError("the media engine is not started")
        return self._grid

    def _rearm(self) -> None:
        """One timer, at the grid's next deadline. `call_at`, not `call_later`: uvloop measures a delay from the
        time its iteration started (whole milliseconds), so a delay computed from the present fires early by as
        much as the iteration has run; an absolute time on the loop's own clock does not."""
        deadline = self._started_grid().next_deadline()
        if deadline == self._armed:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._armed = deadline
        self._timer = None if deadline is None else self.loop.call_at(deadline, self._fire)

    def _fire(self) -> None:
        armed, self._timer, self._armed = self._armed, None, None
        grid = self._started_grid()
        # a timer may fire a hair before its deadline (the loop rounds): the deadline has come
        now = max(self.now(), armed or 0.0)
        for tick in grid.due(now):
            if tick.skipped:
                self._counters["packets_skipped"] += tick.skipped * len(tick.streams)
            for leg in tick.streams:
                try:
                    leg.tick(tick.deadline, tick.skipped)
                except Exception:  # one leg's fault must not stop the clock for all
                    self._counters["tick_errors"] += 1
                    log.exception("media clock tick failed")
        self._rearm()

    @property
    def _housekeeping_interval(self) -> float:
        return min(HOUSEKEEPING_S, self.media_timeout_s / 4)

    def _housekeep(self) -> None:
        now = self.now()
        for leg in list(self._legs.values()):
            try:
                leg.housekeeping(now, self.media_timeout_s)
            except Exception:
                self._counters["housekeeping_errors"] += 1
                log.exception("media housekeeping failed")
        self._housekeeping = self.loop.call_later(self._housekeeping_interval, self._housekeep)
