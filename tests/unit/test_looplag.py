from __future__ import annotations

import asyncio
import logging
import time

import pytest

from infolinia.looplag import LoopWatch


def test_a_late_timer_is_a_stall_from_the_threshold_on() -> None:
    watch = LoopWatch(interval=0.05, stall=0.02, keep=2)
    watch.note(0.001, 100.0)
    watch.note(0.0199, 101.0)
    assert watch.stats()["stalls"] == 0 and watch.stats()["recent_stalls"] == []
    watch.note(0.02, 102.0)
    watch.note(0.5, 103.0)
    watch.note(0.03, 104.0)
    stats = watch.stats()
    assert stats["stalls"] == 3
    assert stats["max_late_ms"] == 500.0
    assert stats["recent_stalls"] == [[102.5, 500.0], [103.97, 30.0]]  # the newest `keep`, each from its start


async def test_the_tracer_logs_the_stack_that_holds_the_loop(caplog: pytest.LogCaptureFixture) -> None:
    watch = LoopWatch(interval=0.02, trace_after=0.05)
    watch.start()
    try:
        await asyncio.sleep(0.05)
        with caplog.at_level(logging.WARNING, logger="infolinia.looplag"):
            _hold_the_loop(0.3)
            await asyncio.sleep(0.05)
    finally:
        watch.stop()
    assert watch.traced == 1  # one stack per stall, not one per look
    (record,) = [r for r in caplog.records if r.name == "infolinia.looplag"]
    assert "event loop held for" in record.getMessage() and "_hold_the_loop" in record.getMessage()
    assert watch.stats()["stalls"] >= 1 and watch.stats()["max_late_ms"] >= 250


def _hold_the_loop(seconds: float) -> None:
    time.sleep(seconds)


def test_the_tracer_is_off_by_default() -> None:
    assert LoopWatch().trace_after == 0
