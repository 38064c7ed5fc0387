"""Workforce planning benchmark: Erlang C staffing of a 96-interval day against pyworkforce (the same answers?
how much faster?), Erlang A staffing of the same day, and the simulation figures of bench/_wfm_sim.py when that
module is there.

    python bench/wfm.py [--quick]

pyworkforce comes with the ``bench`` extra (``pip install -e '.[bench]'``); without it the comparison says so and
reports null. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from infolinia.wfm.staffing import Target, plan_day

INTERVAL_MIN = 15
AHT_S = 240.0
SL, TARGET_S, MAX_OCC, SHRINK, PATIENCE_S = 0.8, 20.0, 0.85, 0.3, 120.0


def day_calls(scale: float = 1.0) -> list[float]:
    """A weekday's calls per quarter hour: closed at night, a morning peak near 10:00 and a smaller one at 14:00."""
    t = np.arange(96) / 4.0
    shape = 420 * np.exp(-(((t - 10.0) / 1.8) ** 2)) + 300 * np.exp(-(((t - 14.5) / 2.2) ** 2))
    shape[(t < 7) | (t >= 21)] = 0
    return [round(float(x) * scale, 1) for x in shape]


def best_of(repeats: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    best, result = math.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def ours(calls: list[float], patience: float | None) -> list[tuple[int, int]]:
    target = Target(SL, TARGET_S, MAX_OCC, None, patience, SHRINK)
    plan = plan_day(calls, AHT_S, INTERVAL_MIN * 60.0, target)
    return list(zip(plan.on_phones.tolist(), plan.agents.tolist(), strict=True))


def theirs(calls: list[float]) -> list[tuple[int, int]] | None:
    try:
        from pyworkforce.queuing import ErlangC
    except ImportError:
        return None
    out = []
    for n in calls:
        if n <= 0:
            out.append((0, 0))  # pyworkforce refuses an interval without calls (ValueError)
            continue
        erlang = ErlangC(transactions=n, aht=AHT_S / 60.0, asa=TARGET_S / 60.0, interval=INTERVAL_MIN,
                         shrinkage=SHRINK)  # fmt: skip
        req = erlang.required_positions(service_level=SL, max_occupancy=MAX_OCC)
        out.append((int(req["raw_positions"]), int(req["positions"])))
    return out


def simulation(quick: bool) -> dict[str, Any]:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    try:
        module = importlib.import_module("_wfm_sim")
    except ImportError:
        print("simulation: bench/_wfm_sim.py is not there; sim_vs_simpy and multiskill_calls_per_s are null")
        return {"sim_vs_simpy": None, "multiskill_calls_per_s": None}
    measured: dict[str, Any] = module.measure(quick)
    return {
        "sim_vs_simpy": measured.get("sim_vs_simpy"),
        "multiskill_calls_per_s": measured.get("multiskill_calls_per_s"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    repeats = 3 if args.quick else 10
    result: dict[str, Any] = {"bench": "wfm"}
    for scale, label in ((1.0, "mid-size (peak ~110 Erlangs)"), (20.0, "large (peak ~2,300 Erlangs)")):
        calls = day_calls(scale)
        our_s, our_req = best_of(repeats, lambda c=calls: ours(c, None))  # type: ignore[misc]
        print(f"Erlang C day, {label}: ours {our_s * 1000:.2f} ms, {sum(a for _, a in our_req)} agent-intervals")
        # as many runs of pyworkforce as of ours (best of each) on the mid-size day; one on the large day (seconds)
        their_s, their_req = best_of(1 if scale > 1 else repeats, lambda c=calls: theirs(c))  # type: ignore[misc]
        if their_req is None:
            print("pyworkforce is not installed (pip install -e '.[bench]'): no comparison")
            result.setdefault("erlang_c_vs_pyworkforce", None)
            continue
        diffs = [(i, o, t) for i, (o, t) in enumerate(zip(our_req, their_req, strict=True)) if o != t]
        ratio = their_s / our_s
        print(f"  pyworkforce {their_s * 1000:.1f} ms: {ratio:.0f}x; intervals that differ: {len(diffs)}")
        for i, o, t in diffs[:5]:
            print(f"    interval {i} ({calls[i]} calls): ours on phones/scheduled {o}, pyworkforce {t}")
        key = "erlang_c_vs_pyworkforce" if scale == 1.0 else "erlang_c_vs_pyworkforce_large"
        result[key] = round(ratio, 1)
        result[key.replace("vs_pyworkforce", "mismatches")] = len(diffs)
    calls = day_calls()
    a_s, a_req = best_of(repeats, lambda: ours(calls, PATIENCE_S))
    print(f"Erlang A day (patience {PATIENCE_S:.0f} s): {a_s:.4f} s, {sum(a for _, a in a_req)} agent-intervals")
    big_s, _ = best_of(max(1, repeats // 3), lambda: ours(day_calls(20.0), PATIENCE_S))
    print(f"Erlang A day, large: {big_s:.4f} s")
    result["erlang_a_day_s"] = round(a_s, 5)
    result["erlang_a_large_day_s"] = round(big_s, 5)
    result.update(simulation(args.quick))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
