"""The browser UI: server-rendered pages (Jinja2, htmx for partial updates) in English and Polish.

``router`` has every page; ``STATIC`` is the folder served at ``/ui/static`` (our own stylesheet and the vendored
htmx; nothing is loaded from another host). See docs/ui.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import Response

from infolinia.errors import NotFound
from infolinia.web.ui import (
    auth,
    campaigns,
    desk,
    desk_calls,
    desk_live,
    ivr,
    kb,
    numbers,
    people,
    planning,
    prompts,
    reports,
    scripts,
    settings,
    sla,
    trunks,
    wallboard,
)
from infolinia.web.ui.gate import page
from infolinia.web.ui.render import STATIC_URL

__all__ = ["BODY_LIMITS", "STATIC", "STATIC_URL", "router"]

STATIC: Final = Path(__file__).with_name("static")

router = APIRouter(include_in_schema=False)
router.include_router(auth.router)
router.include_router(people.router)
router.include_router(ivr.router)
router.include_router(numbers.router)
router.include_router(kb.router)
router.include_router(scripts.router)
router.include_router(settings.router)
router.include_router(prompts.router)
router.include_router(campaigns.router)
router.include_router(desk.router)
router.include_router(desk_live.router)
router.include_router(trunks.router)
router.include_router(sla.router)
router.include_router(desk_calls.router)
router.include_router(reports.router)
router.include_router(planning.router)
router.include_router(wallboard.router)

#: the console's upload forms, whose bodies may be larger than other requests (``api/errors.BodyLimit``)
BODY_LIMITS = (*prompts.BODY_LIMITS, *campaigns.BODY_LIMITS)


@router.get("/admin/{rest:path}")
@page
async def unknown(rest: str, request: Request) -> Response:
    """Any other path of the console: the error page (404), not the API's JSON."""
    raise NotFound(f"no page /admin/{rest[:100]}")
