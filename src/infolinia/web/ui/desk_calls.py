"""The desk's call controls (``voice/calls/control.py``, through the API's ``api/routes/calls.act``): Hold or
Resume, Transfer (to a queue or to an agent) and Hang up, for the live voice call an agent is on.

The desk includes ``desk/call_controls.html`` with ``interaction`` (anything with ``.id``) and ``csrf_token`` in its
context. That is all it must pass: the template then loads its panel from ``GET /desk/calls/{interaction_id}/controls``
(htmx, on load and every few seconds, so "on hold" stays true); a desk that has the panel at hand may pass it as
``call_panel`` (``await desk_calls.panel(page, interaction_id)``) and it is drawn at once, without a request.

The panel's forms post to ``/desk/calls/{interaction_id}/hold``, ``/resume``, ``/transfer`` (fields ``queue_id``
or ``agent_id``) and ``/hangup``, with the CSRF token. From htmx they answer with the panel again (a refusal shown
in it: not connected, already on hold, another agent's call); from a plain form, with a redirect to ``/desk``
(303), or the error page. Another tenant's interaction is the 404 page, like everywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from infolinia.access import can
from infolinia.api.routes.calls import TransferIn, act
from infolinia.errors import DomainError, Invalid
from infolinia.store.models import AgentProfile, Queue, User
from infolinia.voice.calls.control import Operation
from infolinia.voice.calls.inbound import CallState
from infolinia.web.ui.gate import Page, form, gate, page
from infolinia.web.ui.problems import refusal
from infolinia.web.ui.render import N_

__all__ = ["Panel", "panel", "router"]

router = APIRouter(include_in_schema=False)

DESK: Final = "/desk"
PART: Final = "desk/call_controls_part.html"


@dataclass
class Panel:
    """What the controls show: the call's state (``talking``, ``held``, ``queued``, ``connecting``, ``ended``...,
    ``none`` when this server has no live call for it), whether the viewer may act, the tenant's queues and
    agents to transfer to, and a refusal to show."""

    interaction_id: int
    state: str
    may_act: bool
    queues: list[tuple[int, str]] = field(default_factory=list)
    agents: list[tuple[int, str]] = field(default_factory=list)
    problem: str = ""


async def panel(p: Page, interaction_id: int, problem: str = "") -> Panel:
    """The panel of the live call of ``interaction_id`` (in the viewer's tenant) as it is now."""
    a = p.access
    tenant_id = a.tenant.id
    call = next((c for c in a.request.app.state.ctx.calls.calls.values()
                 if c.interaction_id == interaction_id and c.tenant_id == tenant_id), None)  # fmt: skip
    if call is None or call.state is CallState.ENDED:
        return Panel(interaction_id, "none", False, problem=problem)
    state = "held" if call.held else call.state.value
    mine = call.agent_id is not None and call.agent_id == a.actor.user_id
    may = mine or can(a.actor, "calls.supervise")
    queues = list((await a.session.execute(
        select(Queue.id, Queue.name).where(Queue.tenant_id == tenant_id).order_by(Queue.name)
    )).tuples())  # fmt: skip
    agents = list((await a.session.execute(
        select(User.id, User.display_name).join(AgentProfile, AgentProfile.user_id == User.id)
        .where(AgentProfile.tenant_id == tenant_id, User.id != a.actor.user_id, User.active.is_(True))
        .order_by(User.display_name)
    )).tuples())  # fmt: skip
    return Panel(interaction_id, state, may, queues, agents, problem)


def _fragment(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


async def _show(p: Page, interaction_id: int, problem: str = "") -> Response:
    return p.render(PART, call_panel=await panel(p, interaction_id, problem), csrf_token=p.viewer.csrf)


@router.get("/desk/calls/{interaction_id}/controls")
@page
async def controls(interaction_id: int, request: Request) -> Response:
    """The panel alone (htmx loads it into the desk)."""
    async with gate(request, "calls.control") as p:
        return await _show(p, interaction_id)


async def _do(request: Request, interaction_id: int, operation: Operation) -> Response:
    async with gate(request, "calls.control") as p:
        fields = await form(request, p)
        try:
            where = None
            if operation == "transfer":
                where = _where(p, fields)
            await act(p.access, operation, where)
        except DomainError as exc:
            if not _fragment(request):  # the error page, in the viewer's language
                raise type(exc)(_refusal(p, exc), code=exc.code, details=exc.details) from exc
            await p.reload()  # a failed write rolled the session back
            return await _show(p, interaction_id, _refusal(p, exc))
        if _fragment(request):
            return await _show(p, interaction_id)
        return RedirectResponse(DESK, status_code=303)


def _refusal(p: Page, exc: DomainError) -> str:
    """A refusal in the viewer's language (the API's message when no translation names its code)."""
    messages = {
        "not_connected": N_("The call is not connected to an agent."),
        "no_live_call": N_("This call has ended."),
        "already_held": N_("The call is already on hold."),
        "not_held": N_("The call is not on hold."),
        "not_your_call": N_("Only the agent on the call or a supervisor can do this."),
        "no_queue": N_("Choose a queue: this call came through none."),
        "call_busy": N_("The call did not answer in time: try again."),
        "unknown_reference": N_("That queue or agent does not exist."),
    }
    message = messages.get(exc.code)
    return p._(message) if message is not None else refusal(exc, p._)


def _where(p: Page, fields: dict[str, list[str]]) -> TransferIn:
    """The transfer form's target: a queue or an agent (each a select whose empty choice means none)."""
    values = {key: (fields.get(key) or [""])[0].strip() for key in ("queue_id", "agent_id")}
    try:
        return TransferIn.model_validate({key: value for key, value in values.items() if value})
    except ValidationError as exc:
        raise Invalid(p._("Choose a queue or an agent to transfer the call to."), code="bad_transfer") from exc


@router.post("/desk/calls/{interaction_id}/hold")
@page
async def hold(interaction_id: int, request: Request) -> Response:
    return await _do(request, interaction_id, "hold")


@router.post("/desk/calls/{interaction_id}/resume")
@page
async def resume(interaction_id: int, request: Request) -> Response:
    return await _do(request, interaction_id, "resume")


@router.post("/desk/calls/{interaction_id}/transfer")
@page
async def transfer(interaction_id: int, request: Request) -> Response:
    return await _do(request, interaction_id, "transfer")


@router.post("/desk/calls/{interaction_id}/hangup")
@page
async def hangup(interaction_id: int, request: Request) -> Response:
    return await _do(request, interaction_id, "hangup")
