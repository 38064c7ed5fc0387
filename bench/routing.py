"""Routing (ACD): how many routing decisions per second the engine takes with 10,000 waiting tasks, 2,000 agents.

Workload: 2 tenants, 50 queues (mixed strategies, some with aging, some with overflow steps), 20 skills, 2,000
agents serving 2-4 queues each; warm-up until 10,000 tasks wait, then a measured, seeded stream of arrivals and
completions in simulated time, every offer accepted at once. The same stream (a shorter prefix) runs against a naive
scan-everything router (bench/_routing_baseline.py) for comparison, and a check that both make the same offers when
every queue is longest_idle (the baseline's only strategy). Pure CPU: no I/O, no event loop.

    python bench/routing.py [--quick] [--seed N]
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import hashlib
import json
import os
import platform
import random
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import infolinia.routing.engine as engine_module
from _routing_baseline import NaiveRouter
from infolinia.routing import (
    AgentSpec,
    Channel,
    Engine,
    Event,
    OverflowStep,
    Presence,
    QueueSpec,
    Strategy,
    TaskSpec,
    TaskState,
)

TENANT_QUEUES = {1: range(1, 41), 2: range(41, 51)}  # 40 queues in tenant 1, 10 in tenant 2
TENANT_AGENTS = {1: range(1, 1601), 2: range(1601, 2001)}
SKILLS = [f"s{i}" for i in range(20)]
TARGET_WAITING = 10_000
MEAN_GAP_S = 0.01  # simulated seconds between two operations (about 50 arrivals and 50 completions a second)

GOAL_DECISIONS_PER_S = 50_000
GOAL_P99_MS = 0.5
GOAL_RATIO = 20.0


class Router(Protocol):
    decisions: int

    def add_task(self, spec: TaskSpec, now: float) -> None: ...
    def complete(self, task_id: int, now: float) -> None: ...
    def accept(self, task_id: int, now: float) -> None: ...
    def drain(self) -> list[Event]: ...


# --- workload -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Center:
    queues: list[QueueSpec]
    primary: dict[int, str]  # queue id -> its primary skill
    agents: list[AgentSpec]


def build_center(rng: random.Random) -> Center:
    queues: list[QueueSpec] = []
    primary: dict[int, str] = {}
    strategies = [Strategy.LONGEST_IDLE] * 7 + [Strategy.MOST_SKILLED, Strategy.LEAST_OCCUPIED, Strategy.ROUND_ROBIN]
    for tenant, ids in TENANT_QUEUES.items():
        general = ids[0]  # the first queue of a tenant: plain, the target of "move queue" overflow
        for qid in ids:
            skill = primary[qid] = SKILLS[(qid - 1) % len(SKILLS)]
            overflow: tuple[OverflowStep, ...] = ()
            if qid != general and rng.random() < 0.3:
                overflow = (OverflowStep(after_s=60.0, levels={skill: 1}, any_language=True),)
                if rng.random() < 0.4:
                    overflow += (OverflowStep(after_s=180.0, levels={skill: 0}, to_queue=general),)
            queues.append(
                QueueSpec(
                    id=qid,
                    tenant_id=tenant,
                    name=f"q{qid}",
                    strategy=Strategy.LONGEST_IDLE if qid == general else rng.choice(strategies),
                    aging_s=rng.choice((30.0, 60.0)) if rng.random() < 0.3 else None,
                    overflow=overflow,
                )
            )
    agents: list[AgentSpec] = []
    for tenant, ids in TENANT_AGENTS.items():
        tenant_queues = list(TENANT_QUEUES[tenant])
        for aid in ids:
            served = rng.sample(tenant_queues, rng.randint(2, 4))
            skills: dict[str, int] = {}
            for qid in served:
                skills[primary[qid]] = max(skills.get(primary[qid], 0), rng.randint(1, 10))
            for _ in range(rng.randint(1, 3)):
                skills.setdefault(rng.choice(SKILLS), rng.randint(1, 10))
            languages = {rng.choices(("pl", "en", "ru"), weights=(80, 15, 5))[0]}
            if rng.random() < 0.5:
                languages.add(rng.choice([lang for lang in ("pl", "en", "ru") if lang not in languages]))
            agents.append(
                AgentSpec(
                    id=aid, tenant_id=tenant, skills=skills, languages=frozenset(languages), queues=frozenset(served)
                )
            )
    return Center(queues, primary, agents)


class Arrivals:
    """Random tasks: queue, skill levels, language, channel, priority."""

    def __init__(self, center: Center, rng: random.Random) -> None:
        self.rng = rng
        self.queues = center.queues
        self.primary = center.primary
        self.next_id = 1

    def task(self, now: float) -> TaskSpec:
        rng = self.rng
        q = rng.choice(self.queues)
        skill = self.primary[q.id]
        skills = {skill: rng.choice((1, 3, 5))}
        if rng.random() < 0.2:
            skills[rng.choice([s for s in SKILLS if s != skill])] = 1
        tid, self.next_id = self.next_id, self.next_id + 1
        return TaskSpec(
            id=tid,
            tenant_id=q.tenant_id,
            queue_id=q.id,
            channel=rng.choices((Channel.VOICE, Channel.CHAT, Channel.EMAIL), weights=(50, 30, 20))[0],
            enqueued_at=now,
            skills=skills,
            language=rng.choices((None, "pl", "en", "ru"), weights=(50, 30, 15, 5))[0],
            priority=rng.choices((0, 1, 2, 3), weights=(70, 15, 10, 5))[0],
        )


# One measured operation: at time ``now``, either an arrival (a task) or a completion (a fraction in [0, 1) that
# picks the task to complete among the assigned ones).
Op = tuple[float, TaskSpec | float]


class Ops:
    """The measured stream, made as it goes against the engine (whose waiting count steers arrivals vs
    completions around the target); its first ``keep`` operations are recorded for the baseline to replay."""

    def __init__(self, arrivals: Arrivals, rng: random.Random, now: float, keep: int) -> None:
        self.arrivals = arrivals
        self.rng = rng
        self.now = now
        self.keep = keep
        self.recorded: list[Op] = []
        self.arrived = 0

    def next(self, waiting: int) -> Op:
        rng = self.rng
        self.now += rng.expovariate(1.0 / MEAN_GAP_S)
        p_arrival = min(0.7, max(0.3, 0.5 + (TARGET_WAITING - waiting) / 4_000))
        op: Op = (self.now, self.arrivals.task(self.now) if rng.random() < p_arrival else rng.random())
        self.arrived += isinstance(op[1], TaskSpec)
        if len(self.recorded) < self.keep:
            self.recorded.append(op)
        return op


class GcWatch:
    """Garbage collections while measuring (they land inside some timed calls: the max latency is usually one)."""

    def __init__(self) -> None:
        self.counts = [0, 0, 0]
        self.longest_s = 0.0
        self.total_s = 0.0
        self._started = 0.0

    def __enter__(self) -> GcWatch:
        gc.collect()
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.counts[info["generation"]] += 1
            took = time.perf_counter() - self._started
            self.total_s += took
            self.longest_s = max(self.longest_s, took)

    def __str__(self) -> str:
        return (
            f"{sum(self.counts)} collections (by generation {self.counts}), {self.total_s * 1000:.1f} ms in all, "
            f"longest {self.longest_s * 1000:.1f} ms"
        )


def core_times(cores: list[int] | None) -> tuple[float, float]:
    """(busy, steal) jiffies of ``cores`` so far, from /proc/stat (zeros where it cannot be read): steal is time the
    hypervisor gave the virtual core to someone else, which a wall clock counts as ours."""
    try:
        lines = Path("/proc/stat").read_text().splitlines()
    except OSError:
        return 0.0, 0.0
    busy = steal = 0.0
    for line in lines:
        name, *fields = line.split()
        if not name.startswith("cpu") or name == "cpu" or (cores is not None and int(name[3:]) not in cores):
            continue
        user, nice, system, _idle, _iowait, irq, softirq, stolen = (float(f) for f in fields[:8])
        busy += user + nice + system + irq + softirq
        steal += stolen
    return busy, steal


# --- driving a router -----------------------------------------------------------------------------------------


class Run:
    """One router plus what the caller knows of it: which tasks are assigned, how many wait, and the timings."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self.live = 0  # tasks in the router (waiting or assigned; offers are accepted at once)
        self.assigned: list[int] = []  # task ids, for picking a random one to complete
        self.slot: dict[int, int] = {}  # task id -> index in assigned
        self.agent_of: dict[int, int] = {}  # task id -> agent, for assigned tasks
        self.channel_of: dict[int, Channel] = {}  # task id -> channel, for tasks in the router
        self.op_lat: list[float] = []  # seconds per add_task / complete call
        self.accept_lat: list[float] = []  # seconds per accept call
        self.accept_decisions = 0
        self.offers: list[tuple[int, int]] = []  # (task, agent) of every offer, in order, when record_offers
        self.record_offers = True
        self.timing = False

    @property
    def waiting(self) -> int:
        return self.live - len(self.assigned)

    def waiting_by_channel(self) -> dict[str, int]:
        counts = dict.fromkeys((ch.value for ch in (Channel.VOICE, Channel.CHAT, Channel.EMAIL)), 0)
        for tid, ch in self.channel_of.items():
            if tid not in self.agent_of:
                counts[ch.value] += 1
        return counts

    def arrive(self, spec: TaskSpec, now: float) -> None:
        self.live += 1
        self.channel_of[spec.id] = spec.channel
        t0 = time.perf_counter()
        self.router.add_task(spec, now)
        t1 = time.perf_counter()
        if self.timing:
            self.op_lat.append(t1 - t0)
        self.settle(now)

    def finish(self, pick: float, now: float) -> None:
        i = int(pick * len(self.assigned))
        task_id = self.assigned[i]
        last = self.assigned.pop()
        if last != task_id:
            self.assigned[i] = last
            self.slot[last] = i
        del self.slot[task_id], self.agent_of[task_id], self.channel_of[task_id]
        self.live -= 1
        t0 = time.perf_counter()
        self.router.complete(task_id, now)
        t1 = time.perf_counter()
        if self.timing:
            self.op_lat.append(t1 - t0)
        self.settle(now)

    def settle(self, now: float) -> None:
        """Accept every offer the router made (an accept can lead to another offer to the same agent)."""
        router = self.router
        events = router.drain()
        while events:
            more: list[Event] = []
            for ev in events:
                if ev.kind != "offer":
                    continue
                assert ev.task is not None and ev.agent is not None
                if self.record_offers:
                    self.offers.append((ev.task, ev.agent))
                before = router.decisions
                t0 = time.perf_counter()
                router.accept(ev.task, now)
                t1 = time.perf_counter()
                if self.timing:
                    self.accept_lat.append(t1 - t0)
                    self.accept_decisions += router.decisions - before
                self.slot[ev.task] = len(self.assigned)
                self.assigned.append(ev.task)
                self.agent_of[ev.task] = ev.agent
                more += router.drain()
            events = more

    def apply(self, op: Op) -> None:
        now, what = op
        if isinstance(what, TaskSpec):
            self.arrive(what, now)
        elif self.assigned:
            self.finish(what, now)

    def summary(self, decisions: int, ops: int) -> dict[str, float]:
        busy = sum(self.op_lat) + sum(self.accept_lat)
        lat = sorted(self.op_lat)
        acc = sorted(self.accept_lat)
        return {
            "ops": ops,
            "op_calls": len(lat),
            "accept_calls": len(acc),
            "decisions": decisions,
            "accept_decisions": self.accept_decisions,
            "engine_s": busy,
            "decisions_per_s": decisions / busy,
            "op_calls_per_s": len(lat) / sum(self.op_lat),
            "p50_ms": statistics.median(lat) * 1000,
            "p99_ms": percentile(lat, 0.99) * 1000,
            "max_ms": lat[-1] * 1000,
            "accept_p50_ms": statistics.median(acc) * 1000 if acc else 0.0,
            "accept_p99_ms": percentile(acc, 0.99) * 1000 if acc else 0.0,
        }


def percentile(ordered: list[float], q: float) -> float:
    return ordered[max(0, int(len(ordered) * q) - 1)]


def count_waiting(engine: Engine) -> int:
    """Cross-check of the caller's count with the engine's own view (tasks it reports as waiting)."""
    return sum(1 for tid in engine.tasks if engine.task_state(tid) is TaskState.WAITING)


# --- setting up -----------------------------------------------------------------------------------------------


@dataclass
class WarmedUp:
    engine: Engine
    run: Run
    arrivals: Arrivals
    specs: dict[int, TaskSpec]  # every task added, in order
    now: float
    seconds: float


def warm_up(center: Center, seed: int) -> WarmedUp:
    """Agents READY at 0, then arrivals (every offer accepted at once) until the target number of tasks waits."""
    started = time.perf_counter()
    engine = Engine()
    for q in center.queues:
        engine.set_queue(q, 0.0)
    for a in center.agents:
        engine.set_agent(a, 0.0)
        engine.set_presence(a.id, Presence.READY, 0.0)
    run = Run(engine)
    arrivals = Arrivals(center, random.Random(seed + 1))
    rng = random.Random(seed + 2)
    specs: dict[int, TaskSpec] = {}
    now = 0.0
    while run.waiting < TARGET_WAITING:
        now += rng.expovariate(1.0 / MEAN_GAP_S)
        spec = arrivals.task(now)
        specs[spec.id] = spec
        run.arrive(spec, now)
    return WarmedUp(engine, run, arrivals, specs, now, time.perf_counter() - started)


def baseline_like(center: Center, w: WarmedUp) -> Run:
    """The naive router in the engine's state after warm-up, loaded directly (its own warm-up would only cost
    time): the same waiting tasks (with the overflow steps already due), the same assignments, idle since 0."""
    router = NaiveRouter(center.queues, center.agents, ready_since=0.0)
    router.restore(w.now, ((s, w.run.agent_of.get(s.id)) for s in w.specs.values()))
    run = Run(router)
    run.live, run.assigned = w.run.live, list(w.run.assigned)
    run.slot, run.agent_of, run.channel_of = dict(w.run.slot), dict(w.run.agent_of), dict(w.run.channel_of)
    return run


def same_offers(center: Center, seed: int, n_ops: int) -> tuple[int, int | None]:
    """With every queue longest_idle (the baseline's only strategy) both routers must make the same offers:
    returns (offers compared, index of the first difference or None)."""
    plain = Center(
        [dataclasses.replace(q, strategy=Strategy.LONGEST_IDLE) for q in center.queues], center.primary, center.agents
    )
    w = warm_up(plain, seed)
    base_run = baseline_like(plain, w)
    ops = Ops(w.arrivals, random.Random(seed + 3), w.now, keep=n_ops)
    warm_offers = len(w.run.offers)
    for _ in range(n_ops):
        w.run.apply(ops.next(w.run.waiting))
    for op in ops.recorded:
        base_run.apply(op)
    a, b = w.run.offers[warm_offers:], base_run.offers
    first = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), None)
    if first is None and len(a) != len(b):
        first = min(len(a), len(b))
    return min(len(a), len(b)), first


# --- main -----------------------------------------------------------------------------------------------------


def main(quick: bool, seed: int) -> dict[str, object]:
    n_ops, n_base, n_check = (5_000, 300, 300) if quick else (100_000, 2_000, 2_000)
    facts = {
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "machine": f"{platform.machine()} {platform.system()}",
        "cpus": os.cpu_count(),
        "affinity": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "engine_sha1": hashlib.sha1(Path(engine_module.__file__).read_bytes()).hexdigest()[:12],
    }
    print(f"routing bench ({'quick' if quick else 'full'}, seed {seed}); pure CPU, one thread, nothing pinned")
    for k, v in facts.items():
        print(f"  {k}: {v}")

    center = build_center(random.Random(seed))
    strategies = {s.value: sum(1 for q in center.queues if q.strategy is s) for s in Strategy}
    print(
        f"center: {len(TENANT_QUEUES)} tenants, {len(center.queues)} queues {strategies}, "
        f"{sum(1 for q in center.queues if q.aging_s)} with aging, {sum(1 for q in center.queues if q.overflow)} "
        f"with overflow; {len(SKILLS)} skills; {len(center.agents)} agents (voice exclusive, default capacities)"
    )

    w = warm_up(center, seed)
    engine, run, now = w.engine, w.run, w.now
    print(
        f"warm-up: {len(w.specs)} arrivals over {now:.0f} simulated s -> {run.waiting} waiting, "
        f"{len(run.assigned)} assigned ({w.seconds:.1f} s)"
    )
    base_run = baseline_like(center, w)
    w.specs.clear()
    for r in (run, base_run):  # only the semantics check compares offers: no garbage piling up while timing
        r.record_offers = False
        r.offers.clear()
    gc.collect()
    gc.freeze()  # as the server does once it has loaded the engine: long-lived state out of full collections
    print(
        "a 'decision' = one routing search that ran: a task looking for an agent (arrival, overflow) or a free agent "
        "looking for a task (completion, or an accepted offer that leaves room); counted by engine.decisions"
    )
    print(
        "an 'operation' = one add_task or complete call, timed with perf_counter including every decision and timer "
        "it set off; accept calls are timed too (they count in the engine time, not in the latency percentiles)"
    )

    # measured: the engine, with the stream made as it goes
    ops = Ops(w.arrivals, random.Random(seed + 3), now, keep=n_base)
    waiting_start, mix_start = run.waiting, run.waiting_by_channel()
    decisions0 = engine.decisions
    prefix_s, prefix_decisions = 0.0, 0
    cores = facts["affinity"] if isinstance(facts["affinity"], list) else None
    with GcWatch() as gcs:
        run.timing = True
        (busy0, steal0), cpu0 = core_times(cores), time.process_time()
        started = time.perf_counter()
        for i in range(n_ops):
            if i == n_base:  # the engine on exactly the operations the baseline replays
                prefix_s = sum(run.op_lat) + sum(run.accept_lat)
                prefix_decisions = engine.decisions - decisions0
            run.apply(ops.next(run.waiting))
        wall_s = time.perf_counter() - started
        (busy1, steal1), cpu_s = core_times(cores), time.process_time() - cpu0
        run.timing = False
    eng = run.summary(engine.decisions - decisions0, n_ops)
    # the share of the wall clock the process really ran; the engine's time scaled by it is the CPU time it had
    cpu_share = min(1.0, cpu_s / wall_s)
    steal_share = (steal1 - steal0) / max(busy1 - busy0 + steal1 - steal0, 1e-9)
    per_cpu_s = eng["decisions"] / (eng["engine_s"] * cpu_share)
    print(
        f"measured: {n_ops} operations ({ops.arrived} arrivals, {n_ops - ops.arrived} completions) over "
        f"{ops.now - now:.0f} simulated s; waiting {waiting_start} {mix_start} -> {run.waiting} "
        f"{run.waiting_by_channel()} (engine says {count_waiting(engine)}); assigned {len(run.assigned)} at the end"
    )
    print(
        f"engine:   {eng['decisions']} decisions ({eng['accept_decisions']} by {eng['accept_calls']} accepts) "
        f"in {eng['engine_s']:.3f} s inside the engine ({wall_s:.1f} s wall): {eng['decisions_per_s']:,.0f} "
        f"decisions/s; per operation p50 {eng['p50_ms']:.3f} ms, p99 {eng['p99_ms']:.3f} ms, max {eng['max_ms']:.2f} "
        f"ms; accept p50 {eng['accept_p50_ms']:.3f} ms, p99 {eng['accept_p99_ms']:.3f} ms"
    )
    print(f"          garbage collector while measuring: {gcs}")
    print(
        f"          the process ran {cpu_share:.0%} of the wall time (CPU {cpu_s:.1f} s of {wall_s:.1f} s); the "
        f"hypervisor took {steal_share:.0%} of the pinned core(s) {cores} (steal); per CPU second the engine made "
        f"{per_cpu_s:,.0f} decisions/s"
    )

    # baseline: the first n_base operations of the same stream, from the same state
    decisions0 = base_run.router.decisions
    with GcWatch():
        base_run.timing = True
        started = time.perf_counter()
        for op in ops.recorded:
            base_run.apply(op)
        base_wall_s = time.perf_counter() - started
        base_run.timing = False
    base = base_run.summary(base_run.router.decisions - decisions0, len(ops.recorded))
    print(
        f"baseline: naive scan-everything router (every queue longest idle), the first {len(ops.recorded)} operations "
        f"of the same stream from the same state: {base['decisions']} decisions in {base['engine_s']:.3f} s "
        f"({base_wall_s:.1f} s wall): {base['decisions_per_s']:,.0f} decisions/s; per operation p50 "
        f"{base['p50_ms']:.3f} ms, p99 {base['p99_ms']:.3f} ms; waiting at its end {base_run.waiting}"
    )

    # the baseline is the engine's semantics without indexes: same offers when every queue is longest_idle
    started = time.perf_counter()
    compared, first_diff = same_offers(center, seed, n_check)
    verdict = "same offers" if first_diff is None else f"DIFFERENT offers from offer #{first_diff} on"
    print(
        f"semantics check: every queue longest_idle, {n_check} operations on each router from the same state: "
        f"{verdict} ({compared} offers compared, {time.perf_counter() - started:.1f} s)"
    )

    ratio = eng["decisions_per_s"] / base["decisions_per_s"]
    ratio_prefix = prefix_decisions / prefix_s / base["decisions_per_s"]
    print(
        f"ratio: engine {eng['decisions_per_s']:,.0f} / baseline {base['decisions_per_s']:,.0f} decisions/s = "
        f"{ratio:.1f}x; on the same first {len(ops.recorded)} operations only: {prefix_decisions} decisions, "
        f"{prefix_decisions / prefix_s:,.0f}/s, {ratio_prefix:.1f}x"
    )
    goals = {
        f"decisions/s >= {GOAL_DECISIONS_PER_S:,}": eng["decisions_per_s"] >= GOAL_DECISIONS_PER_S,
        f"decisions per CPU second >= {GOAL_DECISIONS_PER_S:,} (the core's own capacity)": per_cpu_s
        >= GOAL_DECISIONS_PER_S,
        f"p99 <= {GOAL_P99_MS} ms": eng["p99_ms"] <= GOAL_P99_MS,
        f"baseline ratio >= {GOAL_RATIO:g}x (got {ratio:.1f}x)": ratio >= GOAL_RATIO,
    }
    for goal, met in goals.items():
        print(f"goal {goal}: {'met' if met else 'NOT met'}")

    return {
        "bench": "routing",
        "decisions_per_s": round(eng["decisions_per_s"], 1),
        "p50_ms": round(eng["p50_ms"], 4),
        "p99_ms": round(eng["p99_ms"], 4),
        "baseline_ratio": round(ratio, 1),
        "mode": "quick" if quick else "full",
        "seed": seed,
        "tenants": len(TENANT_QUEUES),
        "queues": len(center.queues),
        "skills": len(SKILLS),
        "agents": len(center.agents),
        "waiting_start": waiting_start,
        "waiting_end": run.waiting,
        "ops": n_ops,
        "decisions": eng["decisions"],
        "accept_calls": eng["accept_calls"],
        "engine_s": round(eng["engine_s"], 3),
        "max_ms": round(eng["max_ms"], 3),
        "accept_p99_ms": round(eng["accept_p99_ms"], 4),
        "gc_longest_ms": round(gcs.longest_s * 1000, 1),
        "decisions_per_cpu_s": round(per_cpu_s, 1),
        "cpu_share": round(cpu_share, 3),
        "steal_share": round(steal_share, 3),
        "baseline_ops": len(ops.recorded),
        "baseline_decisions_per_s": round(base["decisions_per_s"], 1),
        "baseline_p50_ms": round(base["p50_ms"], 4),
        "baseline_p99_ms": round(base["p99_ms"], 4),
        "baseline_ratio_same_ops": round(ratio_prefix, 1),
        "baseline_same_offers": first_diff is None,
        "goals_met": all(goals.values()),
        **facts,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short measured stream (the same 10,000 waiting)")
    parser.add_argument("--seed", type=int, default=1, help="seed of every random choice (default 1)")
    args = parser.parse_args()
    result = main(args.quick, args.seed)
    sys.stdout.flush()
    print(json.dumps(result))
