"""An ended call is freed at once by reference counting, not left for the cyclic garbage collector (in-process
server, SIPp as the caller). Calls left in reference cycles pile up between collections, and the full collection
that frees them pauses the loop, media clock included, for tens of milliseconds under load."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import time
import weakref
from pathlib import Path
from typing import Any

import pytest

from infolinia.app import Infolinia
from infolinia.voice.calls.inbound import CallState, InboundCall
from tests.sipp import bye, call_scenario, needs_sipp, pause, run_call, sip_log

pytestmark = needs_sipp


class Watched(dict[str, InboundCall]):
    """The call manager's table of calls, keeping a weak reference to every call put in it."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.seen: list[weakref.ref[InboundCall]] = []

    def __setitem__(self, key: str, call: InboundCall) -> None:
        self.seen.append(weakref.ref(call))
        super().__setitem__(key, call)


async def test_an_ended_call_is_freed_without_the_garbage_collector(
    center: Infolinia, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(center.calls, "settings", dataclasses.replace(center.settings, always_open=True))
    watched = Watched(center.calls.calls)
    monkeypatch.setattr(center.calls, "calls", watched)
    assert center.sip_address is not None
    gc.collect()
    gc.disable()
    try:
        # greeting, the menu, digit-less; the caller hangs up in the menu
        scenario = call_scenario(pause(2500), bye())
        result = await asyncio.to_thread(run_call, center.sip_address[1], tmp_path, scenario)
        assert result.returncode == 0, result.stdout[-2000:] + sip_log(tmp_path)
        [ref] = watched.seen
        deadline = time.monotonic() + 10
        while (call := ref()) is not None and (call.state is not CallState.ENDED or not call._task.done()):
            assert time.monotonic() < deadline, f"the call did not finish: {call.state}"
            del call
            await asyncio.sleep(0.05)
        del call
        await asyncio.sleep(0.1)  # the loop lets go of the finished task's callbacks
        left = ref()
        holders = [] if left is None else [type(r).__name__ for r in gc.get_referrers(left)]
        del left
        assert ref() is None, f"the ended call is still referred to by {holders}"
    finally:
        gc.enable()
