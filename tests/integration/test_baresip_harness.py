"""The baresip harness itself, on two phones calling each other directly (no server): what call tests rely on,
the tone each phone sends, the recording of what it hears, RFC 4733 digits, and a call ending with its tone."""

from __future__ import annotations

import asyncio
import time
from contextlib import AsyncExitStack
from pathlib import Path

from tests.baresip import Baresip, dominant_frequency, needs_baresip, running_baresip

pytestmark = needs_baresip


async def call(caller: Baresip, callee: Baresip) -> str:
    """``caller`` calls ``callee``, which answers; the call's id once media flows both ways."""
    await caller.local_account("a")
    await callee.local_account("b")
    await caller.dial(callee.uri("b"))
    incoming = await callee.wait_event("CALL_INCOMING")
    assert incoming.param == caller.uri("a"), callee.describe()
    await callee.accept()
    for phone in (caller, callee):
        established = await phone.wait_event("CALL_ESTABLISHED")
        assert established.call_id == incoming.call_id, phone.describe()
        await phone.wait_event("CALL_RTPESTAB")
    assert incoming.call_id is not None
    return incoming.call_id


async def heard_at_least(phone: Baresip, seconds: float, within_s: float = 20.0) -> None:
    """Poll until the phone's recording of what it hears holds ``seconds`` of audio (8 kHz, 16-bit)."""
    deadline = time.monotonic() + within_s
    while not any(path.stat().st_size > 44 + seconds * 16000 for path in phone.recordings()):
        assert time.monotonic() < deadline, f"under {seconds} s recorded\n{phone.describe()}"
        await asyncio.sleep(0.05)


async def test_each_phone_records_the_others_tone_and_receives_digits(tmp_path: Path) -> None:
    async with AsyncExitStack() as stack:
        a = await stack.enter_async_context(running_baresip(tmp_path / "a", tone_hz=440))
        b = await stack.enter_async_context(running_baresip(tmp_path / "b", tone_hz=1000))
        call_id = await call(a, b)
        await a.send_digits("12#")
        digits = [(await b.wait_event("CALL_DTMF_START")).param for _ in range(3)]
        assert digits == ["1", "2", "#"], b.describe()
        await heard_at_least(a, 1.0)
        await heard_at_least(b, 1.0)
        await b.hangup()
        for phone in (a, b):
            closed = await phone.wait_event("CALL_CLOSED")
            assert closed.call_id == call_id, phone.describe()
        [heard_by_a] = a.recordings()
        [heard_by_b] = b.recordings()
        assert abs(dominant_frequency(heard_by_a) - 1000) < 15
        assert abs(dominant_frequency(heard_by_b) - 440) < 15
        [sent_by_a] = a.recordings("enc")
        assert abs(dominant_frequency(sent_by_a) - 440) < 15


async def test_a_call_ends_when_the_tone_does(tmp_path: Path) -> None:
    async with AsyncExitStack() as stack:
        a = await stack.enter_async_context(running_baresip(tmp_path / "a", tone_seconds=1.0))
        b = await stack.enter_async_context(running_baresip(tmp_path / "b"))
        call_id = await call(a, b)
        ended = await a.wait_event("CALL_CLOSED")
        assert (ended.call_id, ended.param) == (call_id, "end of file"), a.describe()
        assert "AUDIO_ERROR" in [e.type for e in a.events]
        assert (await b.wait_event("CALL_CLOSED")).call_id == call_id, b.describe()
