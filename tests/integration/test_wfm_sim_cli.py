"""The real ``infolinia simulate`` and ``infolinia schedule`` commands: from arguments, from files, from a tenant's
configuration and history in a database of their own; bad input ends with one ``error:`` line."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import subprocess
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import select

from infolinia import demo
from infolinia.store import db as store
from infolinia.store.models import Channel, Direction, Interaction, Queue, Tenant
from infolinia.wfm.center import center_from_history
from infolinia.wfm.distributions import HandleTime
from infolinia.wfm.simulate import SingleSkillCenter, simulate_single
from tests.conftest import repo_root
from tests.live import EXE


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(EXE), *args], capture_output=True, text=True, timeout=300, env=dict(os.environ),
                          cwd=repo_root(), stdin=subprocess.DEVNULL)  # fmt: skip


def test_simulate_from_arguments_matches_the_library() -> None:
    r = run("simulate", "--calls", "100,200,150", "--agents", "12,22,18", "--patience", "120", "--seed", "9",
            "--json")  # fmt: skip
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    center = SingleSkillCenter((100.0, 200.0, 150.0), (12, 22, 18), HandleTime("exponential", 180.0), 120.0)
    assert out["engine"] == "fast"
    assert out["overall"] == simulate_single(center, 9).overall.as_dict()
    table = run("simulate", "--calls", "100,200,150", "--agents", "15", "--seed", "9")
    assert table.returncode == 0 and "engine fast, seed 9" in table.stdout


def test_simulate_a_center_file(tmp_path: Path) -> None:
    center = {
        "queues": [
            {"name": "billing", "calls": [50, 80], "skills": {"billing": 1}, "patience_s": 90},
            {"name": "support", "calls": [40, 40], "language": "pl"},
        ],
        "groups": [{"name": "all", "agents": 14, "skills": {"billing": 1}, "languages": ["pl"]}],
    }
    path = tmp_path / "center.yaml"
    path.write_text(yaml.safe_dump(center))
    r = run("simulate", "--center", str(path), "--json", "--seed", "3")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["engine"] == "routing" and set(out["by_queue"]) == {"billing", "support"}
    assert out["seed"] == 3


def test_simulate_explains_bad_input(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"queues": [{"name": "q", "calls": [1, 2]}], "groups": [{"name": "g", "agents": [1]}]}')
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    cases = [
        ("simulate",),
        ("simulate", "--calls", "1,x", "--agents", "2"),
        ("simulate", "--calls", "10,10", "--agents", "2,2,2"),
        ("simulate", "--center", str(bad)),
        ("simulate", "--center", str(broken)),
        ("simulate", "--center", str(tmp_path / "missing.yaml")),
        ("simulate", "--tenant", "nobody", "--db", f"sqlite:///{tmp_path / 'empty.db'}"),
    ]
    for args in cases:
        r = run(*args)
        assert r.returncode == 1, (args, r.stdout, r.stderr)
        assert r.stderr.startswith("error: ") and "Traceback" not in r.stderr, (args, r.stderr)


RULES = {
    "interval_minutes": 60,
    "templates": [{"name": "four", "length": 4, "starts": [0, 1, 2, 3, 4],
                   "breaks": [{"length": 1, "earliest": 1, "latest": 2}]}],
    "agents": [{"name": f"a{k}", "max_hours": 8, "cost_per_hour": 10} for k in range(4)],
    "under_penalty": 50,
    "time_limit_s": 10,
}  # fmt: skip
REQUIREMENT = [1, 2, 2, 3, 2, 1, 1, 0]


def test_schedule_csv_and_json(tmp_path: Path) -> None:
    req = tmp_path / "req.csv"
    req.write_text("interval,agents\n" + "".join(f"{i},{n}\n" for i, n in enumerate(REQUIREMENT)))
    rules = tmp_path / "rules.yaml"
    rules.write_text(yaml.safe_dump(RULES))
    r = run("schedule", str(req), "--rules", str(rules))
    assert r.returncode == 0, r.stderr
    assert r.stderr.startswith("optimal: cost")
    working = [0] * len(REQUIREMENT)
    for row in csv.DictReader(io.StringIO(r.stdout)):
        start, end = int(row["start"]), int(row["end"])
        assert end - start == 4 and row["breaks"].count("-") == 1
        for i in range(start, end):
            working[i] += 1
    assert all(w - 1 >= 0 for w, need in zip(working, REQUIREMENT, strict=True) if need)  # breaks aside
    out = tmp_path / "schedule.json"
    r = run("schedule", str(req), "--rules", str(rules), "--out", str(out), "--time-limit", "5")
    assert r.returncode == 0, r.stderr
    result = json.loads(out.read_text())
    assert result["status"] == "optimal"
    assert all(c >= n for c, n in zip(result["coverage"], REQUIREMENT, strict=True))
    for args in (
        (str(tmp_path / "none.csv"), "--rules", str(rules)),
        (str(rules), "--rules", str(rules)),  # not a requirement
        (str(req), "--rules", str(req)),  # not rules
    ):
        r = run("schedule", *args)
        assert r.returncode == 1 and r.stderr.startswith("error: ") and "Traceback" not in r.stderr, r.stderr


def test_simulate_a_tenant_from_its_history(fresh_db_url: Callable[[], Awaitable[str]]) -> None:
    """A database of its own with the demo tenants and two weeks of calls to a new queue: the volumes per interval,
    the handle times and the patience the command simulates come from those calls."""
    url = asyncio.run(fresh_db_url())
    store.upgrade(url)
    now = datetime.now(UTC).replace(microsecond=0)
    per_slot: dict[int, int] = {}
    waited, gone, talk = 0.0, 0, []

    async def seed() -> str:
        nonlocal waited, gone
        database = store.Database(url)
        try:
            assert await demo.seed(database)
            async with database.session() as s:
                tenant = await s.scalar(select(Tenant).where(Tenant.slug == "demo"))
                assert tenant is not None
                queue = Queue(tenant_id=tenant.id, name="History probe")  # served by every demo agent
                s.add(queue)
                await s.flush()
                zone = ZoneInfo(tenant.timezone)
                for k in range(420):
                    created = now - timedelta(days=13, hours=12) + timedelta(minutes=45 * k + k % 7)
                    local = created.astimezone(zone)
                    slot = (local.hour * 60 + local.minute) // 30
                    per_slot[slot] = per_slot.get(slot, 0) + 1
                    wait = 5.0 + k % 40
                    row = Interaction(tenant_id=tenant.id, channel=Channel.VOICE, direction=Direction.INBOUND,
                                      queue_id=queue.id, created_at=created, queued_at=created)  # fmt: skip
                    waited += wait
                    if k % 10 == 0:
                        gone += 1
                        row.ended_at = created + timedelta(seconds=wait)
                    else:
                        row.answered_at = created + timedelta(seconds=wait)
                        row.ended_at = row.answered_at + timedelta(seconds=60 + (k * 37) % 300)
                        talk.append((row.ended_at - row.answered_at).total_seconds())
                    s.add(row)
                await s.commit()
                return queue.name
        finally:
            await database.dispose()

    name = asyncio.run(seed())
    r = run("simulate", "--tenant", "demo", "--days", "14", "--db", url, "--json", "--scale", "20", "--seed", "1")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["engine"] == "routing"
    probe = out["by_queue"][name]
    # the volumes: 420 calls in 14 days is 30 a day, times 20, spread as they came in the day
    expected = 420 / 14 * 20
    assert abs(probe["offered"] - expected) < 5 * expected**0.5
    # the handle times are resampled from the answered calls' talk time
    assert probe["aht_s"] is None or min(talk) - 1e-6 <= probe["aht_s"] <= max(talk) + 1e-6
    # what the command simulated, exactly: volumes per half-hour, resampled talk times, estimated patience
    center = asyncio.run(center_from_history("demo", url, 14, 30, 20.0, now=now))
    queue = next(q for q in center.queues if q.name == name)
    assert queue.calls == pytest.approx([per_slot.get(slot, 0) * 20 / 14 for slot in range(48)])
    assert queue.handle.kind == "empirical" and sorted(queue.handle.samples) == sorted(talk)
    assert queue.patience_s == waited / gone
    assert sum(g.agents for g in center.groups if isinstance(g.agents, int)) >= 3  # the demo's agents
