"""The wallboard's cost on the server: seconds per board of a busy day, and how many boards are computed when many
viewers each ask for one after every event, beside what one computation per viewer and event would cost. Prints
one JSON object last.

    python bench/wallboard.py [--quick] [--contacts N] [--viewers V] [--events E]

Full: 50,000 contacts today (spread over the hours so far) in the demo tenant's queues, 200 viewers, 100 events
at 100 a second; --quick: 5,000 contacts, 50 viewers, 40 events.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from infolinia import demo
from infolinia.app import Infolinia
from infolinia.config import Settings
from infolinia.events import Event
from infolinia.outbound.stats import today_start
from infolinia.store import db as store
from infolinia.store.models import Interaction, Queue, Tenant

BATCH = 20_000


async def seed(center: Infolinia, count: int, now: datetime) -> Tenant:
    """``count`` inbound contacts of tenant demo between its midnight and ``now`` (bulk insert: setup only)."""
    rng = random.Random(7)
    async with center.db.session() as s:
        tenant = await s.scalar(select(Tenant).where(Tenant.slug == "demo"))
        assert tenant is not None
        queues = list(await s.scalars(select(Queue.id).where(Queue.tenant_id == tenant.id)))
    start = today_start(now, tenant.timezone)
    span = max(60.0, (now - start).total_seconds() - 600)
    rows: list[dict[str, Any]] = []
    for n in range(count):
        created = start + timedelta(seconds=rng.random() * span)
        row: dict[str, Any] = {"tenant_id": tenant.id, "channel": "voice", "direction": "in",
                               "queue_id": rng.choice(queues), "created_at": created, "queued_at": created,
                               "updated_at": created, "ivr_path": []}  # fmt: skip
        if rng.random() < 0.85:
            answered = created + timedelta(seconds=rng.random() * 60)
            row |= {"answered_at": answered, "ended_at": answered + timedelta(seconds=60 + rng.random() * 400)}
        else:
            row["ended_at"] = created + timedelta(seconds=1 + rng.random() * 90)
        rows.append(row)
        if len(rows) == BATCH or n == count - 1:
            async with center.db.session() as s:
                await s.execute(insert(Interaction), rows)
                await s.commit()
            rows = []
    return tenant


async def fan_out(center: Infolinia, tenant_id: int, viewers: int, events: int, rate: float) -> dict[str, Any]:
    """Every ``1 / rate`` s an event; after each, every viewer asks for a board that includes it."""
    boards = center.wallboard
    before = boards.computed(tenant_id)
    waits: list[float] = []

    async def viewer_asks(seq: int, published: float) -> None:
        board = await boards.board(tenant_id, seq)
        assert board.seq >= seq
        waits.append(time.perf_counter() - published)

    asked: list[asyncio.Task[None]] = []
    t0 = time.perf_counter()
    for n in range(events):
        event = center.bus.publish(Event("routing.queue_updated", tenant_id, {"n": n}))
        published = time.perf_counter()
        asked += [asyncio.create_task(viewer_asks(event.seq, published)) for _ in range(viewers)]
        await asyncio.sleep(max(0.0, t0 + (n + 1) / rate - time.perf_counter()))
    await asyncio.gather(*asked)
    computed = boards.computed(tenant_id) - before
    return {
        "viewers": viewers, "events": events, "events_per_s": rate, "boards_computed": computed,
        "naive_computations": viewers * events, "saved_ratio": round(viewers * events / max(computed, 1), 1),
        "boards_per_s": round(computed / (time.perf_counter() - t0), 2),
        "event_to_board_ms_p50": round(statistics.median(waits) * 1000, 1),
        "event_to_board_ms_max": round(max(waits) * 1000, 1),
    }  # fmt: skip


async def main(count: int, viewers: int, events: int) -> dict[str, Any]:
    workdir = tempfile.mkdtemp(prefix="infolinia-bench-")
    url = f"sqlite+aiosqlite:///{Path(workdir) / 'bench.db'}"
    await asyncio.to_thread(store.upgrade, url)
    center = Infolinia(Settings(database_url=url))
    await demo.seed(center.db)
    now = datetime.now(UTC)
    tenant = await seed(center, count, now)
    await center.routing.load()
    out: dict[str, Any] = {"bench": "wallboard", "contacts_today": count, "db": "sqlite"}
    times = []
    for _ in range(3):
        t = time.perf_counter()
        board = await center.wallboard.read(tenant.id, center.bus.last_seq, datetime.now(UTC))
        times.append(time.perf_counter() - t)
    out["board_s_best"], out["board_s_worst"] = round(min(times), 3), round(max(times), 3)
    out["offered_today"] = sum(q.today.offered for q in board.queues)
    out |= await fan_out(center, tenant.id, viewers, events, 100.0)
    await center.db.dispose()
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="5,000 contacts, 50 viewers, 40 events")
    parser.add_argument("--contacts", type=int, default=None)
    parser.add_argument("--viewers", type=int, default=None)
    parser.add_argument("--events", type=int, default=None)
    args = parser.parse_args()
    contacts = args.contacts or (5_000 if args.quick else 50_000)
    viewers = args.viewers or (50 if args.quick else 200)
    events = args.events or (40 if args.quick else 100)
    print(json.dumps(asyncio.run(main(contacts, viewers, events))))
