"""Migrations upgrade from empty, round-trip down and up, and match the models exactly."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from infolinia.store import db as store
from infolinia.store.db import described_by_models
from infolinia.store.models import Base


async def _tables(url: str, search_index: bool = False) -> set[str]:
    """The tables in the database (with ``search_index``: also SQLite's full-text index, which no model
    describes)."""
    engine = store.create_engine(url)
    try:
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda c: inspect(c).get_table_names())
            return {name for name in names if search_index or described_by_models(name, "table", None)}
    finally:
        await engine.dispose()


async def _diff(url: str) -> list[object]:
    engine = store.create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda c: compare_metadata(
                    MigrationContext.configure(c, opts={"compare_type": True, "include_name": described_by_models}),
                    Base.metadata,
                )
            )
    finally:
        await engine.dispose()


async def test_upgrade_downgrade_upgrade(fresh_db_url: Callable[[], Awaitable[str]]) -> None:
    url = await fresh_db_url()
    await asyncio.to_thread(store.upgrade, url)
    assert await asyncio.to_thread(store.current_revision, url) == "0025"
    expected = set(Base.metadata.tables) | {"alembic_version"}
    assert await _tables(url) == expected
    assert await _diff(url) == [], "the migrations and the models disagree: write a migration"

    if url.startswith("sqlite"):
        assert "kb_search" in await _tables(url, search_index=True)
    await asyncio.to_thread(store.downgrade, url, "base")
    assert await _tables(url, search_index=True) == {"alembic_version"}
    assert await asyncio.to_thread(store.current_revision, url) is None

    await asyncio.to_thread(store.upgrade, url)
    assert await _tables(url) == expected
    assert await _diff(url) == []


async def test_upgrade_keeps_rows_that_reference_altered_tables(fresh_db_url: Callable[[], Awaitable[str]]) -> None:
    """0002 and 0003 alter `queues` and `agent_profiles`, which other tables reference: existing rows must survive."""
    from sqlalchemy import text

    url = await fresh_db_url()
    await asyncio.to_thread(store.upgrade, url, "0001")
    engine = store.create_engine(url)
    now = datetime(2026, 11, 1, 10, tzinfo=UTC)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO tenants (id, slug, name, timezone, country, languages, business_hours, created_at,"
                    " updated_at) VALUES (1, 't', 'T', 'UTC', 'PL', '[]', '{}', :now, :now)"
                ),
                {"now": now},
            )
            await conn.execute(
                text("INSERT INTO queues (id, tenant_id, name, created_at) VALUES (7, 1, 'Billing', :now)"),
                {"now": now},
            )
            await conn.execute(
                text(
                    "INSERT INTO interactions (id, tenant_id, channel, direction, queue_id, created_at, updated_at)"
                    " VALUES (3, 1, 'voice', 'in', 7, :now, :now)"
                ),
                {"now": now},
            )
        await asyncio.to_thread(store.upgrade, url)
        async with engine.connect() as conn:
            row = (await conn.execute(text("SELECT name, strategy, offer_timeout_s FROM queues WHERE id = 7"))).one()
            assert tuple(row) == ("Billing", "longest_idle", 15.0)
            # 0003: the rest of the rules take their defaults, and a queue that existed stays always open
            query = "SELECT business_hours, overflow, closed_action, missed_offer_presence FROM queues WHERE id = 7"
            hours, overflow, closed, missed = (await conn.execute(text(query))).one()
            assert (bool(hours), json.loads(overflow) if isinstance(overflow, str) else overflow) == (False, [])
            assert (closed, missed) == ("closed", "break")
            assert (await conn.execute(text("SELECT queue_id FROM interactions WHERE id = 3"))).scalar() == 7
            # 0004: a tenant that existed does not start recording calls
            assert not (await conn.execute(text("SELECT record_calls FROM tenants WHERE id = 1"))).scalar()
    finally:
        await engine.dispose()


async def test_customer_counter_starts_after_the_numbers_in_use(fresh_db_url: Callable[[], Awaitable[str]]) -> None:
    """0025: each tenant's automatic customer numbers go on after its highest automatic number (or its number of
    customers, where that is higher), so no existing number is handed out again."""
    from sqlalchemy import text

    url = await fresh_db_url()
    await asyncio.to_thread(store.upgrade, url, "0024")
    engine = store.create_engine(url)
    now = datetime(2026, 11, 1, 10, tzinfo=UTC)
    try:
        async with engine.begin() as conn:
            for tenant_id in (1, 2, 3):
                await conn.execute(
                    text(
                        "INSERT INTO tenants (id, slug, name, timezone, country, languages, business_hours,"
                        " created_at, updated_at) VALUES (:id, :slug, 'T', 'UTC', 'PL', '[]', '{}', :now, :now)"
                    ),
                    {"id": tenant_id, "slug": f"t{tenant_id}", "now": now},
                )
            customers = [(1, 1, "C000007"), (2, 1, "C000002"), (3, 2, "VIP-1"), (4, 2, "VIP-2"), (5, 2, "C00000x")]
            for customer_id, tenant_id, number in customers:
                await conn.execute(
                    text(
                        "INSERT INTO customers (id, tenant_id, number, name, contact_windows, tier, restricted,"
                        " created_at, updated_at) VALUES (:id, :t, :n, 'X', '[]', 'standard', :f, :now, :now)"
                    ),
                    {"id": customer_id, "t": tenant_id, "n": number, "f": False, "now": now},
                )
        await asyncio.to_thread(store.upgrade, url)
        async with engine.connect() as conn:
            rows = await conn.execute(text("SELECT id, customer_seq FROM tenants ORDER BY id"))
            assert [tuple(r) for r in rows] == [(1, 7), (2, 3), (3, 0)]
    finally:
        await engine.dispose()
