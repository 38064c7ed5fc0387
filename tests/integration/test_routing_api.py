"""Routing through the API of the real server: presence, a task offered, accepted and completed, and the live
event stream (server-sent events) filtered by tenant and role."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live import LiveServer, running_server


@pytest.fixture(scope="module")
def live(fresh_db_url: Callable[[], Awaitable[str]], tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    db = asyncio.run(fresh_db_url())
    with running_server(db, tmp_path_factory.mktemp("routing")) as server:
        yield server


class Stream:
    """Reads a server-sent event stream in a thread, collecting (event, data) pairs."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.ready = threading.Event()
        self._stop = False
        self._thread = threading.Thread(target=self._run, args=(url, headers), daemon=True)
        self._thread.start()
        assert self.ready.wait(10), "event stream did not open"

    def _run(self, url: str, headers: dict[str, str]) -> None:
        with httpx.Client(timeout=httpx.Timeout(5, read=30)) as client, client.stream("GET", url, headers=headers) as r:
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
            kind = ""
            for line in r.iter_lines():
                if line.startswith(": connected"):
                    self.ready.set()
                elif line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: "):
                    self.events.append((kind, json.loads(line[6:])))
                if self._stop:
                    return

    def wait_for(self, kind: str, task: int, timeout: float = 10) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for k, data in self.events:
                if k == kind and data["data"].get("task") == task:
                    return data
            time.sleep(0.05)
        raise AssertionError(f"no {kind} for task {task}; got {[k for k, _ in self.events]}")

    def close(self) -> None:
        self._stop = True


def login(live: LiveServer, email: str) -> dict[str, str]:
    r = httpx.post(f"{live.base_url}/api/v1/auth/login", json={"email": email, "password": "demo"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def test_a_task_is_offered_accepted_and_completed_live(live: LiveServer, tmp_path: Path) -> None:
    api = f"{live.base_url}/api/v1"
    sup, agent1, agent2 = (login(live, e) for e in ("supervisor@demo.test", "agent1@demo.test", "agent2@demo.test"))
    acme = login(live, "admin@acme.test")
    wallboard = Stream(f"{api}/events", sup)
    mine = Stream(f"{api}/events", agent1)
    foreign = Stream(f"{api}/events", acme)
    try:
        queues = {q["name"]: q["id"] for q in httpx.get(f"{api}/queues", headers=sup).json()}
        r = httpx.put(f"{api}/me/presence", json={"presence": "ready"}, headers=agent1)
        assert r.status_code == 200 and r.json()["state"] == "available", r.text
        r = httpx.post(f"{api}/tasks", json={"queue_id": queues["Billing"], "channel": "email", "language": "pl"},
                       headers=agent1)  # fmt: skip
        assert r.status_code == 201, r.text
        task = r.json()
        assert task["state"] == "reserved" and task["agent_id"] is not None  # offered at once: agent1 is free

        offer = wallboard.wait_for("routing.offer", task["id"])
        assert offer["data"]["agent"] == task["agent_id"] and offer["tenant_id"] is not None
        mine.wait_for("routing.offer", task["id"])  # an agent sees offers made to itself

        r = httpx.post(f"{api}/tasks/{task['id']}/accept", headers=agent2)
        assert r.status_code == 409 and r.json()["error"]["code"] == "not_your_task"
        r = httpx.post(f"{api}/tasks/{task['id']}/accept", headers=agent1)
        assert r.status_code == 200 and r.json()["state"] == "assigned"
        r = httpx.post(f"{api}/tasks/{task['id']}/complete", headers=agent1)
        assert r.status_code == 200 and r.json()["state"] == "done" and r.json()["outcome"] == "completed"
        wallboard.wait_for("routing.task_completed", task["id"])

        stats = httpx.get(f"{api}/queues/{queues['Billing']}/stats", headers=sup).json()
        assert stats["answered"] >= 1 and stats["agents"]["available"] >= 1

        # an agent's stream does not carry other agents' offers; another tenant's stream carries nothing of demo
        r = httpx.put(f"{api}/me/presence", json={"presence": "break", "reason": "lunch"}, headers=agent1)
        assert r.json()["state"] == "break"
        r = httpx.put(f"{api}/me/presence", json={"presence": "ready"}, headers=agent2)
        r = httpx.post(f"{api}/tasks", json={"queue_id": queues["Technical"], "channel": "chat"}, headers=sup)
        second = r.json()
        wallboard.wait_for("routing.offer", second["id"])
        time.sleep(0.3)
        assert not any(d["data"].get("task") == second["id"] for _, d in mine.events)
        assert all(d["tenant_id"] != offer["tenant_id"] for _, d in foreign.events)
        assert (httpx.post(f"{api}/tasks/{second['id']}/accept", headers=acme)).status_code == 404
    finally:
        for stream in (wallboard, mine, foreign):
            stream.close()
