"""The real ``infolinia forecast`` command on a fresh database (SQLite or PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from infolinia.store import db as store
from infolinia.store.models import Channel, Direction, Interaction, Queue, Tenant
from infolinia.store.uow import SYSTEM, write
from tests.integration.test_cli import run_cli


async def _seed(url: str) -> int:
    """Tenant ``wfm``'s queue ``Sales``: 4 calls at 10:00-10:15 local time every day of the last 4 weeks, and one
    e-mail a day (another channel)."""
    database = store.Database(url)
    made = 0
    try:
        async with write(database, None, SYSTEM) as tx:
            tenant = await tx.session.scalar(select(Tenant).where(Tenant.slug == "wfm"))
            assert tenant is not None
            queue = Queue(tenant_id=tenant.id, name="Sales")
            tx.session.add(queue)
            await tx.session.flush()
            zone = ZoneInfo(tenant.timezone)
            today = datetime.now(UTC).astimezone(zone).date()
            for back in range(1, 29):
                start = datetime.combine(today - timedelta(days=back), time(10), zone).astimezone(UTC)
                for k in range(4):
                    at = start + timedelta(minutes=3 * k)
                    tx.session.add(Interaction(tenant_id=tenant.id, channel=Channel.VOICE, queue_id=queue.id,
                                               direction=Direction.INBOUND, created_at=at))  # fmt: skip
                    made += 1
                tx.session.add(Interaction(tenant_id=tenant.id, channel=Channel.EMAIL, direction=Direction.INBOUND,
                                           created_at=start))  # fmt: skip
    finally:
        await database.dispose()
    return made


def test_forecast_command(fresh_db_url: Callable[[], Awaitable[str]]) -> None:
    db = asyncio.run(fresh_db_url())
    made = run_cli("admin", "create-tenant", "--slug", "wfm", "--name", "Planning Ltd", db=db)
    assert made.returncode == 0, made.stderr
    calls = asyncio.run(_seed(db))
    out = run_cli("forecast", "--tenant", "wfm", "--queue", "Sales", "--channel", "voice", "--days", "2", "--json",
                  db=db)  # fmt: skip
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["history"]["contacts"] == calls and len(got["intervals"]) == 2 * 96
    per_start = {row["start"][11:16]: row["calls"] for row in got["intervals"][:96]}
    assert abs(per_start["10:00"] - 4) < 0.2 and sum(per_start.values()) < 4.2
    assert got["accuracy"]["wape"] < 0.05
    table = run_cli("forecast", "--tenant", "wfm", "--days", "1", db=db)
    assert table.returncode == 0 and "WAPE" in table.stdout and len(table.stdout.splitlines()) == 2 + 96
    for args, message in (
        (("--tenant", "nobody"), "no tenant 'nobody'"),
        (("--tenant", "wfm", "--queue", "Nope"), "no queue 'Nope'"),
        (("--tenant", "wfm", "--channel", "fax"), "channel: expected one of"),
        (("--tenant", "wfm", "--days", "0"), "days: expected"),
    ):
        failed = run_cli("forecast", *args, db=db)
        assert failed.returncode == 1 and message in failed.stderr, failed.stderr
