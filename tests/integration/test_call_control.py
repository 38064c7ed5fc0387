"""Call control through the API with real softphones (``voice/calls/control.py``, ``api/routes/calls.py``): a
caller (baresip, 440 Hz) dials the demo number and presses 2 (Technical); agent 1002 (baresip, 1000 Hz) answers.
Then, from the REST API: hold (the caller hears the music on hold, not the agent; the agent hears no caller),
resume (both tones again), hang up (BYE to both, the Interaction ended, the agent in wrap-up), and transfers to
another queue or to another agent (1001, baresip, 700 Hz): the first agent gets BYE, the second is rung and then
talks to the caller, and the call goes on in a new Interaction that names the old one."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from infolinia.store.models import Interaction
from tests.a11y import audit
from tests.baresip import Baresip, needs_baresip, running_baresip
from tests.browser import browser, offsite_requests
from tests.integration.test_calls_agent import connect, last_call, tail_frequency_so_far, until_logged
from tests.live import LiveServer, api_login, voice_server

pytestmark = needs_baresip

Served = tuple[LiveServer, int, str]


@pytest.fixture(scope="module")
def server(fresh_db_url, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:  # type: ignore[no-untyped-def]
    url = asyncio.run(fresh_db_url())
    with voice_server(url, tmp_path_factory.mktemp("voice"), 41000) as (live, sip_port):
        yield live, sip_port, url


@asynccontextmanager
async def phones(tmp_path: Path, sip_port: int, second_agent: bool = False) -> AsyncIterator[list[Baresip]]:
    """The caller, agent 1002 and (``second_agent``) agent 1001, registered."""
    async with AsyncExitStack() as stack:
        caller = await stack.enter_async_context(running_baresip(tmp_path / "caller", tone_hz=440))
        found = [caller]
        for extension, tone in (("1002", 1000), ("1001", 700))[: 2 if second_agent else 1]:
            agent = await stack.enter_async_context(running_baresip(tmp_path / extension, tone_hz=tone))
            await agent.register(extension, "demo", ("127.0.0.1", sip_port))
            await agent.wait_registered()
            found.append(agent)
        await caller.local_account("48601200300")
        yield found


@asynccontextmanager
async def ready(client: httpx.AsyncClient, *emails: str) -> AsyncIterator[list[dict[str, str]]]:
    """These agents logged in and ready; offline again afterwards (the next test starts from the same state)."""
    headers = [await api_login(client, email) for email in emails]
    try:
        for h in headers:
            r = await client.put("/api/v1/me/presence", json={"presence": "ready"}, headers=h)
            assert r.status_code == 200, r.text
        yield headers
    finally:
        for h in headers:
            await client.put("/api/v1/me/presence", json={"presence": "offline"}, headers=h)


def level(path: Path, seconds: float = 1.0) -> float:
    """The RMS level (0..1) of the last ``seconds`` a phone heard."""
    data = path.read_bytes()
    start = data.index(b"data") + 8
    pcm = np.frombuffer(data[start : start + (len(data) - start) // 2 * 2], dtype="<i2")[-int(seconds * 8000) :]
    return float(np.sqrt(np.mean((pcm.astype(np.float64) / 32768) ** 2))) if len(pcm) else 0.0


async def queue_id(client: httpx.AsyncClient, headers: dict[str, str], name: str) -> int:
    queues = (await client.get("/api/v1/queues", headers=headers)).json()
    return next(int(q["id"]) for q in queues if q["name"] == name)


async def user_id(client: httpx.AsyncClient, headers: dict[str, str], email: str) -> int:
    users = (await client.get("/api/v1/users", params={"limit": 200}, headers=headers)).json()
    return next(int(u["id"]) for u in users["items"] if u["email"] == email)


async def row(url: str, interaction_id: int) -> Interaction:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            found = (await conn.execute(select(Interaction).where(Interaction.id == interaction_id))).one()
            return Interaction(**found._asdict())
    finally:
        await engine.dispose()


async def test_hold_resume_and_hang_up_from_the_api(server: Served, tmp_path: Path) -> None:
    live, sip_port, _ = server
    async with httpx.AsyncClient(base_url=live.base_url, timeout=20) as client:
        admin = await api_login(client, "admin@demo.test")
        technical = await queue_id(client, admin, "Technical")
        r = await client.patch(f"/api/v1/queues/{technical}", json={"wrapup_s": 60}, headers=admin)
        assert r.status_code == 200, r.text
        try:
            async with ready(client, "agent2@demo.test") as [agent2], phones(tmp_path, sip_port) as [caller, agent]:
                await connect(caller, agent, sip_port)
                call = await last_call(client, admin)
                calls = f"/api/v1/calls/{call['id']}"
                heard_by_caller = await caller.heard(2.0)
                heard_by_agent = await agent.heard(2.0)
                await asyncio.sleep(1.0)
                assert abs(tail_frequency_so_far(heard_by_caller) - 1000) < 15, caller.describe()
                assert abs(tail_frequency_so_far(heard_by_agent) - 440) < 15, agent.describe()

                # refusals: resume a call not held; another agent's call; another tenant's interaction
                r = await client.post(f"{calls}/resume", headers=agent2)
                assert (r.status_code, r.json()["error"]["code"]) == (409, "not_held"), r.text
                other_agent = await api_login(client, "agent3@demo.test")
                r = await client.post(f"{calls}/hold", headers=other_agent)
                assert (r.status_code, r.json()["error"]["code"]) == (403, "not_your_call"), r.text
                acme = await api_login(client, "admin@acme.test")
                assert (await client.post(f"{calls}/hold", headers=acme)).status_code == 404

                mark = len(live.output())
                r = await client.post(f"{calls}/hold", headers=agent2)
                assert r.status_code == 200 and r.json()["held"] is True, r.text
                await until_logged(live, mark, "the desk held the call")
                r = await client.post(f"{calls}/hold", headers=agent2)
                assert (r.status_code, r.json()["error"]["code"]) == (409, "already_held"), r.text
                await asyncio.sleep(2.0)
                on_hold = tail_frequency_so_far(heard_by_caller)
                assert on_hold > 0 and abs(on_hold - 1000) > 30, f"the caller heard {on_hold} Hz on hold"
                assert level(heard_by_caller) > 0.005, "the caller hears music, not silence"
                assert level(heard_by_agent) < 0.002, f"the agent heard {tail_frequency_so_far(heard_by_agent)} Hz"

                r = await client.post(f"{calls}/resume", headers=await api_login(client, "supervisor@demo.test"))
                assert r.status_code == 200 and r.json()["held"] is False, r.text
                await until_logged(live, mark, "the desk resumed the call")
                await asyncio.sleep(2.0)
                assert abs(tail_frequency_so_far(heard_by_caller) - 1000) < 15, caller.describe()
                assert abs(tail_frequency_so_far(heard_by_agent) - 440) < 15, agent.describe()

                r = await client.post(f"{calls}/hangup", headers=agent2)
                assert r.status_code == 200 and r.json()["current_interaction_id"] is None, r.text
                await caller.wait_event("CALL_CLOSED", within_s=15)
                await agent.wait_event("CALL_CLOSED", within_s=15)
                snapshot = (await client.get("/api/v1/routing/snapshot", headers=admin)).json()
                agent2_id = await user_id(client, admin, "agent2@demo.test")
                me = next(a for a in snapshot["agents"] if a["id"] == agent2_id)
                r = await client.post(f"{calls}/hold", headers=agent2)
                assert (r.status_code, r.json()["error"]["code"]) == (409, "no_live_call"), r.text
        finally:
            await client.patch(f"/api/v1/queues/{technical}", json={"wrapup_s": 0}, headers=admin)
        ended = await last_call(client, admin)
        audit = (await client.get("/api/v1/audit", params={"limit": 50}, headers=admin)).json()
    assert ended["id"] == call["id"] and ended["end_reason"] == "agent_hangup", ended
    assert ended["answered_at"] <= ended["ended_at"] and 1.5 <= ended["hold_s"] <= 15, ended
    assert me["presence"] == "wrapup", me
    items = audit["items"]
    assert {"call.held", "call.resumed", "call.hung_up"} <= {a["action"] for a in items}, items


async def wait_for(predicate: Any, within_s: float = 15.0) -> Any:
    deadline = time.monotonic() + within_s
    while not (found := await predicate()):
        assert time.monotonic() < deadline, "never happened"
        await asyncio.sleep(0.1)
    return found


@pytest.mark.parametrize("to", ["queue", "agent"])
async def test_a_transfer_hands_the_caller_to_another_agent(server: Served, tmp_path: Path, to: str) -> None:
    """To the Billing queue (agent 1001 is the only one ready there: 1002 wraps up), or to agent 1001 by name:
    1002 gets BYE, 1001 is rung and answers, caller and 1001 hear each other, and the call goes on in a new
    Interaction (in Billing, or still in Technical) whose ``transferred_from_id`` is the first one."""
    live, sip_port, url = server
    async with httpx.AsyncClient(base_url=live.base_url, timeout=20) as client:
        admin = await api_login(client, "admin@demo.test")
        billing = await queue_id(client, admin, "Billing")
        technical = await queue_id(client, admin, "Technical")
        agent1_id = await user_id(client, admin, "agent1@demo.test")
        async with (
            ready(client, "agent2@demo.test") as [agent2],
            phones(tmp_path, sip_port, second_agent=True) as [caller, first, second],
        ):
            await connect(caller, first, sip_port)
            call = await last_call(client, admin)
            async with ready(client, "agent1@demo.test") as [agent1]:
                body = {"queue_id": billing} if to == "queue" else {"agent_id": agent1_id}
                r = await client.post(f"/api/v1/calls/{call['id']}/transfer", json=body, headers=agent2)
                assert r.status_code == 200, r.text
                moved = r.json()
                assert moved["interaction_id"] == call["id"] and moved["current_interaction_id"] > call["id"], moved
                await first.wait_event("CALL_CLOSED", within_s=15)
                incoming = await second.wait_event("CALL_INCOMING", within_s=30)
                assert "48601200300" in (incoming.param or ""), second.describe()
                tasks = (await client.get("/api/v1/tasks", params={"state": "reserved"}, headers=admin)).json()
                await second.accept()
                await second.wait_event("CALL_ESTABLISHED")
                heard_by_second = await second.heard(2.0)
                await asyncio.sleep(1.0)
                assert abs(tail_frequency_so_far(heard_by_second) - 440) < 15, second.describe()
                heard_by_caller = sorted(caller.recordings(), key=lambda p: p.stat().st_mtime)[-1]
                assert abs(tail_frequency_so_far(heard_by_caller) - 700) < 15, caller.describe()
                new_id = moved["current_interaction_id"]
                task = next(t for t in tasks["items"] if t["interaction_id"] == new_id)
                context = (await client.get(f"/api/v1/tasks/{task['id']}/context", headers=agent1)).json()
                assert context["interaction"]["id"] == new_id, context
                assert context["interaction"]["transferred_from_id"] == call["id"], context  # the API says it too
                await caller.hangup()
                await second.wait_event("CALL_CLOSED", within_s=15)
    old, new = await row(url, call["id"]), await row(url, new_id)
    assert old.transferred_at is not None and old.end_reason == "transferred" and old.ended_at is not None
    assert new.transferred_from_id == old.id and new.agent_id == agent1_id and new.answered_at is not None
    assert new.queue_id == (billing if to == "queue" else technical) and new.end_reason == "caller_hangup"
    assert new.sip_call_id == old.sip_call_id and new.customer_id == old.customer_id


def desk_include(interaction_id: int) -> str:
    """``desk/call_controls.html`` as the desk includes it: with the interaction and the CSRF token only."""
    from types import SimpleNamespace

    from infolinia.web.ui.render import environment

    template = environment("en").get_template("desk/call_controls.html")
    return template.render(interaction=SimpleNamespace(id=interaction_id), csrf_token="", csrf_field="csrf")


async def test_the_desk_s_controls_in_a_browser(server: Served, tmp_path: Path) -> None:
    """The controls as the desk includes them, in Chromium at 1366x768: htmx loads them, they pass the
    accessibility audit, and Hold, Resume and Hang up clicked there act on the call."""
    live, sip_port, _ = server
    async with httpx.AsyncClient(base_url=live.base_url, timeout=20) as client:
        admin = await api_login(client, "admin@demo.test")
        async with (
            ready(client, "agent2@demo.test"),
            phones(tmp_path, sip_port) as [caller, agent],
            browser() as chromium,
        ):
            await connect(caller, agent, sip_port)
            call = await last_call(client, admin)
            context = await chromium.new_context(viewport={"width": 1366, "height": 768}, locale="en-US")
            await context.add_cookies([{"name": "infolinia_lang", "value": "en", "url": live.base_url}])
            page = await context.new_page()
            offsite = offsite_requests(page)
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            await page.goto(f"{live.base_url}/login?next=/admin")
            await page.get_by_label("E-mail").fill("agent2@demo.test")
            await page.get_by_label("Password").fill("demo")
            await page.get_by_role("button", name="Log in").click()
            await page.wait_for_url("**/admin")
            await page.evaluate(
                "html => { const main = document.querySelector('main'); main.insertAdjacentHTML('beforeend', html);"
                " htmx.process(main.lastElementChild); }",
                desk_include(call["id"]),
            )
            hold = page.get_by_role("button", name="Hold", exact=True)
            await hold.wait_for()
            problems = await audit(page)
            assert not problems, problems
            await page.screenshot(path=str(tmp_path / "call-controls.png"))
            token = await page.locator("section.call-controls input[name=csrf]").first.input_value()
            resume_url = f"{live.base_url}/desk/calls/{call['id']}/resume"
            wrong = await page.request.post(resume_url, form={"csrf": token}, max_redirects=0)
            assert wrong.status == 409 and "The call is not on hold." in await wrong.text()  # the error page
            stale = await page.request.post(resume_url, form={"csrf": "stale"}, max_redirects=0)
            assert stale.status == 403
            mark = len(live.output())
            await hold.click()
            resume = page.get_by_role("button", name="Resume")
            await resume.wait_for()
            assert "On hold" in await page.locator("section.call-controls [role=status]").inner_text()
            await until_logged(live, mark, "the desk held the call")
            await resume.click()
            await hold.wait_for()
            await until_logged(live, mark, "the desk resumed the call")
            await page.get_by_role("button", name="Hang up").click()
            await page.get_by_text("No live call").wait_for()
            await caller.wait_event("CALL_CLOSED", within_s=15)
            await agent.wait_event("CALL_CLOSED", within_s=15)
            await context.close()
        ended = await last_call(client, admin)
    assert not offsite and not errors, (offsite, errors)
    assert ended["id"] == call["id"] and ended["end_reason"] == "agent_hangup" and ended["hold_s"] > 0, ended


async def test_a_transfer_to_an_agent_who_does_not_answer_goes_back_to_the_queue(
    server: Served, tmp_path: Path
) -> None:
    """Agent 1001 is rung for the queue's offer timeout (5 s here) and does not answer: the caller is not dropped
    but waits in Technical again, where agent 1002 (free again: no wrap-up in this queue) is rung and takes it."""
    live, sip_port, url = server
    async with httpx.AsyncClient(base_url=live.base_url, timeout=20) as client:
        admin = await api_login(client, "admin@demo.test")
        technical = await queue_id(client, admin, "Technical")
        agent1_id = await user_id(client, admin, "agent1@demo.test")
        agent2_id = await user_id(client, admin, "agent2@demo.test")
        r = await client.patch(f"/api/v1/queues/{technical}", json={"offer_timeout_s": 5}, headers=admin)
        assert r.status_code == 200, r.text
        try:
            async with (
                ready(client, "agent2@demo.test") as [agent2],
                phones(tmp_path, sip_port, second_agent=True) as [caller, first, second],
            ):
                await connect(caller, first, sip_port)
                call = await last_call(client, admin)
                async with ready(client, "agent1@demo.test"):
                    r = await client.post(
                        f"/api/v1/calls/{call['id']}/transfer", json={"agent_id": agent1_id}, headers=agent2
                    )
                    assert r.status_code == 200, r.text
                    new_id = r.json()["current_interaction_id"]
                    await first.wait_event("CALL_CLOSED", within_s=15)
                    await second.wait_event("CALL_INCOMING", within_s=30)
                    rung_at = time.monotonic()
                    await second.wait_event("CALL_CLOSED", within_s=30)  # not answered: withdrawn
                    assert time.monotonic() - rung_at > 3.0
                    incoming = await first.wait_event("CALL_INCOMING", within_s=30)  # the queue again
                    assert "48601200300" in (incoming.param or ""), first.describe()
                    await first.accept()
                    await first.wait_event("CALL_ESTABLISHED")
                    heard_by_first = sorted(first.recordings(), key=lambda p: p.stat().st_mtime)[-1]
                    await asyncio.sleep(2.0)
                    assert abs(tail_frequency_so_far(heard_by_first) - 440) < 15, first.describe()
                    await caller.hangup()
                    await first.wait_event("CALL_CLOSED", within_s=15)
        finally:
            await client.patch(f"/api/v1/queues/{technical}", json={"offer_timeout_s": 15}, headers=admin)
    new = await row(url, new_id)
    assert new.transferred_from_id == call["id"] and new.agent_id == agent2_id and new.queue_id == technical
    assert new.end_reason == "caller_hangup" and new.answered_at is not None
