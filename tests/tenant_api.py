"""A tenant's user calling the API in a test: each call checked for the status it must answer. The fixtures
``demo_admin`` and ``acme_admin`` are the demo tenants' admins (a test module imports them to use them)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Login

API = "/api/v1"


class TenantApi:
    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        self.client = client
        self.headers = headers

    async def call(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        """The JSON answer (None for 204) of ``method path`` under ``/api/v1``, which must answer ``status``."""
        r = await self.client.request(method, f"{API}{path}", json=body, headers=self.headers)
        assert r.status_code == status, f"{method} {path}: {r.status_code} {r.text}"
        return None if status == 204 else r.json()

    async def refused(self, method: str, path: str, body: Any, status: int, code: str) -> dict[str, Any]:
        """The error of a call that must be refused with ``status`` and ``code``."""
        error: dict[str, Any] = (await self.call(method, path, body, status))["error"]
        assert error["code"] == code, error
        return error


@pytest.fixture
async def demo_admin(client: httpx.AsyncClient, login: Login) -> TenantApi:
    return TenantApi(client, await login("admin@demo.test"))


@pytest.fixture
async def acme_admin(client: httpx.AsyncClient, login: Login) -> TenantApi:
    return TenantApi(client, await login("admin@acme.test"))
