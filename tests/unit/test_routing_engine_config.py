"""The engine's configuration calls for a running engine: queue rules changed while tasks wait, tasks restored on
their agent after a restart, an agent taken out (deactivated) with work in hand."""

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
    TaskSpec,
    TaskState,
)

V, CH, EM = Channel.VOICE, Channel.CHAT, Channel.EMAIL


def engine(*queues: QueueSpec) -> Engine:
    e = Engine()
    for q in queues or (QueueSpec(1, 1), QueueSpec(2, 1)):
        e.set_queue(q, 0)
    return e


def ready(e: Engine, aid: int, now: float, queues: tuple[int, ...] = (1,), **extra: object) -> None:
    e.set_agent(AgentSpec(aid, 1, queues=frozenset(queues), **extra), now)  # type: ignore[arg-type]
    e.set_presence(aid, Presence.READY, now)


def task(e: Engine, tid: int, now: float, queue: int = 1, channel: Channel = EM, **extra: object) -> None:
    e.add_task(TaskSpec(tid, 1, queue, channel, now, **extra), now)  # type: ignore[arg-type]


def kinds(e: Engine) -> list[tuple[str, int | None, int | None, float]]:
    return [(ev.kind, ev.task, ev.agent, ev.at) for ev in e.drain() if ev.kind != "agent_state"]


# --- update_queue -----------------------------------------------------------------------------------------------


def test_new_overflow_steps_reach_tasks_already_waiting() -> None:
    e = engine()
    ready(e, 7, 0, queues=(2,))
    task(e, 1, 0)
    e.update_queue(QueueSpec(1, 1, overflow=(OverflowStep(30, to_queue=2),)), 10)
    e.tick(29.9)
    assert e.tasks[1].queue_id == 1
    e.drain()
    e.tick(30)
    assert kinds(e) == [("overflow", 1, None, 30), ("offer", 1, 7, 30)]


def test_a_step_already_due_fires_now_not_in_the_past() -> None:
    e = engine()
    ready(e, 7, 0, queues=(2,))
    task(e, 1, 0)
    e.drain()
    e.update_queue(QueueSpec(1, 1, offer_timeout_s=15, overflow=(OverflowStep(30, to_queue=2),)), 100)
    assert kinds(e) == [("queue_updated", None, None, 100), ("overflow", 1, None, 100), ("offer", 1, 7, 100)]
    assert e.task_state(1) is TaskState.RESERVED  # the offer runs from now: it has not timed out already


def test_fewer_steps_replace_the_old_timers() -> None:
    steps = (OverflowStep(10, any_language=True), OverflowStep(20, to_queue=2))
    e = engine(QueueSpec(2, 1), QueueSpec(1, 1, overflow=steps))
    task(e, 1, 0, language="pl")
    e.update_queue(QueueSpec(1, 1, overflow=(OverflowStep(50, to_queue=2),)), 5)
    e.tick(49)  # the old steps at 10 and 20 must neither fire nor index the shorter list
    assert e.tasks[1].queue_id == 1 and e.tasks[1].req.language == "pl"
    e.tick(50)
    assert e.tasks[1].queue_id == 2 and e.tasks[1].req.language == "pl"


def test_unchanged_overflow_does_not_fire_again() -> None:
    e = engine(QueueSpec(2, 1), QueueSpec(1, 1, overflow=(OverflowStep(10, to_queue=2),)))
    task(e, 1, 0)
    e.tick(20)
    e.drain()
    e.update_queue(QueueSpec(1, 1, name="renamed", overflow=(OverflowStep(10, to_queue=2),)), 30)
    assert [k for k, *_ in kinds(e)] == ["queue_updated"]


def test_maximum_wait_follows_the_new_rule() -> None:
    e = engine(QueueSpec(1, 1, max_wait_s=60), QueueSpec(2, 1))
    task(e, 1, 0)
    task(e, 2, 0, queue=2)
    e.update_queue(QueueSpec(1, 1, max_wait_s=None), 10)
    e.update_queue(QueueSpec(2, 1, max_wait_s=30, max_wait_action="callback"), 40)  # 30 s was already over
    assert e.task_state(2) is TaskState.DONE
    exited = [ev for ev in e.drain() if ev.kind == "task_exited"]
    assert [(ev.task, ev.at, ev.data["action"]) for ev in exited] == [(2, 40, "callback")]
    e.tick(1000)
    assert e.task_state(1) is TaskState.WAITING


def test_update_queue_of_an_unknown_queue_sets_it() -> None:
    e = engine()
    e.update_queue(QueueSpec(3, 1), 1)
    task(e, 1, 1, queue=3)
    assert e.position(1) == 0


# --- restore_assigned -------------------------------------------------------------------------------------------


def test_a_restored_task_takes_room_and_counts_nothing_again() -> None:
    e = engine()
    ready(e, 7, 100, capacity={CH: 1})
    e.restore_assigned(TaskSpec(1, 1, 1, CH, 0), 7, accepted_at=50, now=100)
    assert e.task_state(1) is TaskState.ASSIGNED and e.task_agent(1) == 7
    assert e.agent_state(7) is AgentState.BUSY
    task(e, 2, 101, channel=CH)
    assert e.task_state(2) is TaskState.WAITING  # its one chat is taken
    stats = e.queue_stats(1, 101)
    assert (stats["offered"], stats["answered"], stats["waiting"]) == (1, 0, 1)  # only task 2
    e.complete(1, 150)
    assert e.task_state(2) is TaskState.RESERVED and e.task_agent(2) == 7
    assert e.queues[1].aht == pytest.approx(180 + (100 - 180) * 0.1)  # handled from 50 to 150


def test_restore_assigned_refuses_what_does_not_fit() -> None:
    e = engine()
    ready(e, 7, 0)
    e.set_agent(AgentSpec(8, 2), 0)
    e.restore_assigned(TaskSpec(1, 1, 1, EM, 0), 7, 0, 1)
    with pytest.raises(RoutingError):
        e.restore_assigned(TaskSpec(1, 1, 1, EM, 0), 7, 0, 1)  # already in
    with pytest.raises(RoutingError):
        e.restore_assigned(TaskSpec(2, 1, 1, EM, 0), 8, 0, 1)  # another tenant's agent
    with pytest.raises(RoutingError):
        e.restore_assigned(TaskSpec(3, 1, 1, EM, 0), 9, 0, 1)  # no such agent
    with pytest.raises(RoutingError):
        e.restore_assigned(TaskSpec(4, 1, 5, EM, 0), 7, 0, 1)  # no such queue


def test_a_restored_call_keeps_a_voice_exclusive_agent_from_chats() -> None:
    e = engine()
    ready(e, 7, 0)
    e.restore_assigned(TaskSpec(1, 1, 1, V, 0), 7, 0, 1)
    task(e, 2, 2, channel=CH)
    assert e.task_state(2) is TaskState.WAITING


# --- remove_agent -----------------------------------------------------------------------------------------------


def test_a_removed_agent_gives_back_everything_it_held() -> None:
    e = engine()
    ready(e, 7, 0, capacity={EM: 2})
    task(e, 1, 1)
    e.accept(1, 2)
    task(e, 2, 3)
    e.accept(2, 4)  # two e-mails assigned to 7
    task(e, 3, 5)  # 7 has no room left (two e-mails): it waits
    assert e.task_state(3) is TaskState.WAITING
    task(e, 4, 6, preferred_agent=7)  # waits for 7 only
    e.drain()
    e.remove_agent(7, 10, "deactivated")
    assert 7 not in e.agents
    with pytest.raises(RoutingError):
        e.agent_state(7)
    assert [e.position(t) for t in (1, 2, 3, 4)] == [0, 1, 2, 3]  # their original places
    assert ("task_requeued", 1, 7, 10) in kinds(e)
    ready(e, 8, 11, capacity={EM: 4})
    assert [ev.task for ev in e.drain() if ev.kind == "offer"] == [1]
    for t in (1, 2, 3):
        e.accept(t, 12)
    assert e.task_agent(4) == 8  # no longer waiting for 7


def test_removing_an_agent_returns_its_offer_to_the_next_agent() -> None:
    e = engine()
    ready(e, 7, 0)
    ready(e, 8, 1)
    task(e, 1, 2)
    assert e.task_agent(1) == 7  # idle longer
    e.drain()
    e.remove_agent(7, 3)
    events = kinds(e)
    assert ("offer_returned", 1, 7, 3) in events and ("offer", 1, 8, 3) in events
    assert e.queue_stats(1, 3)["agents"]["reserved"] == 1  # agent 8; 7 is no longer a member


def test_a_task_arriving_for_a_removed_preferred_agent_goes_to_anyone() -> None:
    e = engine()
    ready(e, 7, 0)
    ready(e, 8, 0)
    e.remove_agent(7, 1)
    task(e, 1, 2, preferred_agent=7)
    assert e.task_agent(1) == 8


def test_an_agent_removed_in_wrapup_does_not_come_back_when_it_ends() -> None:
    e = engine(QueueSpec(1, 1, wrapup_s=30))
    ready(e, 7, 0)
    task(e, 1, 1, channel=V)
    e.accept(1, 2)
    e.complete(1, 3)
    e.remove_agent(7, 4)
    e.tick(100)  # the wrap-up timer finds nobody
    assert 7 not in e.agents
    e.set_agent(AgentSpec(7, 1, queues=frozenset({1})), 101)  # reactivated: back, offline until it says ready
    assert e.agent_state(7) is AgentState.OFFLINE
