"""The supervisor wallboard as JSON (``wallboard/``): per queue, agent, callbacks and campaigns, live."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from infolinia.api.deps import Access, access
from infolinia.wallboard.board import Board
from infolinia.wallboard.hub import Wallboards

router = APIRouter(tags=["live"])


@router.get("/wallboard", response_model=Board)
async def wallboard(a: Access = Depends(access("routing.monitor")), seq: int = Query(0, ge=0, le=2**53)) -> Board:
    """The tenant's board. ``seq``: the newest event the caller has seen (from ``/events``); the board includes it.
    Boards are shared: computed at most a few times a second per tenant, however many are open."""
    tenant_id = a.tenant.id
    await a.session.close()  # the board is read through its own session
    boards: Wallboards = a.request.app.state.ctx.wallboard
    return await boards.board(tenant_id, seq)
