"""Script runs as a customer's personal data: what the agent recorded on the customer's contacts is exported with
them, and erased with them (the answers go; which script was run, how far and to what outcome stays)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from infolinia.store.models import AgentScriptRun, Customer, Interaction

__all__ = ["erase_answers", "export_runs"]


def _runs_of(customer: Customer) -> Any:
    contacts = select(Interaction.id).where(Interaction.tenant_id == customer.tenant_id,
                                            Interaction.customer_id == customer.id)  # fmt: skip
    return select(AgentScriptRun).where(AgentScriptRun.tenant_id == customer.tenant_id,
                                        AgentScriptRun.interaction_id.in_(contacts))  # fmt: skip


async def export_runs(session: AsyncSession, customer: Customer) -> list[dict[str, Any]]:
    """The script runs on the customer's contacts, oldest first."""
    rows = await session.scalars(_runs_of(customer).order_by(AgentScriptRun.id))
    return [{"interaction_id": r.interaction_id, "script": r.script_name, "version": r.script_version,
             "steps": r.steps, "answers": r.answers, "completed": r.completed, "outcome": r.outcome,
             "at": r.created_at.isoformat()} for r in rows]  # fmt: skip


async def erase_answers(session: AsyncSession, customer: Customer) -> None:
    """Remove the answers recorded on the customer's contacts (the options taken stay: they are the script's)."""
    for run in await session.scalars(_runs_of(customer)):
        run.answers = {}
        run.steps = [{k: v for k, v in step.items() if k != "answer"} for step in run.steps]
