"""The wallboard's pure core: figures, thresholds, agents in order with their time in state, campaigns' pacing and
abandon rates, and the clock that learns from the routing events since when an agent is in its state. Every value
is worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from infolinia.reports.figures import Figures
from infolinia.routing.model import AgentState
from infolinia.wallboard.board import (
    AgentIn,
    CallbackCounts,
    Callbacks,
    CampaignIn,
    Moment,
    QueueIn,
    StateClock,
    campaign_row,
    compose,
    queue_row,
)

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
NO_CALLBACKS = Callbacks(open=0, due=0, overdue=0, requested_today=0, promise_kept=0, promise_broken=0,
                         promise_kept_share=None)  # fmt: skip


def _queue(today: Figures, recent: Figures, *, waiting: int = 0, oldest: datetime | None = None) -> QueueIn:
    return QueueIn(7, "Billing", 0.8, waiting, oldest, today, recent, CallbackCounts(3, 1, 1))


def test_a_queue_row_has_the_reports_figures_and_its_longest_wait() -> None:
    # 10 offered, 2 of them short abandons; 6 answered, 5 within the threshold, waits summing 90 s; 4 abandoned
    today = Figures(offered=10, answered=6, abandoned=4, short_abandoned=2, answered_in_sl=5, wait_ms=90_000)
    recent = Figures(offered=2, answered=2, answered_in_sl=2, wait_ms=7_000)
    row = queue_row(_queue(today, recent, waiting=2, oldest=NOW - timedelta(seconds=95)), NOW)
    assert (row.today.offered, row.today.answered, row.today.abandoned, row.today.short_abandoned) == (10, 6, 2, 2)
    assert row.today.service_level == 0.625  # 5 / (10 - 2)
    assert row.today.abandon_rate == 0.25  # (4 - 2) / (10 - 2)
    assert row.today.asa_s == 15.0  # 90 / 6
    assert (row.last_30_min.service_level, row.last_30_min.asa_s, row.last_30_min.abandon_rate) == (1.0, 3.5, 0.0)
    assert (row.waiting, row.longest_wait_s) == (2, 95.0)
    assert row.below_target  # 62.5 % today is under 80 %
    assert (row.callbacks_open, row.callbacks_due, row.callbacks_overdue) == (3, 1, 1)


def test_the_target_is_judged_on_today_and_the_last_half_hour() -> None:
    good = Figures(offered=5, answered=5, answered_in_sl=4)  # exactly 80 %: on target
    bad = Figures(offered=5, answered=5, answered_in_sl=3)  # 60 %
    assert not queue_row(_queue(good, good), NOW).below_target
    assert queue_row(_queue(good, bad), NOW).below_target
    assert queue_row(_queue(bad, good), NOW).below_target
    quiet = queue_row(_queue(Figures(), Figures()), NOW)  # nothing offered: no service level, nothing below it
    assert (quiet.today.service_level, quiet.today.asa_s, quiet.below_target) == (None, None, False)
    only_short = queue_row(_queue(Figures(offered=1, abandoned=1, short_abandoned=1), Figures()), NOW)
    assert (only_short.today.service_level, only_short.today.abandon_rate) == (None, None)
    assert (quiet.waiting, quiet.longest_wait_s, quiet.oldest_since) == (0, 0.0, None)


def test_agents_are_listed_by_state_then_name_with_their_time_in_state() -> None:
    agents = [
        AgentIn(1, "Zofia", AgentState.OFFLINE, "", None),
        AgentIn(2, "adam", AgentState.BREAK, "Lunch", NOW - timedelta(minutes=12, seconds=5)),
        AgentIn(3, "Bea", AgentState.AVAILABLE, "", NOW - timedelta(seconds=42)),
        AgentIn(4, "Ada", AgentState.AVAILABLE, "", NOW + timedelta(seconds=1)),  # a clock a second ahead
        AgentIn(5, "Cyd", AgentState.BUSY, "", NOW - timedelta(hours=1, minutes=2)),
    ]
    board = compose(1, 99, Moment(NOW, NOW - timedelta(hours=10), NOW - timedelta(minutes=30)), [], agents,
                    NO_CALLBACKS, [])  # fmt: skip
    assert [a.name for a in board.agents] == ["Ada", "Bea", "Cyd", "adam", "Zofia"]
    assert [a.in_state_s for a in board.agents] == [0.0, 42.0, 3720.0, 725.0, None]
    assert board.agents[3].reason == "Lunch"
    assert board.agent_counts == {"available": 2, "reserved": 0, "busy": 1, "wrapup": 0, "break": 1, "offline": 1}
    assert list(board.agent_counts) == ["available", "reserved", "busy", "wrapup", "break", "offline"]
    assert (board.seq, board.tenant_id, board.at) == (99, 1, NOW)


def _campaign(**changes: object) -> CampaignIn:
    base: dict[str, object] = dict(
        id=4, name="Renewals", mode="predictive", status="running", queue="Sales",
        contacts={"pending": 120, "calling": 3, "done": 40, "closed": 2}, dials=45, window_min=15, in_progress=6,
        staffed=4, answer_rate=0.21666, abandoned_today=2, answered_today=50, abandon_cap=0.03,
    )  # fmt: skip
    return CampaignIn(**(base | changes))  # type: ignore[arg-type]


def test_campaign_pacing_and_abandons() -> None:
    row = campaign_row(_campaign())
    assert row.contacts_left == 123  # pending and being called
    assert row.dials_per_min == 3.0  # 45 in 15 minutes
    assert row.lines_per_agent == 1.5  # 6 calls under way, 4 agents ready
    assert row.answer_rate == 0.2167
    assert (row.abandon_rate_today, row.over_cap) == (0.04, True)  # 2 of 50 answered, above 3 %
    calm = campaign_row(_campaign(abandoned_today=1, staffed=0, answered_today=0, mode="progressive", answer_rate=None))
    assert (calm.abandon_rate_today, calm.over_cap, calm.lines_per_agent, calm.answer_rate) == (None, False, None, None)
    at_cap = campaign_row(_campaign(abandoned_today=3, answered_today=100))
    assert (at_cap.abandon_rate_today, at_cap.over_cap) == (0.03, False)  # the cap itself is allowed


def test_the_board_lists_queues_and_campaigns_by_name() -> None:
    queues = [QueueIn(2, "technical", 0.8, 0, None, Figures(), Figures()),
              QueueIn(1, "Billing", 0.8, 0, None, Figures(), Figures())]  # fmt: skip
    board = compose(1, 0, Moment(NOW, NOW, NOW), queues, [], NO_CALLBACKS,
                    [_campaign(id=9, name="b"), _campaign(id=8, name="A")])  # fmt: skip
    assert [q.name for q in board.queues] == ["Billing", "technical"]
    assert [c.id for c in board.campaigns] == [8, 9]
    assert board.model_dump(mode="json")["queues"][0]["today"]["service_level"] is None


def test_the_state_clock_learns_from_changes_only() -> None:
    clock = StateClock()
    t1, t2, t3 = NOW, NOW + timedelta(seconds=30), NOW + timedelta(seconds=90)
    clock.observe(1, AgentState.AVAILABLE, t1)  # first seen, not as a change: since when is not known
    assert clock.since(1, AgentState.AVAILABLE) is None
    clock.observe(1, AgentState.RESERVED, t2)
    assert clock.since(1, AgentState.RESERVED) == t2
    clock.observe(1, AgentState.RESERVED, t3)  # still offered: the time does not move
    assert clock.since(1, AgentState.RESERVED) == t2
    assert clock.since(1, AgentState.BUSY) is None  # asked about another state than it knows
    clock.observe(2, AgentState.BREAK, t1, changed=True)  # first seen as the change itself
    assert clock.since(2, AgentState.BREAK) == t1
    clock.forget(2)
    assert clock.since(2, AgentState.BREAK) is None
