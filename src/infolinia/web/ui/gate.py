"""The UI's way through the API's one gate (``api.deps.admit``): the same authentication, tenant scoping, object
resolution and permission check as the REST routes, with failures turned into pages (a redirect to the login page
for 401, an error page for the rest) instead of JSON.

A platform admin works on one tenant at a time, chosen on the tenants page (kept in the ``infolinia_tenant``
cookie, the UI's ``X-Tenant``).
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Final, ParamSpec
from urllib.parse import parse_qs, quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from infolinia.api.credentials import Credentials, bearer_secret
from infolinia.api.deps import Access, admit
from infolinia.errors import DomainError, Forbidden, Invalid, Unauthorized
from infolinia.store.models import User
from infolinia.web.ui import multipart, security
from infolinia.web.ui.render import Viewer, render, viewer

__all__ = ["TENANT_COOKIE", "Page", "form", "gate", "page", "safe_next", "upload"]

TENANT_COOKIE: Final = "infolinia_tenant"
#: a UI form's limits: fields and characters (the app's body limit bounds the bytes before this)
MAX_FIELDS: Final = 400

P = ParamSpec("P")


class Page:
    """What a page handler works with: the gate's ``Access`` and the viewer (language, CSRF token, navigation)."""

    def __init__(self, access: Access, seen: Viewer) -> None:
        self.access = access
        self.viewer = seen

    def _(self, message: str) -> str:
        return self.viewer.gettext(message)

    async def reload(self, *rows: object) -> None:
        """Load the tenant and ``rows`` again after a write failed (its rollback expired every loaded row)."""
        for row in (self.access.tenant_obj, *rows):
            if row is not None:
                await self.access.session.refresh(row)

    def render(self, template: str, status: int = 200, **context: object) -> Response:
        return render(self.access.request, self.viewer, template, status, **context)


@asynccontextmanager
async def gate(request: Request, permission: str) -> AsyncIterator[Page]:
    """Admit the browser's session for ``permission`` (path parameters resolved in its tenant)."""
    presented = Credentials(bearer_secret(request), request.cookies.get(TENANT_COOKIE) or None)
    async with request.app.state.ctx.db.session() as s:
        actor, tenant, objects = await admit(s, presented, permission, dict(request.path_params))
        user = await s.get(User, actor.user_id)
        yield Page(Access(request, s, actor, tenant, objects), viewer(request, actor, user, tenant))


async def form(request: Request, page: Page | None = None) -> dict[str, list[str]]:
    """The posted ``application/x-www-form-urlencoded`` fields; the CSRF token checked against the session's."""
    try:
        fields = parse_qs((await request.body()).decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError) as exc:
        raise Invalid("the form could not be read", code="bad_form") from exc
    if page is not None and not security.same(page.viewer.csrf, _one(fields, security.CSRF_FIELD)):
        raise Forbidden("the form's security token is missing or stale: reload the page", code="csrf_failed")
    return fields


async def upload(request: Request, page: Page) -> multipart.Posted:
    """The posted ``multipart/form-data`` fields and files (a form with a file); the CSRF token checked first."""
    posted = multipart.read(request.headers.get("content-type", ""), await request.body())
    if not security.same(page.viewer.csrf, _one(posted.fields, security.CSRF_FIELD)):
        raise Forbidden("the form's security token is missing or stale: reload the page", code="csrf_failed")
    return posted


def _one(fields: dict[str, list[str]], name: str) -> str:
    values = fields.get(name) or [""]
    return values[0]


def safe_next(target: str | None, default: str = "/admin") -> str:
    """A local path to go to after login (never another site: no scheme, no ``//``, no backslash)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def page(handler: Callable[P, Awaitable[Response]]) -> Callable[P, Awaitable[Response]]:
    """A page handler whose domain errors become pages: 401 goes to the login page, the rest to the error page."""

    @functools.wraps(handler)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> Response:
        request = kwargs.get("request")
        assert isinstance(request, Request), "a page handler takes request as a keyword"
        try:
            return await handler(*args, **kwargs)
        except Unauthorized:
            wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(wanted, safe='')}", status_code=303)
        except DomainError as exc:
            if exc.code == "tenant_required":  # a platform admin who has not chosen a tenant yet
                return RedirectResponse("/admin/tenants", status_code=303)
            seen = viewer(request)
            return render(request, seen, "error.html", exc.status, error=exc)

    return wrapper
