"""How late the event loop runs: a timer every `interval` seconds that notes its own lateness.

Everything of the process (SIP, media relay, HTTP, database results) waits while one callback runs; a callback
that takes 50 ms delays every RTP packet due meanwhile by up to 50 ms. The watch cannot say which callback it
was, but it says when and for how long the loop was held, which tells a stall of the server from one elsewhere
(a client, the network). `/healthz` reports it under `loop`.

With `trace_after` (the setting `trace_stalls_ms`), a thread also looks every 10 ms whether the loop's timer
has run in the last `trace_after` seconds and, when it has not, logs the stack of the thread that runs the loop:
the code holding it (or, for a system call that blocks, the call). Off by default: the thread wakes 100 times a
second and takes the interpreter's lock each time.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
import time
import traceback
from collections import deque
from typing import Any

INTERVAL_S = 0.05
STALL_S = 0.02  # a timer this late (or later) is a stall
KEEP = 64  # the most recent stalls kept, with their times
LOOK_S = 0.01

log = logging.getLogger(__name__)


class LoopWatch:
    def __init__(
        self, interval: float = INTERVAL_S, stall: float = STALL_S, keep: int = KEEP, trace_after: float = 0.0
    ) -> None:
        self.interval = interval
        self.trace_after = trace_after
        self.traced = 0  # stacks logged
        self.stall = stall
        self.stalls = 0
        self.max_late = 0.0
        self.recent: deque[tuple[float, float]] = deque(maxlen=keep)  # (wall time the stall began, seconds)
        self._due = 0.0
        self._handle: asyncio.TimerHandle | None = None
        self._beat = 0.0  # monotonic time the timer last ran
        self._stop = threading.Event()
        self._tracer: threading.Thread | None = None

    def start(self) -> None:
        self._beat = time.monotonic()
        self._arm(asyncio.get_running_loop(), self._beat)
        if self.trace_after > 0 and self._tracer is None:
            self._stop.clear()
            self._tracer = threading.Thread(
                target=self._trace, args=(threading.get_ident(),), name="loop-stall-tracer", daemon=True
            )
            self._tracer.start()

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if self._tracer is not None:
            self._stop.set()
            self._tracer.join()
            self._tracer = None

    def _trace(self, loop_thread: int) -> None:
        """The tracing thread: one stack per stall, taken once the timer is `trace_after` overdue."""
        _above_the_loop()
        traced_beat = -1.0
        while not self._stop.wait(LOOK_S):
            beat = self._beat
            held = time.monotonic() - beat - self.interval
            if held < self.trace_after or beat == traced_beat:
                continue
            frame = sys._current_frames().get(loop_thread)
            if frame is None:
                continue
            traced_beat = beat
            self.traced += 1
            stack = "".join(traceback.format_stack(frame))
            log.warning("event loop held for %.0f ms so far, at:\n%s", held * 1000, stack)

    def _arm(self, loop: asyncio.AbstractEventLoop, now: float) -> None:
        self._due = now + self.interval
        self._handle = loop.call_later(self.interval, self._fire, loop)

    def _fire(self, loop: asyncio.AbstractEventLoop) -> None:
        now = time.monotonic()
        self._beat = now
        self.note(now - self._due, time.time())
        self._arm(loop, now)

    def note(self, late: float, wall: float) -> None:
        """A timer ran `late` seconds after its time; it ran at `wall` (CLOCK_REALTIME)."""
        if late > self.max_late:
            self.max_late = late
        if late >= self.stall:
            self.stalls += 1
            self.recent.append((wall - late, late))

    def stats(self) -> dict[str, Any]:
        return {
            "interval_ms": self.interval * 1000,
            "stall_ms": self.stall * 1000,
            "stalls": self.stalls,
            "max_late_ms": round(self.max_late * 1000, 3),
            "stacks_logged": self.traced,
            "recent_stalls": [[round(at, 3), round(late * 1000, 3)] for at, late in self.recent],
        }


def _above_the_loop() -> None:
    """Under a real-time policy (a process run with ``chrt``), one priority above the loop's thread: a thread of
    the same priority on the same core would run only when the loop's thread blocks, never while it is busy.
    (On Linux, 0 names the calling thread.) Without the privilege, or on another system: as it is."""
    try:
        if os.sched_getscheduler(0) in (os.SCHED_FIFO, os.SCHED_RR):
            os.sched_setparam(0, os.sched_param(os.sched_getparam(0).sched_priority + 1))
    except (AttributeError, OSError):
        pass
