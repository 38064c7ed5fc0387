"""Property-based fuzzing of every API operation from the OpenAPI document, against the real server process:
whatever a client sends, the answer is never a server error (5xx)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable

from infolinia.auth.actions import create_user
from infolinia.schemas import UserIn
from infolinia.store.db import Database
from infolinia.store.models import Role
from infolinia.store.uow import SYSTEM, write
from tests.live import LiveServer, running_server


@pytest.fixture(scope="module")
def live(fresh_db_url: Callable[[], Awaitable[str]], tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    db = asyncio.run(fresh_db_url())
    with running_server(db, tmp_path_factory.mktemp("fuzz")) as server:

        async def platform_admin() -> None:
            database = Database(db)
            try:
                async with write(database, None, SYSTEM) as tx:
                    user = UserIn(
                        email="fuzz@platform.test", display_name="F", role=Role.PLATFORM_ADMIN, password="demo"
                    )
                    await create_user(tx, None, user, min_password_length=0)
            finally:
                await database.dispose()

        asyncio.run(platform_admin())
        yield server


@pytest.fixture(scope="module")
def fuzz_headers(live: LiveServer) -> dict[str, str]:
    """A platform admin's API token acting in tenant demo: every operation is allowed, and no generated
    id can reach the fuzzing user itself (it belongs to no tenant), so its access survives the run."""
    r = httpx.post(f"{live.base_url}/api/v1/auth/login", json={"email": "fuzz@platform.test", "password": "demo"})
    session = {"Authorization": f"Bearer {r.json()['token']}"}
    r = httpx.post(f"{live.base_url}/api/v1/tokens", json={"name": "fuzz"}, headers=session)
    return {"Authorization": f"Bearer {r.json()['token']}", "X-Tenant": "demo"}


@pytest.fixture(scope="module")
def api_schema(live: LiveServer) -> schemathesis.BaseSchema:
    schema = schemathesis.openapi.from_url(f"{live.base_url}/api/v1/openapi.json")
    # logout would end the fuzzing session; the event stream never ends (it has its own test)
    return schema.exclude(path="/api/v1/auth/logout").exclude(path="/api/v1/events")


def test_no_operation_answers_with_a_server_error(
    api_schema: schemathesis.BaseSchema, live: LiveServer, fuzz_headers: dict[str, str]
) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 25
    for operation, mode in itertools.product(operations, schemathesis.GenerationMode):
        label = mode.value

        @settings(
            max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None
        )
        @given(case=operation.as_strategy(mode))
        def call(case: schemathesis.Case) -> None:
            response = case.call(base_url=live.base_url, headers=fuzz_headers, timeout=30)
            where = f"{label}: {case.method} {case.formatted_path} {case.query or ''}"  # noqa: B023 (runs at once)
            assert response.status_code < 500, f"{where}: {response.status_code} {response.text}"
            if response.status_code != 204:
                assert response.headers["content-type"][0].startswith("application/json"), where

        try:
            call()
        except Unsatisfiable:
            assert mode is schemathesis.GenerationMode.NEGATIVE, operation  # nothing to get wrong in its input
    assert "Traceback" not in live.output()
