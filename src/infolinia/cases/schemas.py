"""Request and response shapes of the cases API (``/api/v1/cases``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, model_validator

from infolinia.schemas import Id, Input, Output

Subject = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Category = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Priority = Literal["low", "normal", "high", "urgent"]
Body = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
SettableStatus = Literal["new", "open", "pending_customer", "resolved", "closed"]


class CaseIn(Input):
    subject: Subject
    category: Category
    priority: Priority = "normal"
    #: the customer's words, as the agent took them down (the first line of the timeline)
    description: Body | None = None
    customer_id: Id | None = None
    assignee_id: Id | None = None
    #: the contact it was filed in (linked to the case at once)
    interaction_id: Id | None = None


class CasePatch(Input):
    subject: Subject | None = None
    category: Category | None = None
    priority: Priority | None = None
    customer_id: Id | None = None
    #: null: nobody (the case waits for its team); leave out to keep
    assignee_id: Id | None = None


class CaseStatusIn(Input):
    status: SettableStatus
    note: Reason | None = None


class CaseEscalateIn(Input):
    reason: Reason


class CaseReopenIn(Input):
    reason: Reason


class CaseEntryIn(Input):
    body: Body
    #: true: an internal note; false: a message to the customer (the first one is the case's first response)
    internal: bool = True
    #: the customer's own words (a letter, a message taken down on the phone): not internal, and after the first
    #: response it starts a next-response round; a case pending the customer is open again
    from_customer: bool = False

    @model_validator(mode="after")
    def _customer_words_are_not_internal(self) -> CaseEntryIn:
        if self.from_customer:
            if "internal" in self.model_fields_set and self.internal:
                raise ValueError("a message from the customer is not internal")
            self.internal = False
        return self


class CaseLinkIn(Input):
    interaction_id: Id


class CaseMergeIn(Input):
    #: the case this one (a duplicate) is merged into: its links and timeline go there, and this one is closed
    into_case_id: Id


class CaseOut(Output):
    id: int
    number: int
    subject: str
    category: str
    priority: str
    status: str
    tier: int
    tier_name: str = ""
    customer_id: int | None
    team_id: int | None
    assignee_id: int | None
    created_by_id: int | None
    merged_into_id: int | None
    routing_task_id: int | None  # the task it waits as in its rung's queue (``/tasks/{id}``)
    reopened: int
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    #: per target (first_response, resolution): mode, state, due_at, warn_at, elapsed_s, target_s; and the rule
    sla: dict[str, Any] | None = None
    created_at: datetime
    updated_at: datetime


class CaseEntryOut(Output):
    id: int
    kind: str
    internal: bool
    body: str | None
    data: dict[str, Any]
    author_id: int | None
    created_at: datetime


class CaseDetail(CaseOut):
    entries: list[CaseEntryOut] = Field(default_factory=list)
    interaction_ids: list[int] = Field(default_factory=list)


class TargetFigures(Output):
    met: int
    missed: int
    #: over the target and not yet answered or resolved (a miss already)
    breached: int
    #: within the target so far
    running: int
    #: met of the decided (met + missed + breached); null when none is decided
    rate: float | None


class ComplianceFigures(Output):
    cases: int
    #: cases a service-level rule applies to
    with_targets: int
    targets: dict[str, TargetFigures]


class ComplianceOut(ComplianceFigures):
    start: datetime
    end: datetime
    computed_at: datetime
    by_category: dict[str, ComplianceFigures]
