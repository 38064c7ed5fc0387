"""Reports over many contacts: seconds per contact report (per interval and grouping), per export (CSV, XLSX, the
monthly PDF), on SQLite, beside a baseline that reads every contact and sums it in Python (the figures of both are
compared, and must agree). Prints one JSON object last.

    python bench/reports.py [--quick] [--contacts N] [--db URL]

Full: 1,000,000 contacts over 30 days in four queues; --quick: 100,000.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from infolinia import demo
from infolinia.app import Infolinia
from infolinia.config import Settings
from infolinia.reports import contacts, export, monthly
from infolinia.reports.figures import COLUMNS
from infolinia.reports.intervals import local_midnight
from infolinia.store import db as store
from infolinia.store.models import Interaction, Queue, Role, Tenant, User

START = datetime(2026, 11, 1, tzinfo=UTC)
DAYS = 30
BATCH = 20_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


async def seed(center: Infolinia, count: int) -> tuple[Tenant, list[int]]:
    """``count`` inbound contacts of tenant demo spread over 30 days (bulk insert: setup only)."""
    rng = random.Random(11)
    async with center.db.session() as s:
        tenant = await s.scalar(select(Tenant).where(Tenant.slug == "demo"))
        assert tenant is not None
        queues = list(await s.scalars(select(Queue.id).where(Queue.tenant_id == tenant.id)))
        agents = list(await s.scalars(select(User.id).where(User.tenant_id == tenant.id, User.role == Role.AGENT)))
    span = DAYS * 86_400
    rows: list[dict[str, Any]] = []
    for n in range(count):
        created = START + timedelta(seconds=rng.random() * span)
        row: dict[str, Any] = {"tenant_id": tenant.id, "channel": rng.choice(("voice", "voice", "voice", "chat")),
                               "direction": "in", "queue_id": rng.choice(queues), "created_at": created,
                               "queued_at": created, "updated_at": created, "ivr_path": []}  # fmt: skip
        if rng.random() < 0.85:
            answered = created + timedelta(seconds=rng.random() * 60)
            ended = answered + timedelta(seconds=60 + rng.random() * 540)
            row |= {"agent_id": rng.choice(agents), "answered_at": answered, "ended_at": ended,
                    "wrapup_ended_at": ended + timedelta(seconds=rng.random() * 60),
                    "hold_s": round(rng.random() * 30, 3) if rng.random() < 0.2 else None}  # fmt: skip
        else:
            row |= {"ended_at": created + timedelta(seconds=1 + rng.random() * 90)}
        rows.append(row)
        if len(rows) == BATCH or n == count - 1:
            async with center.db.session() as s:
                await s.execute(insert(Interaction), rows)
                await s.commit()
            rows = []
    return tenant, queues


async def seconds(run: Callable[[], Awaitable[Any]], repeat: int = 3) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        result = await run()
        best = min(best, time.perf_counter() - t)
    return round(best, 3), result


def _ms(at: datetime) -> int:
    """Whole milliseconds since 1970, the microseconds cut off (as the report's query counts them)."""
    return (at - EPOCH) // timedelta(milliseconds=1)


async def python_baseline(center: Infolinia, tenant: Tenant, start: datetime, end: datetime) -> dict[str, int]:
    """The same totals the row-by-row way: every offered contact read and summed in Python."""
    i = Interaction
    query = select(i.created_at, i.queued_at, i.answered_at, i.ended_at, i.queue_id).where(
        i.tenant_id == tenant.id, i.direction == "in", i.queue_id.is_not(None), i.created_at >= start,
        i.created_at < end)  # fmt: skip
    async with center.db.session() as s:
        thresholds = dict(
            (await s.execute(select(Queue.id, Queue.sl_seconds).where(Queue.tenant_id == tenant.id))).all()
        )
        offered = answered = in_sl = 0
        for created, queued, ans, _ended, queue in await s.execute(query):
            offered += 1
            if ans is not None:
                answered += 1
                wait_ms = _ms(ans) - _ms(queued or created)
                in_sl += wait_ms <= thresholds[queue] * 1000
    return {"offered": offered, "answered": answered, "answered_in_sl": in_sl}


async def main(count: int, db_url: str | None) -> dict[str, Any]:
    workdir = tempfile.mkdtemp(prefix="infolinia-bench-")
    url = db_url or f"sqlite+aiosqlite:///{Path(workdir) / 'bench.db'}"
    await asyncio.to_thread(store.upgrade, url)
    center = Infolinia(Settings(database_url=url))
    await demo.seed(center.db)
    t = time.perf_counter()
    tenant, _ = await seed(center, count)
    seeded_s = round(time.perf_counter() - t, 1)
    tz = ZoneInfo(tenant.timezone)
    first, last = local_midnight(date(2026, 11, 1), tz), local_midnight(date(2026, 12, 1), tz)
    out: dict[str, Any] = {"bench": "reports", "contacts": count, "db": url.split(":")[0], "seed_s": seeded_s}

    async def report(interval: str, group_by: str = "none") -> contacts.Report:
        async with center.db.session() as s:
            return await contacts.contact_report(s, contacts.Selection(tenant.id, first, last, interval, tz, group_by))

    for interval, group_by in (("15min", "none"), ("60min", "none"), ("day", "none"), ("month", "none"),
                               ("60min", "queue"), ("day", "agent"), ("day", "channel")):  # fmt: skip
        out[f"report_{interval}_{group_by}_s"], _ = await seconds(lambda i=interval, g=group_by: report(i, g))
    by_queue = await report("60min", "queue")
    rows = by_queue.rows()
    columns = ["interval_start", "interval_end", "group", "group_name", *COLUMNS]
    out["rows_60min_queue"] = len(rows)
    out["export_csv_s"], _ = await seconds(lambda: asyncio.to_thread(export.to_csv, columns, rows))
    out["export_xlsx_s"], _ = await seconds(lambda: asyncio.to_thread(export.to_xlsx, columns, rows))
    month = await report("month")
    days = await report("day")
    page = monthly.MonthlySummary("Demo Telecom", "2026-11", tenant.timezone, month.total_rows()[0], [],
                                  [r | {"label": r["interval_start"][:10]} for r in days.rows()], [])  # fmt: skip
    out["export_pdf_s"], pdf = await seconds(lambda: asyncio.to_thread(monthly.to_pdf, page))
    out["pdf_bytes"] = len(pdf)
    out["baseline_python_s"], base = await seconds(lambda: python_baseline(center, tenant, first, last), repeat=1)
    totals = month.total_rows()[0]
    out["figures_agree"] = all(totals[k] == v for k, v in base.items())
    out["sql_vs_python_speedup"] = round(out["baseline_python_s"] / max(out["report_month_none_s"], 1e-6), 1)
    out["offered"] = totals["offered"]
    await center.db.dispose()
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="100,000 contacts")
    parser.add_argument("--contacts", type=int, default=None)
    parser.add_argument("--db", default=None, help="database URL (default: a new SQLite file)")
    args = parser.parse_args()
    count = args.contacts or (100_000 if args.quick else 1_000_000)
    result = asyncio.run(main(count, args.db))
    print(json.dumps(result))
