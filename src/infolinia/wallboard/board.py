"""The supervisor wallboard, pure: what the board shows, built from plain inputs (the routing engine's live state,
the reports' figures of today and of the last 30 minutes, the callbacks' and campaigns' counts) at an instant
``now``. No I/O here: ``read.py`` gathers the inputs, ``hub.py`` keeps boards fresh and shared.

The contact figures are the reports' own (``reports.figures.Figures``): offered, answered, abandoned without the
short abandons, service level and abandon rate over the offered contacts that were not short abandons, ASA. The
board and ``GET /api/v1/reports/contacts`` give the same numbers for the same contacts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from infolinia.reports.figures import Figures
from infolinia.routing.model import AgentState

__all__ = [
    "STATE_ORDER",
    "AgentIn",
    "AgentRow",
    "Board",
    "CallbackCounts",
    "Callbacks",
    "CampaignIn",
    "CampaignRow",
    "QueueIn",
    "QueueRow",
    "StateClock",
    "compose",
]

#: the order agents are listed in (and their counts shown): those who can take work first
STATE_ORDER: tuple[AgentState, ...] = (
    AgentState.AVAILABLE, AgentState.RESERVED, AgentState.BUSY, AgentState.WRAPUP, AgentState.BREAK,
    AgentState.OFFLINE,
)  # fmt: skip


class View(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- inputs ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallbackCounts:
    """A queue's open callbacks (status ``scheduled``): all of them, those whose next attempt may start now (due),
    and those whose promise broke with no attempt made yet (overdue)."""

    open: int = 0
    due: int = 0
    overdue: int = 0


@dataclass(frozen=True)
class QueueIn:
    id: int
    name: str
    sl_target: float  # the share to answer within the queue's threshold (0.8)
    waiting: int  # contacts waiting or being offered now
    oldest: datetime | None  # when the longest-waiting of them entered the queue
    today: Figures
    recent: Figures  # the last 30 minutes
    callbacks: CallbackCounts = CallbackCounts()


@dataclass(frozen=True)
class AgentIn:
    id: int
    name: str
    state: AgentState
    reason: str
    since: datetime | None  # in this state since (None: not known)


@dataclass(frozen=True)
class CampaignIn:
    id: int
    name: str
    mode: str
    status: str
    queue: str
    contacts: dict[str, int]  # by status (pending, calling, done, closed)
    dials: int  # calls placed in the pacing window
    window_min: int  # the pacing window, minutes
    in_progress: int  # calls under way now
    staffed: int  # agents of its queue ready now (available, offered, busy or in wrap-up)
    answer_rate: float | None  # the pacer's estimate (predictive campaigns)
    abandoned_today: int = 0
    answered_today: int = 0
    abandon_cap: float = 0.03


# --- outputs -----------------------------------------------------------------------------------------------------


class PeriodFigures(View):
    """One queue's contact figures over a period, as the reports define them."""

    offered: int
    answered: int
    abandoned: int  # short abandons not included
    short_abandoned: int
    service_level: float | None
    abandon_rate: float | None
    asa_s: float | None


class QueueRow(View):
    id: int
    name: str
    waiting: int
    longest_wait_s: float  # 0 with nobody waiting
    oldest_since: datetime | None
    sl_target: float
    today: PeriodFigures
    last_30_min: PeriodFigures
    below_target: bool  # the service level today or in the last 30 minutes is under the queue's target
    callbacks_open: int
    callbacks_due: int
    callbacks_overdue: int


class AgentRow(View):
    id: int
    name: str
    state: AgentState
    reason: str
    since: datetime | None
    in_state_s: float | None


class Callbacks(View):
    open: int
    due: int
    overdue: int
    requested_today: int  # promised for today (due_at today, up to now), as ``GET /callbacks/stats`` counts them
    promise_kept: int
    promise_broken: int
    promise_kept_share: float | None


class CampaignRow(View):
    id: int
    name: str
    mode: str
    status: str
    queue: str
    contacts_left: int  # pending or being called
    dials_per_min: float  # over the pacing window
    in_progress: int
    lines_per_agent: float | None  # calls under way per ready agent of its queue
    answer_rate: float | None
    answered_today: int
    abandoned_today: int
    abandon_rate_today: float | None  # abandoned / answered (the dialer's definition)
    abandon_cap: float
    over_cap: bool


class Board(View):
    tenant_id: int
    seq: int  # the newest event the board includes
    at: datetime
    day_start: datetime  # today, on the tenant's clock
    window_start: datetime  # the last 30 minutes
    queues: list[QueueRow]
    agents: list[AgentRow]
    agent_counts: dict[str, int]
    callbacks: Callbacks
    campaigns: list[CampaignRow]


# --- building ----------------------------------------------------------------------------------------------------


def figures(f: Figures) -> PeriodFigures:
    j = f.to_json()
    return PeriodFigures(**{k: j[k] for k in PeriodFigures.model_fields})


def _seconds(now: datetime, since: datetime | None) -> float | None:
    return None if since is None else round(max(0.0, (now - since).total_seconds()), 1)


def queue_row(q: QueueIn, now: datetime) -> QueueRow:
    today, recent = figures(q.today), figures(q.recent)
    below = any(sl is not None and sl < q.sl_target for sl in (today.service_level, recent.service_level))
    return QueueRow(
        id=q.id, name=q.name, waiting=q.waiting, longest_wait_s=_seconds(now, q.oldest) or 0.0, oldest_since=q.oldest,
        sl_target=q.sl_target, today=today, last_30_min=recent, below_target=below,
        callbacks_open=q.callbacks.open, callbacks_due=q.callbacks.due, callbacks_overdue=q.callbacks.overdue,
    )  # fmt: skip


def agent_rows(agents: Iterable[AgentIn], now: datetime) -> list[AgentRow]:
    """Agents in ``STATE_ORDER``, then by name."""
    rank = {s: n for n, s in enumerate(STATE_ORDER)}
    ordered = sorted(agents, key=lambda a: (rank[a.state], a.name.casefold(), a.id))
    return [AgentRow(id=a.id, name=a.name, state=a.state, reason=a.reason, since=a.since,
                     in_state_s=_seconds(now, a.since)) for a in ordered]  # fmt: skip


def state_counts(agents: Iterable[AgentIn]) -> dict[str, int]:
    counts = {s.value: 0 for s in STATE_ORDER}
    for a in agents:
        counts[a.state.value] += 1
    return counts


def campaign_row(c: CampaignIn) -> CampaignRow:
    rate = round(c.abandoned_today / c.answered_today, 4) if c.answered_today else None
    return CampaignRow(
        id=c.id, name=c.name, mode=c.mode, status=c.status, queue=c.queue,
        contacts_left=c.contacts.get("pending", 0) + c.contacts.get("calling", 0),
        dials_per_min=round(c.dials / c.window_min, 2) if c.window_min else 0.0, in_progress=c.in_progress,
        lines_per_agent=round(c.in_progress / c.staffed, 2) if c.staffed else None,
        answer_rate=None if c.answer_rate is None else round(c.answer_rate, 4),
        answered_today=c.answered_today, abandoned_today=c.abandoned_today, abandon_rate_today=rate,
        abandon_cap=c.abandon_cap, over_cap=rate is not None and rate > c.abandon_cap,
    )  # fmt: skip


@dataclass(frozen=True)
class Moment:
    """When a board is drawn: the instant, the start of the tenant's day, the start of the last 30 minutes."""

    now: datetime
    day_start: datetime
    window_start: datetime


def compose(
    tenant_id: int,
    seq: int,
    moment: Moment,
    queues: Sequence[QueueIn],
    agents: Sequence[AgentIn],
    callbacks: Callbacks,
    campaigns: Sequence[CampaignIn],
) -> Board:
    now = moment.now
    return Board(
        tenant_id=tenant_id, seq=seq, at=now, day_start=moment.day_start, window_start=moment.window_start,
        queues=[queue_row(q, now) for q in sorted(queues, key=lambda q: (q.name.casefold(), q.id))],
        agents=agent_rows(agents, now), agent_counts=state_counts(agents), callbacks=callbacks,
        campaigns=[campaign_row(c) for c in sorted(campaigns, key=lambda c: (c.name.casefold(), c.id))],
    )  # fmt: skip


# --- time in state -----------------------------------------------------------------------------------------------


@dataclass
class StateClock:
    """Since when each agent is in its state, from the routing events seen: an agent whose state differs from the
    one last seen changed at the event's time. An agent seen for the first time is known only if the event is the
    change itself (``changed``); otherwise the board falls back on what the store and the engine know."""

    _known: dict[int, tuple[AgentState, datetime | None]] = field(default_factory=dict)

    def observe(self, agent_id: int, state: AgentState, at: datetime, changed: bool = False) -> None:
        known = self._known.get(agent_id)
        if known is None:
            self._known[agent_id] = (state, at if changed else None)
        elif known[0] is not state:
            self._known[agent_id] = (state, at)

    def forget(self, agent_id: int) -> None:
        self._known.pop(agent_id, None)

    def since(self, agent_id: int, state: AgentState) -> datetime | None:
        """When the agent entered ``state`` as far as the events tell (None: not known from them)."""
        known = self._known.get(agent_id)
        return known[1] if known is not None and known[0] is state else None
