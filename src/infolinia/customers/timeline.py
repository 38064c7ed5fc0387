"""One customer's history across every channel, newest first: contacts (calls, callbacks' calls, e-mails, chats,
forms: interactions), promised callbacks, cases and what happened on them that concerns the customer (messages
to the customer, status changes, escalations, reopening, merges), consent changes, and the script runs agents
recorded on the customer's contacts, and the transcript of each chat (its lines) beside the chat's contact.

Each source is read with the same keyset condition and merged: items are ordered by (``at``, source rank, id),
descending, and a page ends with a cursor ``<at>~<rank>~<id>`` from which the next page goes on, so items that
share a timestamp are neither skipped nor repeated across pages. What the reader may not see elsewhere it does
not see here either: a back-office user gets only the contacts and cases of its scope.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from infolinia.errors import Invalid
from infolinia.store.models import (
    AgentScriptRun,
    Callback,
    Case,
    CaseEntry,
    CaseLink,
    ChatFile,
    ChatMessage,
    ChatSession,
    ConsentEvent,
    Customer,
    Interaction,
)

#: the most lines a chat transcript entry carries (the whole transcript: ``GET /chat/sessions/{id}/messages``)
TRANSCRIPT_LINES = 500
#: what a case's timeline entry of these kinds tells about the customer (notes stay on the case)
CASE_ENTRY_KINDS = ("message", "status", "escalated", "reopened", "merged")
SOURCES = (
    "interaction",
    "callback",
    "case",
    "case_entry",
    "consent",
    "script_run",
    "chat_transcript",
)  # the rank of each is its place here


@dataclass(frozen=True)
class Cursor:
    at: datetime
    rank: int
    id: int

    @classmethod
    def parse(cls, raw: str) -> Cursor:
        try:
            at, rank, ident = raw.split("~")
            parsed = cls(datetime.fromisoformat(at), int(rank), int(ident))
        except ValueError:
            raise Invalid("before: not a cursor this timeline gave", details={"field": "before"}) from None
        if parsed.at.tzinfo is None or not 0 <= parsed.rank < len(SOURCES) or not 0 <= parsed.id < 2**31:
            raise Invalid("before: not a cursor this timeline gave", details={"field": "before"})
        return parsed

    def __str__(self) -> str:
        return f"{self.at.isoformat()}~{self.rank}~{self.id}"


def _before(cursor: Cursor | None, rank: int, at: Any, ident: Any) -> ColumnElement[bool] | None:
    """Rows of source ``rank`` that come after ``cursor`` in the timeline's order (older, or as old and lower)."""
    if cursor is None:
        return None
    if rank < cursor.rank:
        older_or_same: ColumnElement[bool] = at <= cursor.at
        return older_or_same
    if rank > cursor.rank:
        older: ColumnElement[bool] = at < cursor.at
        return older
    return or_(at < cursor.at, and_(at == cursor.at, ident < cursor.id))


async def timeline(
    session: AsyncSession,
    customer: Customer,
    *,
    interactions_seen: ColumnElement[bool],
    cases_seen: ColumnElement[bool],
    limit: int = 50,
    before: Cursor | None = None,
) -> tuple[list[dict[str, Any]], Cursor | None]:
    """A page of the customer's timeline and the cursor of the next one (None: nothing older)."""
    items: list[tuple[datetime, int, int, dict[str, Any]]] = []

    async def read(rank: int, model: Any, at: Any, where: list[Any], shape: Callable[[Any], dict[str, Any]]) -> None:
        condition = _before(before, rank, at, model.id)
        query = select(model).where(*where, *([] if condition is None else [condition]))
        for row in await session.scalars(query.order_by(at.desc(), model.id.desc()).limit(limit + 1)):
            when = getattr(row, at.key)
            items.append((when, rank, row.id, {"at": when, "kind": SOURCES[rank], "id": row.id, **shape(row)}))

    tenant, who = customer.tenant_id, customer.id
    await read(
        0,
        Interaction,
        Interaction.created_at,
        [Interaction.tenant_id == tenant, Interaction.customer_id == who, interactions_seen],
        _interaction,
    )
    await read(
        1, Callback, Callback.requested_at, [Callback.tenant_id == tenant, Callback.customer_id == who], _callback
    )
    await read(2, Case, Case.created_at, [Case.tenant_id == tenant, Case.customer_id == who, cases_seen], _case)
    own_cases = select(Case.id).where(Case.tenant_id == tenant, Case.customer_id == who, cases_seen)
    await read(
        3,
        CaseEntry,
        CaseEntry.created_at,
        [CaseEntry.tenant_id == tenant, CaseEntry.case_id.in_(own_cases), CaseEntry.kind.in_(CASE_ENTRY_KINDS)],
        _case_entry,
    )
    await read(4, ConsentEvent, ConsentEvent.created_at,
               [ConsentEvent.tenant_id == tenant, ConsentEvent.customer_id == who], _consent)  # fmt: skip
    own_contacts = select(Interaction.id).where(Interaction.tenant_id == tenant, Interaction.customer_id == who,
                                                interactions_seen)  # fmt: skip
    await read(5, AgentScriptRun, AgentScriptRun.created_at,
               [AgentScriptRun.tenant_id == tenant, AgentScriptRun.interaction_id.in_(own_contacts)], _run)  # fmt: skip
    await read(6, ChatSession, ChatSession.created_at,
               [ChatSession.tenant_id == tenant, ChatSession.interaction_id.in_(own_contacts)], _chat)  # fmt: skip
    items.sort(key=lambda item: item[:3], reverse=True)  # limit + 1 from each: whether more remain is known
    page = items[:limit]
    await _with_case_numbers(session, [item[3] for item in page])
    await _with_lines(session, [item[3] for item in page])
    more = len(items) > limit
    last = page[-1] if page else None
    return [item[3] for item in page], Cursor(last[0], last[1], last[2]) if more and last else None


def _interaction(row: Interaction) -> dict[str, Any]:
    return {
        "channel": row.channel.value, "direction": row.direction.value, "subject": row.subject,
        "queue_id": row.queue_id, "agent_id": row.agent_id, "answered_at": row.answered_at,
        "ended_at": row.ended_at, "end_reason": row.end_reason, "disposition_code": row.disposition_code,
    }  # fmt: skip


def _callback(row: Callback) -> dict[str, Any]:
    return {"status": row.status, "due_at": row.due_at, "source": row.source, "reason": row.reason,
            "attempts": row.attempts, "promise_kept": row.promise_kept}  # fmt: skip


def _case(row: Case) -> dict[str, Any]:
    return {"number": row.number, "subject": row.subject, "category": row.category, "status": row.status,
            "tier": row.tier}  # fmt: skip


def _case_entry(row: CaseEntry) -> dict[str, Any]:
    return {"case_id": row.case_id, "entry_kind": row.kind, "body": row.body if row.kind == "message" else None,
            "data": row.data}  # fmt: skip


def _run(row: AgentScriptRun) -> dict[str, Any]:
    return {"interaction_id": row.interaction_id, "script_id": row.script_id, "script_name": row.script_name,
            "script_version": row.script_version, "completed": row.completed, "outcome": row.outcome,
            "answers": row.answers}  # fmt: skip


def _chat(row: ChatSession) -> dict[str, Any]:
    return {"chat_id": row.id, "interaction_id": row.interaction_id, "status": row.status, "topic": row.topic,
            "agent_id": row.agent_id, "answered_at": row.answered_at, "ended_at": row.ended_at,
            "ended_by": row.ended_by}  # fmt: skip


async def _with_lines(session: AsyncSession, items: list[dict[str, Any]]) -> None:
    """Each chat transcript entry's lines in the order they were written (``lines``; the text as written: JSON
    carries it, and whoever shows it inserts it as text), at most ``TRANSCRIPT_LINES`` (``lines_total`` says how
    many there are)."""
    chats = {item["chat_id"]: item for item in items if item["kind"] == "chat_transcript"}
    for item in chats.values():
        item["lines"], item["lines_total"] = [], 0
    if not chats:
        return
    rows = await session.execute(
        select(ChatMessage, ChatFile.filename)
        .outerjoin(ChatFile, ChatFile.id == ChatMessage.file_id)
        .where(ChatMessage.chat_id.in_(chats))
        .order_by(ChatMessage.chat_id, ChatMessage.id)
    )
    for line, filename in rows:
        item = chats[line.chat_id]
        item["lines_total"] += 1
        if len(item["lines"]) < TRANSCRIPT_LINES:
            item["lines"].append({"sender": line.sender, "seq": line.seq, "at": line.created_at, "text": line.body,
                                  "file": filename})  # fmt: skip


def _consent(row: ConsentEvent) -> dict[str, Any]:
    return {"purpose": row.purpose.value, "granted": row.granted, "channel": row.channel, "source": row.source}


async def _with_case_numbers(session: AsyncSession, items: list[dict[str, Any]]) -> None:
    """The cases each contact is linked to (``case_ids``), and the number of the case of each case entry."""
    contacts = [item["id"] for item in items if item["kind"] == "interaction"]
    linked: dict[int, list[int]] = {}
    if contacts:
        rows = await session.execute(
            select(CaseLink.interaction_id, CaseLink.case_id).where(CaseLink.interaction_id.in_(contacts))
        )
        for interaction_id, case_id in rows:
            linked.setdefault(interaction_id, []).append(case_id)
    cases = {item["case_id"] for item in items if item["kind"] == "case_entry"}
    numbers = (
        dict((await session.execute(select(Case.id, Case.number).where(Case.id.in_(cases)))).all()) if cases else {}
    )
    for item in items:
        if item["kind"] == "interaction":
            item["case_ids"] = sorted(linked.get(item["id"], []))
        elif item["kind"] == "case_entry":
            item["case_number"] = numbers.get(item["case_id"])
