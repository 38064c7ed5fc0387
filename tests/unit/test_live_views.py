"""The routing views that events carry and snapshots hold: random engine operations, every event published through
``views.publish`` on a bus that checks each one against its schema, and after each operation a client copy
(``Replica``) that started from a snapshot equals a fresh snapshot; the snapshot's derived fields (positions, waiting
counts, agents by state) equal what the engine itself answers."""

from __future__ import annotations

import dataclasses
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule
from tests.unit.test_routing_properties import AGENTS, QUEUES, RoutingMachine

from infolinia import event_types
from infolinia.events import Event as BusEvent
from infolinia.events import EventBus
from infolinia.routing import AgentSpec, Channel, Engine, Presence, QueueSpec, TaskSpec, views
from infolinia.routing.model import Event
from infolinia.routing.replica import Replica

TENANTS = (1, 2)


def tenant_of(engine: Engine, ev: Event) -> int | None:
    if ev.queue is not None:
        return engine.queues[ev.queue].spec.tenant_id
    return AGENTS[ev.agent][0] if ev.agent is not None else None  # also for an agent taken out of the engine


def comparable(snapshot: views.Snapshot) -> dict[str, Any]:
    return snapshot.model_dump(exclude={"seq"})


class LiveViews(RoutingMachine):
    """The engine's own property machine (its rules and invariants), with every event published and applied."""

    def __init__(self) -> None:
        super().__init__()
        self.bus = EventBus(event_types.validate)
        self.log: list[dict[str, Any]] = []
        self.replicas: list[Replica] = []

    def _snapshot(self, tenant: int) -> views.Snapshot:
        return views.snapshot(self.e, tenant, self.bus.last_seq)

    def _publish(self) -> None:
        with self.bus.subscribe() as sub:
            views.publish(self.bus, self.e, self.e.drain(), lambda ev: tenant_of(self.e, ev))
            while not sub.queue.empty():
                self.log.append(sub.queue.get_nowait().as_dict())

    def _run(self, op: Any, *args: Any) -> None:
        if not self.replicas:  # the first clients connect once the queues and agents are set up
            self.replicas = [Replica(self._snapshot(t)) for t in TENANTS]
        op(*args)
        self.new_events = list(self.e.events)
        self._publish()
        for replica in self.replicas:
            for event in self.log:  # the whole log every time: events a copy already has must change nothing
                replica.apply(event)

    @rule(queue=st.sampled_from(QUEUES), aging=st.none() | st.sampled_from([10.0, 45.0]), name=st.sampled_from("ab"))
    def change_queue(self, queue: QueueSpec, aging: float | None, name: str) -> None:
        """A queue's settings change: every waiting task of it may move (aging re-orders the line)."""
        self._run(self.e.set_queue, dataclasses.replace(queue, aging_s=aging, name=name), self.now)

    @rule(agent=st.sampled_from(sorted(AGENTS)), data=st.data())
    def change_agent(self, agent: int, data: st.DataObject) -> None:
        """An agent joins or leaves queues (of its own tenant)."""
        a = self.e.agents[agent]
        own = sorted(q.id for q in QUEUES if q.tenant_id == a.tenant_id)
        queues = data.draw(st.sets(st.sampled_from(own)))
        self._run(self.e.set_agent, dataclasses.replace(a.spec, queues=frozenset(queues)), self.now)

    @rule(dt=st.floats(0.5, 120))
    def wait(self, dt: float) -> None:
        self.now += dt
        self._run(self.e.tick, self.now)

    @rule(tenant=st.sampled_from(TENANTS))
    def a_client_joins(self, tenant: int) -> None:
        """Subscribed, then fetched the snapshot: it starts from it and skips what the snapshot includes."""
        self._run(lambda: None)
        self.replicas.append(Replica(self._snapshot(tenant).model_dump(mode="json")))

    # --- invariants -------------------------------------------------------------------------------------------

    @invariant()
    def every_copy_equals_a_fresh_snapshot(self) -> None:
        for replica in self.replicas:
            assert comparable(replica.snapshot()) == comparable(self._snapshot(replica.tenant_id))

    @invariant()
    def the_snapshot_agrees_with_the_engine(self) -> None:
        for tenant in TENANTS:
            snap = self._snapshot(tenant)
            assert {t.id for t in snap.tasks} == {t.id for t in self.e.tasks.values() if t.tenant_id == tenant}
            for t in snap.tasks:
                assert t.position == self.e.position(t.id)
                assert t.state == self.e.task_state(t.id).value and t.agent == self.e.task_agent(t.id)
            for a in snap.agents:
                assert a.state is self.e.agent_state(a.id)
            for q in snap.queues:
                stats = self.e.queue_stats(q.id, self.now)
                assert (q.waiting, q.agents, q.offered) == (stats["waiting"], stats["agents"], stats["offered"])
                assert (q.answered, q.abandoned) == (stats["answered"], stats["abandoned"])
            assert not self.e.events, "reading the statistics changed the engine"

    @invariant()
    def events_name_the_agent_whose_state_they_change(self) -> None:
        """Every agent whose view an event carries is the agent the event names, so an agent's own stream shows
        every change of its state (an abandoned offer included)."""
        for event in self.log:
            data = event["data"]
            assert all(a["id"] == data["agent"] for a in data["after"]["agents"])


LiveViews.TestCase.settings = settings(
    max_examples=150, stateful_step_count=50, deadline=None, suppress_health_check=list(HealthCheck)
)
test_live_views = LiveViews.TestCase


def test_a_bus_with_a_check_refuses_an_event_without_a_schema() -> None:
    bus = EventBus(event_types.validate)
    try:
        bus.publish(BusEvent("customer.teleported", 1, {"id": 1}))
    except event_types.InvalidEvent as exc:
        assert "has no schema" in str(exc)
    else:
        raise AssertionError("published an event without a schema")
    try:
        bus.publish(BusEvent("customer.created", 1, {"id": 1, "secret": "x"}))
    except event_types.InvalidEvent as exc:
        assert "does not match" in str(exc)
    else:
        raise AssertionError("published an event with an unknown field")
    assert bus.last_seq == 0


def test_an_offer_cancelled_under_an_agent_frees_the_agent_in_every_copy() -> None:
    """The engine's own event for it names no agent: the published one names the agent that held the offer."""
    engine, bus = Engine(), EventBus(event_types.validate)
    engine.set_queue(QueueSpec(1, 1), 0)
    engine.set_agent(AgentSpec(7, 1, queues=frozenset({1})), 0)
    views.publish(bus, engine, engine.drain(), lambda ev: 1)
    replica = Replica(views.snapshot(engine, 1, bus.last_seq))
    with bus.subscribe() as sub:
        engine.set_presence(7, Presence.READY, 1)
        engine.add_task(TaskSpec(1, 1, 1, Channel.EMAIL, 1), 1)
        engine.cancel_task(1, 2)
        views.publish(bus, engine, engine.drain(), lambda ev: 1)
        published = [sub.queue.get_nowait().as_dict() for _ in range(sub.queue.qsize())]
    abandoned = next(e for e in published if e["type"] == "routing.task_abandoned")
    assert abandoned["data"]["agent"] == 7 and abandoned["data"]["after"]["agents"][0]["state"] == "available"
    for event in published:
        replica.apply(event)
    assert replica.snapshot().agents[0].state == "available"
    assert comparable(replica.snapshot()) == comparable(views.snapshot(engine, 1, bus.last_seq))
