"""A burst of callbacks, the server killed with SIGKILL in the middle of it, started again: every callback the
server accepted (201) is there exactly once, with its one open task, and the routing engine of the new process
has every one of them; a request cut off by the kill left all of itself or nothing."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from tests.live import LiveServer, running_server

CALLBACKS = 500
KILL_AFTER = 250  # accepted callbacks before the kill


def numbers() -> list[str]:
    return [f"+4860050{i:04d}" for i in range(CALLBACKS)]


def login(base: str, email: str) -> dict[str, str]:
    r = httpx.post(f"{base}/api/v1/auth/login", json={"email": email, "password": "demo"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def burst(
    server: LiveServer,
    headers: dict[str, str],
    body_of: Callable[[str], dict[str, object]],
    kill_after: int | None = KILL_AFTER,
) -> tuple[dict[str, int], set[str]]:
    """Request every callback (``body_of(number)``), 16 at a time; kill the server once ``kill_after`` were
    accepted (None: never). The accepted ones (number -> callback id), and the numbers whose request got no
    answer."""
    accepted: dict[str, int] = {}
    unanswered: set[str] = set()
    lock = threading.Lock()
    todo = iter(numbers())

    def worker() -> None:
        with httpx.Client(base_url=f"{server.base_url}/api/v1", headers=headers, timeout=30) as client:
            while True:
                with lock:
                    number = next(todo, None)
                if number is None:
                    return
                try:
                    r = client.post("/callbacks", json=body_of(number))
                except httpx.TransportError:
                    with lock:
                        unanswered.add(number)
                    continue
                assert r.status_code == 201, r.text
                with lock:
                    accepted[number] = r.json()["id"]
                    if len(accepted) == kill_after and not server.killed:
                        server.kill()

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return accepted, unanswered


def all_pages(client: httpx.Client, path: str, **params: object) -> list[dict[str, object]]:
    items: list[dict[str, object]] = []
    after = None
    while True:
        page = client.get(path, params={**params, "limit": 500, **({"after": after} if after else {})}).json()
        items += page["items"]
        if page["next_cursor"] is None:
            return items
        after = page["next_cursor"]


def test_callbacks_survive_kill_9(fresh_db_url: Callable[[], Awaitable[str]], tmp_path: Path) -> None:
    db = asyncio.run(fresh_db_url())
    with running_server(db, tmp_path) as first:
        admin = login(first.base_url, "admin@demo.test")
        r = httpx.post(f"{first.base_url}/api/v1/queues", json={"name": "Restart test"}, headers=admin)
        queue = r.json()["id"]
        accepted, unanswered = burst(first, admin, lambda number: {"queue_id": queue, "number": number})
        assert first.killed and len(accepted) >= KILL_AFTER
    assert len(accepted) + len(unanswered) == CALLBACKS

    with running_server(db, tmp_path) as second:
        headers = login(second.base_url, "admin@demo.test")
        with httpx.Client(base_url=f"{second.base_url}/api/v1", headers=headers, timeout=30) as client:
            callbacks = all_pages(client, "/callbacks", queue_id=queue)
            tasks = all_pages(client, "/tasks", queue_id=queue)
    by_number: dict[object, list[dict[str, object]]] = {}
    for cb in callbacks:
        by_number.setdefault(cb["number"], []).append(cb)
    assert all(len(rows) == 1 for rows in by_number.values()), "a callback written twice"
    for number, callback_id in accepted.items():  # every accepted one, as it was answered
        assert [cb["id"] for cb in by_number[number]] == [callback_id]
    assert set(by_number) <= set(accepted) | unanswered
    # each callback has exactly its one task, open, and the new process routes it
    open_tasks = {t["id"]: t for t in tasks if t["state"] in ("waiting", "scheduled")}
    assert {t["callback_number"] for t in tasks} == set(by_number), "a task without its callback, or the reverse"
    assert len(tasks) == len(callbacks)
    for cb in callbacks:
        assert cb["status"] == "scheduled"
        task = open_tasks[cb["routing_task_id"]]
        assert task["callback_number"] == cb["number"] and task["position"] is not None
