"""The browser UI driven over HTTP in tests: a client of its own (its cookies are the browser's), logged in through
the login form like a person."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from infolinia import demo
from tests.conftest import Login

CSRF = re.compile(r'name="csrf" value="([^"]*)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def problem_of(html: str, name: str) -> str:
    """The problem shown under the form's field ``name`` (empty when none)."""
    found = re.search(rf'<p class="problem" id="f-{name}-problem">(.*?)</p>', html, re.S)
    return found.group(1) if found else ""


@asynccontextmanager
async def ui_client(
    app: Any, email: str | None = None, language: str = "en", password: str = demo.PASSWORD
) -> AsyncIterator[httpx.AsyncClient]:
    """A cookie-keeping client of ``app``, its pages in ``language`` (the demo admins' own setting is Polish); logged
    in as ``email`` (password ``demo`` unless given) through the form if given."""
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50001))
    async with httpx.AsyncClient(transport=transport, base_url="http://infolinia.test") as client:
        if language:
            client.cookies.set("infolinia_lang", language, domain="infolinia.test")
        if email is not None:
            page = await client.get("/login")
            r = await client.post(
                "/login", data={"csrf": csrf_of(page.text), "email": email, "password": password, "next": "/admin"}
            )
            assert r.status_code == 303, r.text
        yield client


async def a_platform_admin(center: Any) -> str:
    """A platform admin's e-mail (made once; password ``demo``)."""
    from sqlalchemy import select

    from infolinia.auth.actions import create_user
    from infolinia.schemas import UserIn
    from infolinia.store.models import Role, User
    from infolinia.store.uow import Who, transaction

    email = "ui-root@platform.test"
    async with center.db.session() as s, transaction(s, center.bus, Who(None, "test", None)) as tx:
        if await tx.session.scalar(select(User.id).where(User.email == email)) is None:
            body = UserIn(email=email, display_name="UI root", role=Role.PLATFORM_ADMIN, password="demo")
            await create_user(tx, None, body, min_password_length=0)
    return email


async def own_tenant(center: Any, client: httpx.AsyncClient, login: Login) -> tuple[str, dict[str, str]]:
    """A new tenant: its slug and a platform admin's headers working on it."""
    email = await a_platform_admin(center)
    slug = f"ui-{uuid.uuid4().hex[:8]}"
    headers = await login(email)
    body = {"slug": slug, "name": "UI policy", "timezone": "Europe/Warsaw", "languages": ["pl", "en"]}
    assert (await client.post("/api/v1/tenants", json=body, headers=headers)).status_code == 201
    return slug, {**headers, "X-Tenant": slug}


async def work_on(browser: httpx.AsyncClient, slug: str) -> None:
    token = csrf_of((await browser.get("/admin/tenants")).text)
    assert (await browser.post("/admin/tenants/choose", data={"csrf": token, "slug": slug})).status_code == 303
