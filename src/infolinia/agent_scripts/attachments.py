"""Where a script applies, pure: the tenant's queues, IVR choices (a flow's node that callers go through) and case
categories. Checked against the tenant's configuration when the script is saved; a flow changed later may lose a
node, and an attachment to it then simply matches no caller."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from infolinia.agent_scripts.validate import ScriptProblem
from infolinia.schemas import Id

__all__ = ["MAX_ATTACHMENTS", "Attachments", "IvrChoice", "check_attachments"]

MAX_ATTACHMENTS = 50
NodeId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
Category = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


class IvrChoice(BaseModel):
    """A node of an IVR flow: callers whose IVR path went through it get the script."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    flow_id: Id
    node_id: NodeId


class Attachments(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    queue_ids: list[Id] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)
    ivr: list[IvrChoice] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)
    categories: list[Category] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)


def check_attachments(
    attachments: Attachments, queues: Collection[int], flows: Mapping[int, Collection[str]], categories: Collection[str]
) -> list[ScriptProblem]:
    """Every attachment naming something the tenant does not have, or named twice. ``flows``: the tenant's flows,
    each with its node ids."""
    found: list[ScriptProblem] = []

    def problem(path: str, message: str) -> None:
        found.append(ScriptProblem(f"attachments.{path}", None, path, message))

    for i, queue_id in enumerate(attachments.queue_ids):
        if queue_id not in queues:
            problem(f"queue_ids[{i}]", f"queue {queue_id} does not exist")
        elif queue_id in attachments.queue_ids[:i]:
            problem(f"queue_ids[{i}]", f"queue {queue_id} is listed twice")
    for i, choice in enumerate(attachments.ivr):
        nodes = flows.get(choice.flow_id)
        if nodes is None:
            problem(f"ivr[{i}].flow_id", f"IVR flow {choice.flow_id} does not exist")
        elif choice.node_id not in nodes:
            problem(f"ivr[{i}].node_id", f"IVR flow {choice.flow_id} has no node {choice.node_id!r}")
        elif choice in attachments.ivr[:i]:
            problem(f"ivr[{i}]", f"IVR choice {choice.node_id!r} of flow {choice.flow_id} is listed twice")
    for i, category in enumerate(attachments.categories):
        if category not in categories:
            problem(f"categories[{i}]", f"{category!r} is not one of the tenant's case categories")
        elif category in attachments.categories[:i]:
            problem(f"categories[{i}]", f"category {category!r} is listed twice")
    return found
