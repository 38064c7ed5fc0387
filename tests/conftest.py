"""Shared fixtures: one migrated, demo-seeded database per test session (SQLite, or PostgreSQL when
``INFOLINIA_DATABASE_URL`` points at one), the ASGI app, and logged-in clients."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from infolinia import demo
from infolinia.app import Infolinia
from infolinia.config import Settings
from infolinia.store import db as store
from tests.live import LiveServer, free_port, running_server

PG_URL = os.environ.get("INFOLINIA_DATABASE_URL", "")
ON_POSTGRES = PG_URL.startswith("postgresql")


#: fixtures through which a test reaches the database under test (``center``, ``sip_server`` and the rest build on it)
DATABASE_FIXTURES = frozenset({"fresh_db_url"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On the PostgreSQL pass, run only the tests that reach the database: the others (protocol cores, audio, the
    routing engine, CLI checks on files of their own) ran on the SQLite pass already and would only repeat it."""
    if not ON_POSTGRES:
        return
    kept, dropped = [], []
    for item in items:
        uses = set(getattr(item, "fixturenames", ()))
        (kept if uses & DATABASE_FIXTURES else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


async def _pg_admin(sql: str) -> None:
    admin_url = os.environ.get("INFOLINIA_TEST_PG_ADMIN_URL") or PG_URL.rsplit("/", 1)[0] + "/postgres"
    engine = create_async_engine(store.parse_url(admin_url), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def fresh_db_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[], Awaitable[str]]]:
    """A factory of empty databases of the backend under test; PostgreSQL ones are dropped at the end."""
    created: list[str] = []

    async def make() -> str:
        if not ON_POSTGRES:
            return f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'infolinia.db'}"
        name = f"t_{uuid.uuid4().hex[:12]}"
        await _pg_admin(f"CREATE DATABASE {name}")
        created.append(name)
        return PG_URL.rsplit("/", 1)[0] + "/" + name

    yield make
    for name in created:
        asyncio.run(_pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture(scope="module")
def sip_server(
    fresh_db_url: Callable[[], Awaitable[str]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, int]]:
    """The real ``infolinia serve --demo`` process on a fresh database, one per test module, and its SIP port."""
    url = asyncio.run(fresh_db_url())
    sip_port = free_port()
    with running_server(url, tmp_path_factory.mktemp("sip"), "--sip-port", str(sip_port)) as live:
        yield live, sip_port


@pytest.fixture(scope="session")
async def center(fresh_db_url: Callable[[], Awaitable[str]]) -> AsyncIterator[Infolinia]:
    url = await fresh_db_url()
    await asyncio.to_thread(store.upgrade, url)
    # every event is held to its schema; SIP and SMTP on free ports
    instance = Infolinia(Settings(database_url=url, sip_port=0, smtp_port=0, validate_events=True))
    assert await demo.seed(instance.db)
    await instance.start()
    yield instance
    await instance.stop()


@pytest.fixture(scope="session")
def http_app(center: Infolinia):  # type: ignore[no-untyped-def]
    return center.http_app()


@pytest.fixture(scope="session")
async def client(http_app) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=http_app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://infolinia.test") as c:
        yield c


Login = Callable[[str], Awaitable[dict[str, str]]]


@pytest.fixture(scope="session")
def login(client: httpx.AsyncClient) -> Login:
    """``await login(email)`` -> bearer headers (cached per e-mail; every demo password is 'demo')."""
    cache: dict[str, dict[str, str]] = {}

    async def get(email: str) -> dict[str, str]:
        if email not in cache:
            r = await client.post("/api/v1/auth/login", json={"email": email, "password": demo.PASSWORD})
            assert r.status_code == 200, r.text
            client.cookies.clear()  # the shared client authenticates only by the headers it is given
            cache[email] = {"Authorization": f"Bearer {r.json()['token']}"}
        return cache[email]

    return get


def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent
