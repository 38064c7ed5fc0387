"""The supervisor wallboard (``/wallboard``): the tenant's queues, agents, callbacks and campaigns, live.

The page is drawn on the server from the shared board (``wallboard.hub``); ``static/wallboard.js`` then listens to
the event stream (``GET /api/v1/events``, server-sent events with the session cookie) and, on an event that
changes the board, fetches ``/wallboard/board?seq=N`` (the same parts, drawn from a board that includes event
``N``) and replaces the parts that changed. ``?tv=1`` is the large-screen mode: big figures, no navigation.
"""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from infolinia.event_types import SCHEMAS
from infolinia.store.types import utcnow
from infolinia.wallboard.board import STATE_ORDER
from infolinia.wallboard.hub import PREFIXES, Wallboards
from infolinia.web.ui.gate import gate, page
from infolinia.web.ui.render import N_

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

PERMISSION: Final = "routing.monitor"
#: the events the page refreshes on
EVENTS: Final = " ".join(sorted(t for t in SCHEMAS if t.startswith(PREFIXES)))
#: agent states as the board names them
STATES: Final = {
    "available": N_("Available"), "reserved": N_("Being offered"), "busy": N_("On a contact"),
    "wrapup": N_("Wrap-up"), "break": N_("Break"), "offline": N_("Offline"),
}  # fmt: skip
assert set(STATES) == {s.value for s in STATE_ORDER}
MODES: Final = {"preview": N_("preview"), "progressive": N_("progressive"), "predictive": N_("predictive")}
STATUSES: Final = {"running": N_("running"), "paused": N_("paused")}


async def _draw(request: Request, template: str, seq: int, tv: bool) -> Response:
    async with gate(request, PERMISSION) as p:
        tenant_id = p.access.tenant.id
        boards: Wallboards = request.app.state.ctx.wallboard
        board = await boards.board(tenant_id, seq)
        # the page's clock is set by the moment of this answer, not the board's reading (which may be a moment
        # older, shared with other viewers): else the counting times would run behind by that moment
        return p.render(template, board=board, tv=tv, events=EVENTS, states=STATES, modes=MODES, statuses=STATUSES,
                        served_at=utcnow())  # fmt: skip


@router.get("/wallboard")
@page
async def wallboard(request: Request, tv: bool = False) -> Response:
    return await _draw(request, "wallboard/page.html", request.app.state.ctx.bus.last_seq, tv)  # all up to now


@router.get("/wallboard/board")
@page
async def board_parts(request: Request, seq: int = Query(0, ge=0, le=2**53), tv: bool = False) -> Response:
    """The board's parts only, from a board that includes event ``seq`` (what the page's script swaps in)."""
    return await _draw(request, "wallboard/board.html", seq, tv)
