"""500 scheduled callbacks, the server killed with SIGKILL, started again; killed again while it is calling them,
started once more: every callback is made, and a customer is called a second time only if their call was cut by
the kill. Counted on the SIP side: SIPp plays the customers behind the tenant's dialing trunk (one number each; it
logs every INVITE and every ACK of an answered call) and the 20 agents' phones (registered with digest auth,
answering at once). Each customer hangs up half a second after answering.

The callbacks are agreed for a time 90 s after the test starts (the policy's tolerance lets them start a minute
before it), so they come due after the first restart, all at once: 500 calls through 20 agents."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from tests.integration.test_callbacks_restart import CALLBACKS, all_pages, burst, login
from tests.live import LiveServer, voice_server
from tests.sipp import AGENT_PHONE, SIPP, customers, free_udp_ports, logged, needs_sipp, sipp_phone

pytestmark = needs_sipp
AGENTS = 20
FIRST_EXTENSION = 3100
AGENT_PASSWORD = "kept-promise"
AGREED_AFTER_S = 90


def _register(cseq: int, auth: str = "") -> str:
    """One REGISTER of the agent in the CSV line (``[field0]``); ``auth``: its Authorization (``[field1]``)."""
    return f"""  <send retrans="500"><![CDATA[
REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: <sip:[field0]@demo.infolinia>;tag=[pid]SIPpTag00[call_number]
To: <sip:[field0]@demo.infolinia>
Call-ID: [call_id]
CSeq: {cseq} REGISTER
Contact: <sip:[field0]@[local_ip]:[local_port]>{auth}
Expires: 3600
Max-Forwards: 70
Content-Length: 0

]]></send>
"""


REGISTER = f"""<?xml version="1.0" encoding="UTF-8"?>
<scenario name="agents register">
{_register(1)}  <recv response="401" auth="true"/>
{_register(2, chr(10) + "[field1]")}  <recv response="200"/>
</scenario>
"""


def register(folder: Path, sip_port: int, phone_port: int) -> None:
    """Register every agent's extension from ``phone_port`` (where the agents' SIPp answers afterwards)."""
    assert SIPP is not None
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "register.xml").write_text(REGISTER)
    listing = "SEQUENTIAL\n" + "".join(
        f"{e};[authentication username={e} password={AGENT_PASSWORD}];\n"
        for e in range(FIRST_EXTENSION, FIRST_EXTENSION + AGENTS)
    )
    (folder / "agents.csv").write_text(listing)
    command = [
        SIPP, f"127.0.0.1:{sip_port}", "-sf", "register.xml", "-inf", "agents.csv", "-i", "127.0.0.1",
        "-p", str(phone_port), "-m", str(AGENTS), "-r", "50", "-nostdin", "-timeout", "60", "-timeout_error",
        "-trace_err",
    ]  # fmt: skip
    result = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=90)
    assert result.returncode == 0, result.stdout[-2000:]


def api(base: str, headers: dict[str, str], method: str, path: str, body: Any = None) -> Any:
    r = httpx.request(method, f"{base}/api/v1{path}", json=body, headers=headers, timeout=30)
    assert r.status_code < 300, f"{method} {path}: {r.status_code} {r.text}"
    return r.json()


def set_up_floor(base: str, headers: dict[str, str], customers_port: int) -> tuple[int, list[int]]:
    """A queue with no wrap-up, 20 agents with extensions and SIP passwords in its team, a trunk that dials the
    customers' SIPp, and a callback policy whose agreed times may start a minute early. The queue and the agents."""
    tenant = api(base, headers, "GET", "/tenants")[0]
    policy = {**tenant["callback_policy"], "tolerance_minutes": 1, "max_attempts": 3}
    api(base, headers, "PATCH", f"/tenants/{tenant['id']}", {"callback_policy": policy})
    team = api(base, headers, "POST", "/teams", {"name": "Kept promises"})
    queue = api(base, headers, "POST", "/queues", {
        "name": "Kept promises", "team_id": team["id"], "business_hours": False, "offer_timeout_s": 10,
        "missed_offer_presence": "ready", "wrapup_s": 0,
    })  # fmt: skip
    trunk = {
        "name": "Customers", "allowed_sources": ["192.0.2.1/32"], "dial_to": f"127.0.0.1:{customers_port}",
        "caller_id": "+48800100200",
    }  # fmt: skip
    api(base, headers, "POST", "/trunks", trunk)
    agents = []
    for i in range(AGENTS):
        user = api(base, headers, "POST", "/users", {
            "email": f"kept{i}@demo.test", "display_name": f"Kept {i}", "role": "agent",
            "password": "kept-promise-agent", "team_ids": [team["id"]],
        })  # fmt: skip
        extension = str(FIRST_EXTENSION + i)
        api(base, headers, "PUT", f"/agents/{user['id']}", {"extension": extension, "sip_password": AGENT_PASSWORD})
        agents.append(int(user["id"]))
    return int(queue["id"]), agents


def wait_until_all_made(client: httpx.Client, queue: int, within_s: float) -> list[dict[str, Any]]:
    deadline = time.monotonic() + within_s
    while True:
        callbacks = all_pages(client, "/callbacks", queue_id=queue)
        if len(callbacks) == CALLBACKS and all(cb["status"] == "completed" for cb in callbacks):
            return callbacks
        if time.monotonic() > deadline:
            states = Counter(str(cb["status"]) for cb in callbacks)
            raise AssertionError(f"after {within_s} s: {dict(states)} of {CALLBACKS}")
        time.sleep(1.0)


@contextmanager
def staffed(
    server: LiveServer, sip_port: int, folder: Path, ports: tuple[int, int], agents: list[int]
) -> Iterator[None]:
    """The agents' phones registered with ``server`` and answering, the agents ready."""
    phones_port, media_port = ports
    register(folder / "register", sip_port, phones_port)
    with sipp_phone(folder / "phones", AGENT_PHONE, phones_port, media_port):
        headers = login(server.base_url, "admin@demo.test")
        for agent in agents:
            api(server.base_url, headers, "PUT", f"/agents/{agent}/presence", {"presence": "ready"})
        yield


def test_scheduled_callbacks_are_made_after_kill_9_twice(
    fresh_db_url: Callable[[], Awaitable[str]], tmp_path: Path
) -> None:
    db = asyncio.run(fresh_db_url())
    customers_port, phones_port = free_udp_ports(1), free_udp_ports(1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as discard:  # where the phones' media goes: unread
        discard.bind(("127.0.0.1", 0))
        ports = (phones_port, int(discard.getsockname()[1]))
        agreed = datetime.now(UTC) + timedelta(seconds=AGREED_AFTER_S)
        for name in ("first", "second", "third"):
            (tmp_path / name).mkdir()
        with voice_server(db, tmp_path / "first", 44000) as (first, _sip):
            admin = login(first.base_url, "admin@demo.test")
            queue, agents = set_up_floor(first.base_url, admin, customers_port)
            body = {"queue_id": queue, "at": agreed.isoformat()}
            accepted, unanswered = burst(first, admin, lambda number: {**body, "number": number}, kill_after=None)
            assert (len(accepted), unanswered) == (CALLBACKS, set())
            first.kill()  # all 500 scheduled, none due yet
        assert datetime.now(UTC) < agreed - timedelta(seconds=30), "the set-up took too long for this test's timing"

        scenario = customers(hang_up_after_ms=500)
        with sipp_phone(tmp_path / "customers", scenario, customers_port, ports[1]) as customers_log:
            with (
                voice_server(db, tmp_path / "second", 44000) as (second, sip_port),
                staffed(second, sip_port, tmp_path / "second", ports, agents),
            ):
                while sum(logged(customers_log, "ACK").values()) < CALLBACKS // 3:
                    time.sleep(0.05)
                second.kill()  # with up to 20 calls being placed or talking
                at_kill = logged(customers_log, "INVITE")
            with (
                voice_server(db, tmp_path / "third", 44000) as (third, sip_port),
                staffed(third, sip_port, tmp_path / "third", ports, agents),
                httpx.Client(base_url=f"{third.base_url}/api/v1", headers=login(third.base_url, "admin@demo.test"),
                             timeout=30) as client,
            ):  # fmt: skip
                made = wait_until_all_made(client, queue, within_s=180)
                time.sleep(2.0)  # the last customers' BYEs
    invited, answered = logged(customers_log, "INVITE"), logged(customers_log, "ACK")
    assert {str(cb["number"]) for cb in made} == set(accepted)
    # on the SIP side: every callback's customer was called and answered; twice only if the kill cut their call
    assert set(invited) == set(accepted) and set(answered) == set(accepted), sorted(set(accepted) - set(answered))
    twice = {n for n, times in invited.items() if times > 1}
    assert twice <= set(at_kill) and len(twice) <= AGENTS and max(invited.values()) <= 2, twice
    for cb in made:
        assert (cb["attempts"], cb["last_outcome"]) == (1, "connected"), cb  # the cut call left no attempt behind
        started = datetime.fromisoformat(str(cb["first_attempt_at"]))
        assert agreed - timedelta(minutes=1) <= started, cb  # never before the agreed time's tolerance
