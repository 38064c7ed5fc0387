"""Case policy (``/admin/sla``): the categories cases are filed under, the escalation ladder (each rung's name, team
and queue) and the service-level rules (``cases/policy.py``). Each rung and rule is a row of fields, plus one empty
row to add one (a row left empty is dropped). Saving goes through ``tenants.actions.update_tenant`` with the
policy in ``case_policy``, as ``PATCH /api/v1/tenants/{id}`` does: the policy's own checks (``CasePolicy.from_json``)
and the ladder's teams and queues being the tenant's. A problem is shown at the row and field it names
(``sla[1].priority: ...``), and every row comes back as typed."""

from __future__ import annotations

import re
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from infolinia.access import can
from infolinia.cases.actions import policy_of
from infolinia.cases.policy import PRIORITIES
from infolinia.errors import DomainError
from infolinia.schemas import TenantPatch
from infolinia.store.models import Queue, Team
from infolinia.tenants import actions
from infolinia.web.ui.gate import Page, form, gate, page
from infolinia.web.ui.problems import problem_text, refusal

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

MAX_FIELD: Final = 2000
RUNG_FIELDS: Final = ("name", "team_id", "queue_id")
RULE_FIELDS: Final = (
    "category", "priority", "customer_tier", "first_response_minutes", "next_response_minutes",
    "resolution_minutes", "resolution_days", "warn_percent", "around_the_clock", "escalate_on_breach",
)  # fmt: skip
NUMBERS: Final = ("first_response_minutes", "next_response_minutes", "resolution_minutes", "resolution_days",
                  "warn_percent")  # fmt: skip
FLAGS: Final = ("around_the_clock", "escalate_on_breach")
#: where a policy problem is: ``ladder[2].team_id: ...`` -> ("ladder", 2, "team_id")
WHERE: Final = re.compile(r"^(?:case_policy\.)?(categories|ladder|sla)(?:\[(\d+)\])?(?:\.(\w+))?:?\s")

Row = dict[str, str]


def _column(fields: dict[str, list[str]], prefix: str, name: str) -> list[str]:
    return [value[:MAX_FIELD].strip() for value in fields.get(f"{prefix}_{name}", [])]


def _rows(fields: dict[str, list[str]], prefix: str, names: tuple[str, ...]) -> list[Row]:
    """The posted rows (each field posted once per row, in order); rows left empty dropped."""
    columns = {name: _column(fields, prefix, name) for name in names}
    count = max((len(c) for c in columns.values()), default=0)
    rows = [{name: (columns[name][i] if i < len(columns[name]) else "") for name in names} for i in range(count)]
    return [row for row in rows if any(row[name] for name in names if name not in FLAGS)]


def _number(text: str) -> int | str | None:
    """A whole number as a number; anything else as typed, so the policy's check names it."""
    return None if not text else int(text) if text.isdigit() else text


def policy_json(categories: str, rungs: list[Row], rules: list[Row]) -> dict[str, Any]:
    """The policy the form describes, in the JSON form ``CasePolicy.from_json`` reads."""
    rule_list = []
    for row in rules:
        rule: dict[str, Any] = {key: row[key] or None for key in ("category", "priority", "customer_tier")}
        rule |= {key: _number(row[key]) for key in NUMBERS if row[key]}
        rule |= {key: row[key] == "yes" for key in FLAGS if row[key]}
        rule_list.append(rule)
    return {
        "categories": [c.strip() for c in categories.replace("\n", ",").split(",") if c.strip()],
        "ladder": [
            {"name": row["name"], "team_id": _number(row["team_id"]), "queue_id": _number(row["queue_id"])}
            for row in rungs
        ],
        "sla": rule_list,
    }


def form_values(policy: dict[str, Any]) -> tuple[str, list[Row], list[Row]]:
    """The form's texts of a saved policy."""
    rungs = [{key: "" if rung.get(key) is None else str(rung[key]) for key in RUNG_FIELDS}
             for rung in policy["ladder"]]  # fmt: skip
    rules = []
    for rule in policy["sla"]:
        row = {key: "" if rule.get(key) is None else str(rule[key]) for key in RULE_FIELDS if key not in FLAGS}
        row |= {key: "yes" if rule.get(key) else "no" for key in FLAGS}
        rules.append(row)
    return ", ".join(policy["categories"]), rungs, rules


def locate(message: str) -> str:
    """The form's place of a policy problem: ``categories``, ``ladder-2-team_id``, ``sla-1``, ..."""
    found = WHERE.match(message)
    if found is None:
        return "form"
    part, index, name = found.groups()
    if part == "categories":  # one field for them all
        return part
    return "-".join(x for x in (part, index, name if index is not None else None) if x is not None)


async def _page(p: Page, categories: str, rungs: list[Row], rules: list[Row], problems: dict[str, str],
                status: int = 200, saved: bool = False) -> Response:  # fmt: skip
    a = p.access
    teams = list(await a.session.scalars(select(Team).where(Team.tenant_id == a.tenant.id).order_by(Team.name)))
    queues = list(await a.session.scalars(select(Queue).where(Queue.tenant_id == a.tenant.id).order_by(Queue.name)))
    blank_rung = dict.fromkeys(RUNG_FIELDS, "")
    blank_rule = dict.fromkeys(RULE_FIELDS, "") | {"around_the_clock": "no", "escalate_on_breach": "yes"}
    return p.render("admin/sla.html", status, categories=categories, rungs=[*rungs, blank_rung],
                    rules=[*rules, blank_rule], problems=problems, saved=saved, priorities=[(x, x) for x in PRIORITIES],
                    teams=[(str(t.id), t.name) for t in teams], queues=[(str(q.id), q.name) for q in queues],
                    may_manage=can(a.actor, "tenants.update"))  # fmt: skip


@router.get("/admin/sla")
@page
async def sla(request: Request) -> Response:
    async with gate(request, "tenants.read") as p:
        categories, rungs, rules = form_values(policy_of(p.access.tenant).to_json())
        return await _page(p, categories, rungs, rules, {}, saved=request.query_params.get("saved") == "1")


@router.post("/admin/sla")
@page
async def save_sla(request: Request) -> Response:
    async with gate(request, "tenants.update") as p:
        a = p.access
        fields = await form(request, p)
        categories = (fields.get("categories") or [""])[0][:MAX_FIELD].strip()
        rungs, rules = _rows(fields, "rung", RUNG_FIELDS), _rows(fields, "rule", RULE_FIELDS)
        try:
            body = TenantPatch.model_validate({"case_policy": policy_json(categories, rungs, rules)})
        except ValidationError as exc:
            problems: dict[str, str] = {}
            for error in exc.errors():
                message = str(error["msg"]).removeprefix("Value error, ")
                problems.setdefault(locate(message), problem_text(p._, error))
            return await _page(p, categories, rungs, rules, problems, 422)
        try:
            async with a.write() as tx:
                await actions.update_tenant(tx, a.tenant, body)
        except DomainError as exc:
            await p.reload()
            return await _page(p, categories, rungs, rules, {locate(exc.message): refusal(exc, p._)}, exc.status)
        a.telephony.invalidate(a.tenant.id)
        return RedirectResponse("/admin/sla?saved=1", status_code=303)
