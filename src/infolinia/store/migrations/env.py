"""Alembic environment: runs migrations on the async engine (SQLite in batch mode)."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from alembic import context
from sqlalchemy.engine import Connection

from infolinia.store.db import create_engine, described_by_models
from infolinia.store.models import Base
from infolinia.store.types import UTCDateTime

target_metadata = Base.metadata


def _render_item(type_: str, obj: Any, _ctx: Any) -> str | Literal[False]:
    """Migrations store plain timezone-aware timestamps; the UTC wrapper is Python-side only."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # SQLite alters a table by copying it; foreign keys must be off meanwhile (they cannot be switched inside a
        # transaction), and are checked as a whole afterwards.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    try:
        _migrate(connection)
    finally:
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
    if sqlite:
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"migration left rows with broken foreign keys: {broken[:5]}")


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
        include_name=described_by_models,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            await conn.run_sync(_run)
            await conn.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `infolinia db upgrade`")
asyncio.run(_run_async(context.config.attributes["database_url"]))
