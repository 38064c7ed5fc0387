"""Center simulation: the single-skill fast path against a SimPy model of the same center, and the multi-skill
simulation through the real routing engine.

1. Single skill: 105 agents, 1,000 calls expected per half-hour, exponential handle time (mean 180 s) and patience
   (mean 180 s), 1,000 half-hours (1,000,000 calls; --quick: 50). The same center is also modelled in SimPy (a
   ``Resource`` of 105 agents, each caller a process that waits for an agent or its patience, whichever comes
   first), with its own random numbers: the two must agree on the KPIs within statistical tolerance, and both are
   compared with Erlang A. Reported: both KPIs, their speed ratio (``sim_vs_simpy``).
2. Multi skill: 3 queues (skills, a language, priorities, most-skilled routing), 4 agent groups, calls routed by
   ``routing.engine.Engine`` in simulated time. Reported: simulated calls per second, and from a profiled run the
   share of the time spent inside the routing engine and its costliest functions.

    python bench/_wfm_sim.py [--quick]      (bench/wfm.py runs it too, through ``measure``)
"""

from __future__ import annotations

import argparse
import cProfile
import json
import math
import pstats
import time
from typing import Any

import numpy as np

from infolinia.routing.model import Strategy
from infolinia.wfm.distributions import HandleTime
from infolinia.wfm.multiskill import AgentGroup, MultiSkillCenter, QueueModel, simulate_multi
from infolinia.wfm.simulate import SingleSkillCenter, simulate_single

AGENTS, CALLS, AHT_S, PATIENCE_S = 105, 1000.0, 180.0, 180.0
GOAL_RATIO = 10.0
GOAL_MULTISKILL = 50_000.0
# agreement of the fast path with SimPy: service level and abandon rate within 1 point, ASA within 10 % (both are
# estimates from one long run of a heavily loaded center; their sampling error is well inside these bounds)
TOLERANCE = {"service_level": 0.01, "p_abandon": 0.01, "asa_rel": 0.10, "occupancy": 0.01}


def center(intervals: int) -> SingleSkillCenter:
    return SingleSkillCenter(calls=(CALLS,) * intervals, agents=(AGENTS,) * intervals,
                             handle=HandleTime("exponential", AHT_S), patience_s=PATIENCE_S,
                             short_abandon_s=0.0)  # fmt: skip


def simpy_model(intervals: int, seed: int) -> dict[str, float]:
    """The same center in SimPy: arrivals, patience and handle times drawn by SimPy's processes as they go."""
    import simpy

    rng = np.random.default_rng(seed)
    horizon = intervals * 1800.0
    env = simpy.Environment()
    agents = simpy.Resource(env, capacity=AGENTS)
    tally = {"offered": 0, "answered": 0, "abandoned": 0, "in_sl": 0, "wait": 0.0, "busy": 0.0}
    rate = CALLS / 1800.0

    def caller() -> Any:
        arrived = env.now
        patience = rng.exponential(PATIENCE_S)
        with agents.request() as req:
            got = yield req | env.timeout(patience)
            if req not in got:
                tally["abandoned"] += 1
                return
            wait = env.now - arrived
            tally["answered"] += 1
            tally["wait"] += wait
            tally["in_sl"] += wait <= 20.0
            handle = rng.exponential(AHT_S)
            tally["busy"] += handle
            yield env.timeout(handle)

    def source() -> Any:
        while True:
            yield env.timeout(rng.exponential(1 / rate))
            if env.now >= horizon:
                return
            tally["offered"] += 1
            env.process(caller())

    env.process(source())
    env.run()
    return {
        "offered": tally["offered"],
        "service_level": tally["in_sl"] / (tally["answered"] + tally["abandoned"]),
        "asa_s": tally["wait"] / tally["answered"],
        "p_abandon": tally["abandoned"] / tally["offered"],
        "occupancy": tally["busy"] / (AGENTS * horizon),
    }


def erlang_a(c: int, lam: float, mu: float, theta: float, cap: int = 3000) -> dict[str, float]:
    """Erlang A (M/M/c+M) from its birth-death chain, for reference."""
    p = [1.0]
    for k in range(1, c + cap):
        p.append(p[-1] * lam / (min(k, c) * mu + max(k - c, 0) * theta))
    pi = np.asarray(p) / sum(p)
    queue_len = float(sum(max(k - c, 0) * pi[k] for k in range(len(pi))))
    served = lam * (1 - theta * queue_len / lam)
    return {"p_abandon": theta * queue_len / lam, "occupancy": served / mu / c}


def single_skill(quick: bool) -> dict[str, Any]:
    intervals = 50 if quick else 1000
    cpu = time.process_time()
    ours = simulate_single(center(intervals), seed=1)
    cpu = time.process_time() - cpu
    k = ours.overall
    ours_kpis = {"offered": k.offered, "service_level": k.service_level, "asa_s": k.asa_s,
                 "p_abandon": k.p_abandon, "occupancy": k.occupancy}  # fmt: skip
    started, simpy_cpu = time.perf_counter(), time.process_time()
    theirs = simpy_model(intervals, seed=2)
    simpy_s, simpy_cpu = time.perf_counter() - started, time.process_time() - simpy_cpu
    agree = {
        "service_level": abs(ours_kpis["service_level"] - theirs["service_level"]) <= TOLERANCE["service_level"],
        "p_abandon": abs(ours_kpis["p_abandon"] - theirs["p_abandon"]) <= TOLERANCE["p_abandon"],
        "asa_s": abs(ours_kpis["asa_s"] / theirs["asa_s"] - 1) <= TOLERANCE["asa_rel"],
        "occupancy": abs(ours_kpis["occupancy"] - theirs["occupancy"]) <= TOLERANCE["occupancy"],
    }
    return {
        "single_calls": k.offered,
        "single_s": round(ours.elapsed_s, 3),
        "single_calls_per_s": round(k.offered / ours.elapsed_s),
        "simpy_s": round(simpy_s, 3),
        "simpy_calls_per_s": round(theirs["offered"] / simpy_s),
        # seconds per simulated call, SimPy's over ours
        "sim_vs_simpy": round((simpy_s / theirs["offered"]) / (ours.elapsed_s / k.offered), 2),
        "sim_vs_simpy_cpu": round((simpy_cpu / theirs["offered"]) / (cpu / k.offered), 2),
        "kpis_ours": {name: _round(v) for name, v in ours_kpis.items()},
        "kpis_simpy": {name: _round(v) for name, v in theirs.items()},
        "kpis_erlang_a": {
            name: _round(v) for name, v in erlang_a(AGENTS, CALLS / 1800, 1 / AHT_S, 1 / PATIENCE_S).items()
        },
        "kpis_agree": all(agree.values()),
        "kpis_agree_by_name": agree,
    }


def multiskill_center(intervals: int) -> MultiSkillCenter:
    shape = [0.6 + 0.8 * math.sin(math.pi * (i % 48) / 48) ** 2 for i in range(intervals)]
    queues = (
        QueueModel("billing", tuple(400 * s for s in shape), HandleTime("lognormal", 240.0, 180.0), 150.0,
                   {"billing": 2}, priority=1, wrapup_s=10.0, callback_share=0.3, callback_delay_s=900.0),
        QueueModel("support", tuple(300 * s for s in shape), HandleTime("exponential", 300.0), 200.0,
                   {"support": 1}, strategy=Strategy.MOST_SKILLED),
        QueueModel("slovak", tuple(60 * s for s in shape), HandleTime("exponential", 200.0), 120.0,
                   {"support": 1}, language="sk"),
    )  # fmt: skip
    # offered load at the shape's mean: billing 53, support 50, slovak 7 Erlang
    groups = (
        AgentGroup("billing", tuple(round(52 * s) for s in shape), {"billing": 3}, frozenset({"pl"}), ("billing",)),
        AgentGroup("support", tuple(round(48 * s) for s in shape), {"support": 2}, frozenset({"pl"}),
                   ("support",)),
        AgentGroup("slovak", tuple(round(9 * s) for s in shape), {"support": 3}, frozenset({"pl", "sk"}),
                   ("support", "slovak")),
        AgentGroup("universal", tuple(round(10 * s) for s in shape), {"billing": 2, "support": 1},
                   frozenset({"pl"}), ("billing", "support")),
    )  # fmt: skip
    return MultiSkillCenter(queues, groups)


def multiskill(quick: bool) -> dict[str, Any]:
    intervals = 48 if quick else 480
    cpu = time.process_time()
    result = simulate_multi(multiskill_center(intervals), seed=3)
    cpu = time.process_time() - cpu
    k = result.overall
    profiler = cProfile.Profile()
    profiler.enable()
    simulate_multi(multiskill_center(24), seed=4)
    profiler.disable()
    st = pstats.Stats(profiler)
    rows = st.stats  # type: ignore[attr-defined]
    total = sum(row[2] for row in rows.values())
    in_engine = {f"{func[2]}": row[2] for func, row in rows.items() if func[0].endswith("routing/engine.py")}
    engine_share = sum(in_engine.values()) / total
    top = sorted(in_engine.items(), key=lambda kv: -kv[1])[:5]
    return {
        "multiskill_calls": k.offered,
        "multiskill_s": round(result.elapsed_s, 3),
        "multiskill_calls_per_s": round(k.offered / result.elapsed_s),
        "multiskill_calls_per_cpu_s": round(k.offered / cpu),  # the same, per second of this process's CPU time
        "multiskill_kpis": {
            name: _round(v)
            for name, v in k.as_dict().items()
            if name
            in ("service_level", "asa_s", "aht_s", "occupancy", "p_abandon", "callbacks_requested", "callbacks_served")
        },
        "multiskill_engine_time_share": round(engine_share, 3),
        "multiskill_engine_top": [(name, round(t / total, 3)) for name, t in top],
    }


def _round(value: Any) -> Any:
    return round(value, 4) if isinstance(value, float) else value


def measure(quick: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    out.update(single_skill(quick))
    out.update(multiskill(quick))
    out["goals"] = {"sim_vs_simpy": GOAL_RATIO, "multiskill_calls_per_s": GOAL_MULTISKILL}
    out["goals_met"] = bool(
        out["sim_vs_simpy"] >= GOAL_RATIO and out["kpis_agree"] and out["multiskill_calls_per_s"] >= GOAL_MULTISKILL
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50,000 calls instead of 1,000,000")
    args = parser.parse_args()
    out = {"bench": "wfm_sim", "quick": args.quick, **measure(args.quick)}
    for name, value in out.items():
        print(f"{name}: {value}")
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
