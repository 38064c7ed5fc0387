"""The routing engine, scenario by scenario, under a fake clock (times are plain seconds)."""

from __future__ import annotations

import pytest

from infolinia.routing import (
    AgentSpec,
    AgentState,
    Channel,
    Engine,
    OverflowStep,
    Presence,
    QueueSpec,
    RoutingError,
    Strategy,
    TaskSpec,
    TaskState,
)

V, CH, EM = Channel.VOICE, Channel.CHAT, Channel.EMAIL


def engine(*queues: QueueSpec) -> Engine:
    e = Engine()
    for q in queues or (QueueSpec(1, tenant_id=1),):
        e.set_queue(q, 0)
    return e


def agent(e: Engine, aid: int, now: float = 0, *, tenant: int = 1, queues: tuple[int, ...] = (1,),
          skills: dict[str, int] | None = None, langs: tuple[str, ...] = ("pl",), ready: bool = True,
          **extra: object) -> None:  # fmt: skip
    e.set_agent(AgentSpec(aid, tenant, skills or {}, frozenset(langs), frozenset(queues), **extra), now)  # type: ignore[arg-type]
    if ready:
        e.set_presence(aid, Presence.READY, now)


def task(
    e: Engine, tid: int, now: float, *, queue: int = 1, tenant: int = 1, channel: Channel = V,
    skills: dict[str, int] | None = None, lang: str | None = None, priority: int = 0, **extra: object,
) -> None:  # fmt: skip
    e.add_task(TaskSpec(tid, tenant, queue, channel, now, skills or {}, lang, priority, **extra), now)  # type: ignore[arg-type]


def offers(e: Engine) -> list[tuple[int | None, int | None]]:
    return [(ev.task, ev.agent) for ev in e.drain() if ev.kind == "offer"]


def serve(e: Engine, tid: int, now: float) -> None:
    e.accept(tid, now)
    e.complete(tid, now)


def test_priority_then_first_come_first_served() -> None:
    e = engine()
    task(e, 1, 0)
    task(e, 2, 1, priority=1)
    task(e, 3, 2)
    agent(e, 7, 3)
    assert offers(e) == [(2, 7)]
    serve(e, 2, 4)
    assert offers(e) == [(1, 7)]
    serve(e, 1, 5)
    assert offers(e) == [(3, 7)]


def test_aging_inside_a_queue_is_a_fixed_exchange_rate() -> None:
    e = engine(QueueSpec(1, 1, aging_s=10))
    task(e, 1, 0)  # priority 0, arrived at 0
    task(e, 2, 5, priority=1)  # one point is worth 10 s: it counts as arrived at -5 -> ahead of task 1
    task(e, 3, 15, priority=1)  # counts as arrived at 5 -> behind task 1
    assert [e.position(t) for t in (2, 1, 3)] == [0, 1, 2]


def test_aging_across_queues_fires_at_the_right_moment() -> None:
    e = engine(QueueSpec(1, 1), QueueSpec(2, 1, aging_s=10))
    task(e, 1, 0, queue=1, priority=1)
    task(e, 2, 0, queue=2, priority=0)  # gains one point per 10 s waited
    e.set_agent(AgentSpec(7, 1, queues=frozenset({1, 2})), 0)
    e.set_presence(7, Presence.READY, 9.9)  # 0.99 < 1: queue 1 first
    assert offers(e) == [(1, 7)]
    e.decline(1, 10)
    e.drain()
    e.set_presence(7, Presence.READY, 10.1)  # 1.01 > 1 (task 1 was declined by 7 anyway: check task 2 wins)
    assert offers(e) == [(2, 7)]

    e = engine(QueueSpec(1, 1), QueueSpec(2, 1, aging_s=10))
    task(e, 1, 0, queue=1, priority=1)
    task(e, 2, 0, queue=2, priority=0)
    e.set_agent(AgentSpec(7, 1, queues=frozenset({1, 2})), 0)
    e.set_presence(7, Presence.READY, 10.5)
    assert offers(e) == [(2, 7)]


def test_skills_and_language_are_required() -> None:
    e = engine()
    agent(e, 1, skills={"billing": 4}, langs=("pl",))
    agent(e, 2, skills={"billing": 8}, langs=("ru", "en"))
    task(e, 1, 1, skills={"billing": 5}, lang="pl")  # nobody: agent 1 too weak, agent 2 no Polish
    assert offers(e) == []
    task(e, 2, 2, skills={"billing": 5}, lang="ru")
    assert offers(e) == [(2, 2)]
    agent(e, 3, 3, skills={"billing": 5}, langs=("pl",))
    assert offers(e) == [(1, 3)]


def test_chat_capacity_and_voice_exclusivity() -> None:
    e = engine()
    agent(e, 1)
    for i in range(1, 5):
        task(e, i, i, channel=CH)
        for tid, _ in offers(e):
            assert tid is not None
            e.accept(tid, i)
    assert e.task_state(4) is TaskState.WAITING  # capacity 3 chats
    task(e, 10, 5, channel=V)
    assert offers(e) == []  # a voice call needs an agent with nothing else
    e.complete(1, 6)  # the 4th chat now fits
    assert offers(e) == [(4, 1)]
    for tid in (2, 3):
        e.complete(tid, 7)
    e.accept(4, 8)
    e.complete(4, 9)
    assert offers(e) == [(10, 1)]
    e.accept(10, 10)
    task(e, 11, 11, channel=CH)
    assert offers(e) == []  # on a call: no chats
    assert e.agent_state(1) is AgentState.BUSY


def test_tenants_never_mix() -> None:
    e = engine(QueueSpec(1, tenant_id=1), QueueSpec(2, tenant_id=2))
    with pytest.raises(RoutingError):
        agent(e, 1, tenant=2, queues=(1,))
    with pytest.raises(RoutingError):
        task(e, 1, 0, queue=1, tenant=2)
    agent(e, 1, tenant=2, queues=(2,))
    task(e, 2, 1, queue=1, tenant=1)
    assert offers(e) == []
    task(e, 3, 1, queue=2, tenant=2, preferred_agent=1)
    assert offers(e) == [(3, 1)]


def test_offer_timeout_returns_the_task_to_its_place_and_the_agent_to_not_ready() -> None:
    e = engine(QueueSpec(1, 1, offer_timeout_s=15))
    agent(e, 1)
    task(e, 1, 0)
    task(e, 2, 1)
    assert offers(e) == [(1, 1)]
    assert e.position(2) == 0
    e.tick(14.9)
    assert e.task_state(1) is TaskState.RESERVED
    e.tick(15)
    assert e.task_state(1) is TaskState.WAITING
    assert [e.position(1), e.position(2)] == [0, 1]  # back in front of the newer task
    assert e.agent_state(1) is AgentState.BREAK
    kinds = [ev.kind for ev in e.drain()]
    assert kinds == ["offer_returned", "agent_state"]
    agent(e, 2, 20)
    assert offers(e) == [(1, 2)]


def test_decline_goes_to_someone_else_and_never_back_to_the_same_agent() -> None:
    e = engine(QueueSpec(1, 1, missed_offer_presence=Presence.READY))
    agent(e, 1, 0)
    agent(e, 2, 1)
    task(e, 1, 2)
    assert offers(e) == [(1, 1)]  # longest idle first
    e.decline(1, 3)
    assert offers(e) == [(1, 2)]
    e.decline(1, 4)
    assert offers(e) == []
    assert e.agent_state(1) is AgentState.AVAILABLE
    task(e, 2, 5)
    assert offers(e) == [(2, 1)]


def test_preferred_agent_then_fallback_to_the_team() -> None:
    e = engine()
    agent(e, 1)
    agent(e, 2, ready=False)
    task(e, 1, 0, channel=Channel.CALLBACK, preferred_agent=2, preferred_until=100)
    assert offers(e) == []  # agent 1 is free but the customer was promised agent 2
    e.tick(99)
    assert e.task_state(1) is TaskState.WAITING
    e.tick(100)
    assert offers(e) == [(1, 1)]

    e = engine()
    agent(e, 1)
    agent(e, 2, ready=False)
    task(e, 1, 0, channel=Channel.CALLBACK, preferred_agent=2, preferred_until=100)
    e.set_presence(2, Presence.READY, 50)
    assert offers(e) == [(1, 2)]


def test_overflow_widens_skills_then_moves_queue() -> None:
    steps = (OverflowStep(30, levels={"billing": 0}), OverflowStep(60, to_queue=2))
    e = engine(QueueSpec(2, 1), QueueSpec(1, 1, overflow=steps))
    agent(e, 1, queues=(1,), skills={}, ready=True)
    agent(e, 2, queues=(2,), ready=False)
    task(e, 1, 0, skills={"billing": 5})
    e.set_presence(1, Presence.BREAK, 1)
    e.drain()
    e.tick(29.9)
    assert e.drain() == []
    e.tick(30)
    assert [ev.kind for ev in e.drain()] == ["overflow"]  # widened, but nobody ready in queue 1
    e.set_presence(2, Presence.READY, 40)
    assert offers(e) == []  # agent 2 serves queue 2 only
    e.tick(60)
    events = e.drain()
    assert [ev.kind for ev in events] == ["overflow", "offer"] and events[1].agent == 2
    assert events[0].data["from_queue"] == 1 and events[0].queue == 2


def test_maximum_wait_exits_with_the_queue_action() -> None:
    e = engine(QueueSpec(1, 1, max_wait_s=300, max_wait_action="voicemail"))
    task(e, 1, 0)
    e.tick(299)
    assert e.task_state(1) is TaskState.WAITING
    e.tick(301)
    exits = [ev for ev in e.drain() if ev.kind == "task_exited"]
    assert len(exits) == 1 and exits[0].at == 300 and exits[0].data["action"] == "voicemail"
    assert e.task_state(1) is TaskState.DONE


def test_closed_queue_turns_calls_away_but_keeps_emails() -> None:
    e = engine(QueueSpec(1, 1, is_open=lambda t: 8 * 3600 <= t % 86400 < 20 * 3600, closed_action="closed-message"))
    task(e, 1, 21 * 3600, channel=V)
    task(e, 2, 21 * 3600, channel=EM)
    assert e.task_state(1) is TaskState.DONE and e.task_state(2) is TaskState.WAITING
    agent(e, 1, 86400 + 8 * 3600)
    assert offers(e) == [(2, 1)]


def test_scheduled_callback_enters_at_its_time() -> None:
    e = engine()
    agent(e, 1)
    task(e, 1, 0, channel=Channel.CALLBACK, not_before=18 * 3600)
    assert e.task_state(1) is TaskState.SCHEDULED and e.position(1) is None
    e.tick(18 * 3600 - 1)
    assert offers(e) == []
    e.tick(18 * 3600)
    assert offers(e) == [(1, 1)]


def test_estimated_wait_grows_with_position() -> None:
    e = engine(QueueSpec(1, 1, default_handle_s=120))
    agent(e, 1, ready=False)
    agent(e, 2, ready=False)
    for i in range(5):
        task(e, i, i)
    e.set_presence(1, Presence.BREAK, 6)
    e.set_presence(2, Presence.BREAK, 6)
    waits = [e.estimated_wait(i) for i in range(5)]
    assert waits == [60.0, 120.0, 180.0, 240.0, 300.0]  # (position + 1) x 120 s / 2 agents logged in


def test_wrapup_after_a_call() -> None:
    e = engine(QueueSpec(1, 1, wrapup_s=30))
    agent(e, 1)
    task(e, 1, 0)
    task(e, 2, 1)
    serve(e, 1, 10)
    assert e.agent_state(1) is AgentState.WRAPUP
    assert offers(e) == [(1, 1)]
    e.tick(39)
    assert offers(e) == []
    e.tick(40)
    assert offers(e) == [(2, 1)]


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        (Strategy.LONGEST_IDLE, 1),
        (Strategy.MOST_SKILLED, 3),
        (Strategy.LEAST_OCCUPIED, 2),
        (Strategy.ROUND_ROBIN, 2),
    ],
)
def test_agent_selection_strategies(strategy: Strategy, expected: int) -> None:
    e = engine(QueueSpec(1, 1, strategy=strategy))
    agent(e, 1, 0, skills={"x": 2})
    agent(e, 2, 1, skills={"x": 3})
    agent(e, 3, 2, skills={"x": 9})
    task(e, 100, 3, channel=CH, skills={"x": 1})  # goes to someone; make agents 1 and 3 busier afterwards
    first = offers(e)[0][1]
    assert first == {Strategy.LONGEST_IDLE: 1, Strategy.MOST_SKILLED: 3, Strategy.LEAST_OCCUPIED: 1,
                     Strategy.ROUND_ROBIN: 1}[strategy]  # fmt: skip
    e.accept(100, 4)
    if strategy is Strategy.LEAST_OCCUPIED:  # agent 1 has a chat now; 2 and 3 are empty, 2 idle longer
        task(e, 101, 5, channel=CH, skills={"x": 1})
        assert offers(e)[0][1] == expected
        return
    if strategy is Strategy.ROUND_ROBIN:
        task(e, 101, 5, channel=CH, skills={"x": 1})
        assert offers(e)[0][1] == expected
        return
    assert first == expected


def test_statistics() -> None:
    e = engine(QueueSpec(1, 1, sl_seconds=20, short_abandon_s=5, offer_timeout_s=100))
    task(e, 1, 0)
    task(e, 2, 0)
    task(e, 3, 0)
    task(e, 4, 0)
    e.cancel_task(3, 2)  # short abandon: not counted against the service level
    agent(e, 1, 10)
    serve(e, 1, 10)  # answered after 10 s; task 2 is offered next
    e.cancel_task(4, 40)
    e.accept(2, 50)  # answered after 50 s
    s = e.queue_stats(1, 60)
    assert (s["offered"], s["answered"], s["abandoned"], s["waiting"]) == (4, 2, 2, 0)
    assert s["service_level"] == pytest.approx(1 / 3)  # 1 in 20 s of (2 answered + 1 long abandon)
    assert s["asa_s"] == 30
    assert s["agents"]["busy"] == 1


def test_a_contact_that_asks_for_a_callback_is_not_abandoned() -> None:
    e = engine(QueueSpec(1, 1, sl_seconds=20, short_abandon_s=5))
    task(e, 1, 0)
    task(e, 2, 0)
    e.drain()
    e.cancel_task(1, 60, reason="callback")  # waited a minute, then pressed 1 for a callback
    [event] = [ev for ev in e.drain() if ev.task == 1]
    assert (event.kind, event.data["action"], event.data["wait"]) == ("task_exited", "callback", 60)
    s = e.queue_stats(1, 61)
    assert (s["abandoned"], s["to_callback"], s["waiting"], s["service_level_30m"]) == (0, 1, 1, None)
    e.cancel_task(2, 62)
    assert e.queue_stats(1, 63)["abandoned"] == 1


def test_time_never_goes_back_and_unknown_ids_are_errors() -> None:
    e = engine()
    e.tick(10)
    with pytest.raises(RoutingError):
        e.tick(9)
    with pytest.raises(RoutingError):
        e.accept(99, 10)
    with pytest.raises(RoutingError):
        e.set_presence(99, Presence.READY, 10)
    task(e, 1, 10)
    with pytest.raises(RoutingError):
        task(e, 1, 10)
    agent(e, 1, 11)
    e.accept(1, 11)
    with pytest.raises(RoutingError):
        e.set_presence(1, Presence.OFFLINE, 12)  # has a call


def test_a_preferred_agent_without_the_skill_does_not_get_it() -> None:
    e = engine()
    agent(e, 1, skills={"billing": 5})
    agent(e, 2, skills={})
    task(e, 1, 0, skills={"billing": 3}, preferred_agent=2, preferred_until=60)
    e.set_presence(2, Presence.BREAK, 1)
    e.set_presence(2, Presence.READY, 2)
    assert offers(e) == []
    e.tick(60)
    assert offers(e) == [(1, 1)]


def test_widening_only_relaxes() -> None:
    from infolinia.routing import Requirement

    req = Requirement.of(V, {"billing": 5}, "pl")
    assert req.widened({"billing": 2, "tech": 1}, False) == Requirement.of(V, {"billing": 2}, "pl")
    assert req.widened({"billing": 9}, True) == Requirement.of(V, {"billing": 5}, None)
    assert req.widened({"billing": 0}, False) == Requirement.of(V, {}, "pl")


def test_changing_a_queue_keeps_its_waiting_tasks_and_applies_the_new_rules() -> None:
    e = engine()
    task(e, 1, 0)
    task(e, 2, 10, priority=1)
    assert [e.position(1), e.position(2)] == [1, 0]
    e.set_queue(QueueSpec(1, 1, aging_s=5), 20)  # one point is now worth 5 s: task 1 (10 s older) goes first
    assert [e.position(1), e.position(2)] == [0, 1]
    with pytest.raises(RoutingError):
        e.set_queue(QueueSpec(1, tenant_id=2), 21)
