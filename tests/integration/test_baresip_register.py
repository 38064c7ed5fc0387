"""baresip, a real softphone, as an agent's phone against the server's registrar and SIP port (in-process server,
so that the registrar's bindings can be read directly)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from infolinia import demo
from infolinia.app import Infolinia
from infolinia.voice.bindings import Binding
from tests.baresip import Baresip, needs_baresip, running_baresip

pytestmark = needs_baresip


async def bindings_of(center: Infolinia, extension: str) -> list[Binding]:
    tenant = await center.registrar.directory.tenant("demo")
    assert tenant is not None
    return center.registrar.contacts(tenant.id, extension, time.time())


async def until(check: Callable[[], Awaitable[bool]], what: str, within_s: float = 20.0) -> None:
    deadline = time.monotonic() + within_s
    while not await check():
        assert time.monotonic() < deadline, f"not within {within_s} s: {what}"
        await asyncio.sleep(0.05)


def server(center: Infolinia) -> tuple[str, int]:
    assert center.sip_address is not None
    return center.sip_address


async def test_baresip_registers_as_an_agent_and_its_quit_unregisters(center: Infolinia, tmp_path: Path) -> None:
    phone = await Baresip.start(tmp_path)
    try:
        await phone.register("1001", demo.PASSWORD, server(center))
        ok = await phone.wait_registered()
        assert (ok.aor, ok.param) == ("sip:1001@demo.infolinia", "200 OK")
        [binding] = await bindings_of(center, "1001")
        assert binding.source == ("127.0.0.1", phone.sip_port), phone.describe()
        assert binding.uri.startswith("sip:1001-") and binding.uri.endswith(f"@127.0.0.1:{phone.sip_port}")
        assert 0 < binding.expires_in(time.time()) <= 60
    finally:
        code = await phone.stop()
    assert code == 0, phone.describe()
    assert [e.type for e in phone.events if e.type in ("SHUTDOWN", "UNREGISTERING", "EXIT")] == [
        "SHUTDOWN", "UNREGISTERING", "EXIT",
    ], phone.describe()  # fmt: skip

    async def gone() -> bool:
        return not await bindings_of(center, "1001")

    await until(gone, "the binding of 1001 removed after baresip quit")


async def test_deleting_the_account_unregisters_it(center: Infolinia, tmp_path: Path) -> None:
    async with running_baresip(tmp_path) as phone:
        aor = await phone.register("1004", demo.PASSWORD, server(center))
        await phone.wait_registered()
        assert len(await bindings_of(center, "1004")) == 1
        await phone.unregister(aor)

        async def gone() -> bool:
            return not await bindings_of(center, "1004")

        await until(gone, "the binding of 1004 removed after uadel")


async def test_a_wrong_password_never_registers(center: Infolinia, tmp_path: Path) -> None:
    async with running_baresip(tmp_path) as phone:
        await phone.register("1003", "not-the-password", server(center))
        failed = await phone.wait_event(("REGISTER_OK", "REGISTER_FAIL"))
        assert (failed.type, failed.param) == ("REGISTER_FAIL", "401 Unauthorized"), phone.describe()
        assert await bindings_of(center, "1003") == []
        assert "REGISTER_OK" not in [e.type for e in phone.events]


async def test_a_call_to_the_server_closes_cleanly(center: Infolinia, tmp_path: Path) -> None:
    """Whatever the server answers an INVITE today, the call ends and the phone is left without calls."""
    async with running_baresip(tmp_path) as phone:
        await phone.register("1002", demo.PASSWORD, server(center))
        await phone.wait_registered()
        await phone.dial("sip:800100200@demo.infolinia")
        first = await phone.wait_event(("CALL_ESTABLISHED", "CALL_CLOSED"))
        if first.type == "CALL_ESTABLISHED":
            await phone.hangup()
        closed = first if first.type == "CALL_CLOSED" else await phone.wait_event("CALL_CLOSED")
        assert (closed.direction, closed.peer_uri) == ("outgoing", "sip:800100200@demo.infolinia"), phone.describe()
        assert closed.call_id, phone.describe()
        assert "Active calls (0)" in await phone.command("listcalls"), phone.describe()
        assert len(await bindings_of(center, "1002")) == 1  # the call did not disturb the registration
