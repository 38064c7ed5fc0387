"""Property tests of the routing engine: random operations, and after each one the invariants that matter to
customers and agents, checked against a brute-force reading of the whole state."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from infolinia.routing import (
    AgentSpec,
    Channel,
    Engine,
    OverflowStep,
    Presence,
    QueueSpec,
    Strategy,
    TaskSpec,
    TaskState,
)
from infolinia.routing.engine import channels_of
from infolinia.routing.model import EXCLUSIVE

SKILLS = ("billing", "tech", "sales")
LANGS = ("pl", "en", "ru")
QUEUES = (
    QueueSpec(1, 1, strategy=Strategy.LONGEST_IDLE, offer_timeout_s=20),
    QueueSpec(2, 1, strategy=Strategy.MOST_SKILLED, aging_s=30, missed_offer_presence=Presence.READY),
    QueueSpec(3, 1, strategy=Strategy.LEAST_OCCUPIED, wrapup_s=15, max_wait_s=400,
              overflow=(OverflowStep(60, levels={"billing": 1, "tech": 1}), OverflowStep(120, to_queue=1))),
    QueueSpec(4, 2, strategy=Strategy.ROUND_ROBIN, overflow=(OverflowStep(90, any_language=True),)),
)  # fmt: skip
AGENTS = {1: (1, (1, 2, 3)), 2: (1, (1,)), 3: (1, (2, 3)), 4: (1, (3,)), 5: (2, (4,)), 6: (2, (4,))}


class RoutingMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.e = Engine()
        self.now = 0.0
        self.next_id = 1
        self.new_events: list[Any] = []

    @initialize(
        profiles=st.lists(
            st.tuples(st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 10)),
                      st.sets(st.sampled_from(LANGS), min_size=1)),
            min_size=len(AGENTS), max_size=len(AGENTS),
        )
    )  # fmt: skip
    def setup(self, profiles: list[tuple[dict[str, int], set[str]]]) -> None:
        for q in QUEUES:
            self.e.set_queue(q, 0)
        for (aid, (tenant, queues)), (skills, langs) in zip(AGENTS.items(), profiles, strict=True):
            self.e.set_agent(AgentSpec(aid, tenant, skills, frozenset(langs), frozenset(queues)), 0)
        self.e.drain()

    def _run(self, op: Any, *args: Any) -> None:
        op(*args)
        self.new_events = self.e.drain()

    @rule(
        queue=st.sampled_from(QUEUES),
        channel=st.sampled_from(list(Channel)),
        skills=st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 6), max_size=2),
        lang=st.none() | st.sampled_from(LANGS),
        priority=st.integers(0, 3),
        preferred=st.none() | st.sampled_from(sorted(AGENTS)),
        later=st.none() | st.floats(1, 200),
    )
    def add_task(self, queue: QueueSpec, channel: Channel, skills: dict[str, int], lang: str | None, priority: int,
                 preferred: int | None, later: float | None) -> None:  # fmt: skip
        tid, self.next_id = self.next_id, self.next_id + 1
        spec = TaskSpec(
            tid, queue.tenant_id, queue.id, channel, self.now, skills, lang, priority,
            preferred_agent=preferred, preferred_until=None if preferred is None else self.now + 50,
            not_before=None if later is None else self.now + later,
        )  # fmt: skip
        self._run(self.e.add_task, spec, self.now)

    @rule(
        queue=st.sampled_from(QUEUES),
        channel=st.sampled_from(list(Channel)),
        skill=st.sampled_from(SKILLS),
        priorities=st.lists(st.integers(0, 3), min_size=3, max_size=12),
        gaps=st.lists(st.floats(0, 20), min_size=12, max_size=12),
    )
    def add_tasks_of_one_class(self, queue: QueueSpec, channel: Channel, skill: str, priorities: list[int],
                               gaps: list[float]) -> None:  # fmt: skip
        """A burst of tasks with the same requirement and mixed priorities: one class with a long line, where a
        task enters in the middle or before the head, and later leaves from the middle (the one-task-per-class
        tasks of ``add_task`` rarely make such lines)."""
        for priority, gap in zip(priorities, gaps, strict=False):
            self.now += gap
            tid, self.next_id = self.next_id, self.next_id + 1
            spec = TaskSpec(tid, queue.tenant_id, queue.id, channel, self.now, {skill: 1}, None, priority)
            self._run(self.e.add_task, spec, self.now)
            self.indexes_match_the_tasks()

    @rule(agent=st.sampled_from(sorted(AGENTS)), presence=st.sampled_from([Presence.READY, Presence.BREAK,
                                                                         Presence.OFFLINE]))  # fmt: skip
    def presence(self, agent: int, presence: Presence) -> None:
        a = self.e.agents[agent]
        if presence is Presence.OFFLINE and (a.load_total or a.reserved is not None):
            return
        self._run(self.e.set_presence, agent, presence, self.now)

    def _pick(self, data: st.DataObject, state: TaskState) -> int | None:
        ids = sorted(t.id for t in self.e.tasks.values() if t.state is state)
        return data.draw(st.sampled_from(ids)) if ids else None

    @rule(data=st.data())
    def accept(self, data: st.DataObject) -> None:
        if (tid := self._pick(data, TaskState.RESERVED)) is not None:
            self._run(self.e.accept, tid, self.now)

    @rule(data=st.data())
    def decline(self, data: st.DataObject) -> None:
        if (tid := self._pick(data, TaskState.RESERVED)) is not None:
            self._run(self.e.decline, tid, self.now)

    @rule(data=st.data())
    def complete(self, data: st.DataObject) -> None:
        if (tid := self._pick(data, TaskState.ASSIGNED)) is not None:
            self._run(self.e.complete, tid, self.now)

    @rule(data=st.data(), state=st.sampled_from([TaskState.WAITING, TaskState.SCHEDULED, TaskState.RESERVED]))
    def cancel(self, data: st.DataObject, state: TaskState) -> None:
        if (tid := self._pick(data, state)) is not None:
            self._run(self.e.cancel_task, tid, self.now)

    @rule(dt=st.floats(0, 120))
    def wait(self, dt: float) -> None:
        self.now += dt
        self._run(self.e.tick, self.now)

    @rule(agent=st.sampled_from(sorted(AGENTS)))
    def deactivated_and_back(self, agent: int) -> None:
        """The agent's account is deactivated (all it held waits again, offered to others) and later reactivated
        (offline until it chooses to be ready)."""
        spec = self.e.agents[agent].spec
        self._run(self.e.remove_agent, agent, self.now)
        self._run(self.e.set_agent, spec, self.now)

    # --- invariants -------------------------------------------------------------------------------------------

    @invariant()
    def offers_respect_tenant_skills_language_and_capacity(self) -> None:
        for t in self.e.tasks.values():
            if t.state in (TaskState.RESERVED, TaskState.ASSIGNED):
                a = self.e.agents[t.agent]
                assert a.tenant_id == t.tenant_id, "cross-tenant"
                assert t.req.met_by(a.spec.skills, a.spec.languages), "agent lacks skill or language"
        for a in self.e.agents.values():
            loads = {ch: 0 for ch in Channel}
            for t in self.e.tasks.values():
                if t.state is TaskState.ASSIGNED and t.agent == a.id:
                    loads[t.channel] += 1
            assert loads == a.load
            for ch, n in loads.items():
                assert n <= a.spec.capacity.get(ch, 0), "over capacity"
            if any(loads[ch] for ch in EXCLUSIVE):
                assert sum(loads.values()) == 1, "a call and something else at once"
            reserved = [t.id for t in self.e.tasks.values() if t.state is TaskState.RESERVED and t.agent == a.id]
            assert reserved == ([a.reserved] if a.reserved is not None else [])
            if a.reserved is not None:
                assert a.presence is Presence.READY, "offer to an agent who is not available"

    @invariant()
    def no_agent_idles_while_a_task_it_could_take_waits(self) -> None:
        for t in self.e.tasks.values():
            if t.state is not TaskState.WAITING:
                continue
            if t.personal:
                candidates = [self.e.agents[t.spec.preferred_agent]]
            else:
                candidates = list(self.e.queues[t.queue_id].members.values())
            for a in candidates:
                free = a.presence is Presence.READY and a.reserved is None
                could = free and a.can_take(t.channel) and a.qualifies(t.req) and a.id not in t.declined
                assert not could, f"agent {a.id} could take waiting task {t.id}"

    @invariant()
    def a_free_agent_gets_the_most_urgent_task(self) -> None:
        events = self.new_events
        for i, ev in enumerate(events):
            if ev.kind != "offer" or ev.reason != "most urgent task the agent can take":
                continue
            # tasks that (re)entered the waiting line after this decision, in the same operation, were not there
            later = {e.task for e in events[i + 1 :] if e.kind in ("offer_returned", "task_queued", "overflow",
                                                                   "preferred_fallback")}  # fmt: skip
            offered = self.e.tasks.get(ev.task)
            if offered is None or offered.state is TaskState.WAITING:
                continue  # cancelled or returned later in the same operation
            a = self.e.agents[ev.agent]
            best = self.e.queues[offered.queue_id].score(offered, ev.at)
            for t in self.e.tasks.values():
                if t.state is not TaskState.WAITING or t.personal or t.queue_id not in a.spec.queues or t.id in later:
                    continue
                if t.seq > offered.seq and t.enq > ev.at:
                    continue
                if a.can_take(t.channel) and a.qualifies(t.req) and a.id not in t.declined:
                    assert self.e.queues[t.queue_id].score(t, ev.at) <= best, f"task {t.id} was more urgent"

    @invariant()
    def indexes_match_the_tasks(self) -> None:
        self.e._sync()  # the idle lists follow the agents when a task next looks for one
        for q in self.e.queues.values():
            general = sorted(
                (t.key, t.id) for t in self.e.tasks.values()
                if t.state is TaskState.WAITING and not t.personal and t.queue_id == q.spec.id
            )  # fmt: skip
            lines = {req: [(entry[:-1], entry[-1]) for entry in line] for req, line in q.classes.items()}
            assert sorted((key, t.id) for line in lines.values() for key, t in line) == general
            for req, line in lines.items():
                assert line == sorted(line, key=lambda entry: entry[0]) and all(t.req is req for _, t in line)
                assert all(key == t.key for key, t in line)
            for ch in Channel:
                heads = sorted(
                    (*line[0][0], req.mask, line[0][1]) for req, line in lines.items() if line and req.channel == ch
                )
                assert q.heads[ch] == heads
                assert (ch in channels_of(q.lined_up)) == bool(heads)
                with_room = sorted(
                    (a.idle_since, a.id, a.abilities) for a in q.members.values() if ch in channels_of(a.offerable())
                )
                assert q.idle[ch] == with_room
            for pos, (_, task_id) in enumerate(general):
                assert self.e.position(task_id) == pos


TestRouting = RoutingMachine.TestCase
TestRouting.settings = settings(
    max_examples=300, stateful_step_count=50, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
