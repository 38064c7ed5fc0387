"""Migrations upgrade from empty, round-trip down and up, and match the models exactly."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from infolinia.store import db as store
from infolinia.store.models import Base


async def _tables(url: str) -> set[str]:
    engine = store.create_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def _diff(url: str) -> list[object]:
    engine = store.create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c, opts={"compare_type": True}), Base.metadata)
            )
    finally:
        await engine.dispose()


async def test_upgrade_downgrade_upgrade(fresh_db_url: Callable[[], Awaitable[str]]) -> None:
    url = await fresh_db_url()
    await asyncio.to_thread(store.upgrade, url)
    assert await asyncio.to_thread(store.current_revision, url) == "0001"
    expected = set(Base.metadata.tables) | {"alembic_version"}
    assert await _tables(url) == expected
    assert await _diff(url) == [], "the migrations and the models disagree: write a migration"

    await asyncio.to_thread(store.downgrade, url, "base")
    assert await _tables(url) == {"alembic_version"}
    assert await asyncio.to_thread(store.current_revision, url) is None

    await asyncio.to_thread(store.upgrade, url)
    assert await _tables(url) == expected
    assert await _diff(url) == []
