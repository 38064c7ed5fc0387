"""The database handle: async engine, sessions, and migrations (Alembic) for SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

MIGRATIONS = Path(__file__).with_name("migrations")


class DatabaseURLError(ValueError):
    pass


def parse_url(url: str) -> URL:
    """Accept the async drivers we ship; plain ``postgresql://`` and ``sqlite://`` get them added."""
    try:
        u = make_url(url)
    except Exception as exc:
        raise DatabaseURLError(f"not a database URL: {url!r}") from exc
    backend = u.get_backend_name()
    if backend == "sqlite":
        return u.set(drivername="sqlite+aiosqlite")
    if backend == "postgresql":
        return u.set(drivername="postgresql+asyncpg")
    raise DatabaseURLError(f"unsupported database {backend!r}: use SQLite or PostgreSQL")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def create_engine(url: str) -> AsyncEngine:
    u = parse_url(url)
    if u.get_backend_name() == "sqlite":
        engine = create_async_engine(u, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(u, pool_size=10, max_overflow=20, pool_pre_ping=True)


class Database:
    """One engine and its session factory."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    def session(self) -> AsyncSession:
        return self.sessions()

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def dispose(self) -> None:
        await self.engine.dispose()


#: database objects the migrations make that the models do not describe: the knowledge base's full-text index
#: (SQLite's FTS5 table and its shadow tables; PostgreSQL's expression index), see ``kb/search.py``
SEARCH_INDEX_NAMES = ("kb_search", "ix_kb_articles_search")


def described_by_models(name: str | None, type_: str, _parent: object) -> bool:
    """Alembic's ``include_name``: false for the objects of ``SEARCH_INDEX_NAMES`` (autogenerate and the
    models-match-migrations test leave them alone)."""
    return not (name and type_ in ("table", "index") and name.startswith(SEARCH_INDEX_NAMES))


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["database_url"] = parse_url(url).render_as_string(hide_password=False)
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations (blocking; call before the event loop starts or via ``asyncio.to_thread``)."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def current_revision(url: str) -> str | None:
    async def read() -> str | None:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                has = await conn.run_sync(lambda c: c.dialect.has_table(c, "alembic_version"))
                if not has:
                    return None
                row = (await conn.execute(text("SELECT version_num FROM alembic_version"))).first()
                return None if row is None else str(row[0])
        finally:
            await engine.dispose()

    return asyncio.run(read())
