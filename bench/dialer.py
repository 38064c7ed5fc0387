"""Predictive dialing in simulated time: does the pacer (src/infolinia/outbound/pacing.py) keep agents busy while
the share of answered calls left without an agent stays under the cap?

A campaign with N agents dials an endless list. Each call rings; with probability `answer_rate` it is answered
after 3-20 s (uniform), else it gives up after 25 s. An answered call takes a free agent at once, or waits up to
2 s for one; then it is abandoned (the customer hears the identification message). Talk time is exponential
(mean `aht`), then `wrapup` seconds. The pacer decides every second and whenever an agent frees, from what a real
dialer knows: free agents, each busy agent's chance to be free within the mean answer delay (talk: exponential,
so 1 - exp(-H/aht); wrap-up: its known end), the calls ringing, and the answer rate it estimates from its own
outcomes. Progressive dialing (one call per free agent) runs on the same calls as the baseline.

    python bench/dialer.py [--quick] [--agents 50] [--answer-rate 0.2] [--aht 180] [--wrapup 10] [--days 5]

Last line: {"bench": "dialer", "max_daily_abandon_rate": ..., "occupancy": ..., "calls_per_agent_hour": ...}.
Goal (50 agents, 20 % answer rate): abandon rate <= 3 % of answered calls on every simulated day, occupancy >= 85 %.
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import random
import time
from collections import deque
from dataclasses import dataclass, field

from infolinia.outbound.pacing import AbandonBudget, AnswerRate, Floor, calls_to_place

CAP = 0.03
GOAL_OCCUPANCY = 0.85
RING_GIVE_UP_S = 25.0
ANSWER_DELAY = (3.0, 20.0)
AGENT_WAIT_S = 2.0  # an answered call waits this long for an agent, then it is abandoned


@dataclass
class Day:
    dialed: int = 0
    answered: int = 0
    abandoned: int = 0
    connected: int = 0
    busy_s: float = 0.0

    def abandon_rate(self) -> float:
        return self.abandoned / self.answered if self.answered else 0.0


@dataclass
class Simulation:
    agents: int
    answer_rate: float
    aht: float
    wrapup: float
    day_s: float
    seed: int
    predictive: bool
    now: float = 0.0
    events: list[tuple[float, int, str, int]] = field(default_factory=list)
    free: int = 0
    wrapup_ends: list[float] = field(default_factory=list)  # heap: agents in wrap-up
    talking: int = 0
    in_flight: int = 0
    waiting: deque[tuple[int, float]] = field(default_factory=deque)  # answered calls waiting: (call, deadline)
    seq: int = 0
    decisions: int = 0

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.free = self.agents
        self.budget = AbandonBudget(CAP)
        self.rate = AnswerRate(prior=0.2)
        self.horizon = sum(ANSWER_DELAY) / 2

    def push(self, at: float, kind: str, call: int = 0) -> None:
        self.seq += 1
        heapq.heappush(self.events, (at, self.seq, kind, call))

    def run_day(self) -> Day:
        day = Day()
        start, end = self.now, self.now + self.day_s
        self.push(start, "tick")
        while self.events:
            at, _, kind, call = heapq.heappop(self.events)
            if at > end and kind == "tick":
                continue
            if at > end + 3600:
                break
            self.now = at
            getattr(self, f"_{kind}")(day, call)
            if at <= end and kind in ("tick", "agent_free"):
                self._decide(day)
        self.budget.new_day()
        # every agent is logged in for the day; busy time counted within it
        day.busy_s = min(day.busy_s, self.agents * self.day_s)
        return day

    # --- events -------------------------------------------------------------------------------------------

    def _tick(self, day: Day, call: int) -> None:
        self.push(self.now + 1.0, "tick")

    def _answer(self, day: Day, call: int) -> None:
        self.in_flight -= 1
        day.answered += 1
        self.rate.record(True)
        if self.free > 0:
            self._connect(day)
            self.budget.record(True, False)
        else:
            self.waiting.append((call, self.now + AGENT_WAIT_S))
            self.push(self.now + AGENT_WAIT_S, "wait_over", call)

    def _no_answer(self, day: Day, call: int) -> None:
        self.in_flight -= 1
        self.rate.record(False)

    def _wait_over(self, day: Day, call: int) -> None:
        if self.waiting and self.waiting[0][0] == call:
            self.waiting.popleft()
            day.abandoned += 1
            self.budget.record(True, True)

    def _hangup(self, day: Day, call: int) -> None:
        self.talking -= 1
        heapq.heappush(self.wrapup_ends, self.now + self.wrapup)
        self.push(self.now + self.wrapup, "agent_free")

    def _agent_free(self, day: Day, call: int) -> None:
        heapq.heappop(self.wrapup_ends)
        self.free += 1
        if self.waiting:
            self.waiting.popleft()
            self._connect(day)
            self.budget.record(True, False)

    def _connect(self, day: Day) -> None:
        self.free -= 1
        self.talking += 1
        day.connected += 1
        talk = self.rng.expovariate(1 / self.aht)
        day.busy_s += talk + self.wrapup
        self.push(self.now + talk, "hangup")

    # --- the dialer ---------------------------------------------------------------------------------------

    def _decide(self, day: Day) -> None:
        self.decisions += 1
        free = self.free - len(self.waiting)
        if self.predictive:
            finishing = [1 - math.exp(-self.horizon / self.aht)] * self.talking
            finishing += [1.0 for end in self.wrapup_ends if end - self.now <= self.horizon]
            floor = Floor(max(free, 0), finishing, self.in_flight, self.rate.value)
            n = calls_to_place(floor, self.budget.target())
        else:
            n = max(0, free - self.in_flight)
        for _ in range(n):
            self._dial(day)

    def _dial(self, day: Day) -> None:
        day.dialed += 1
        self.in_flight += 1
        self.seq += 1
        call = self.seq
        if self.rng.random() < self.answer_rate:
            self.push(self.now + self.rng.uniform(*ANSWER_DELAY), "answer", call)
        else:
            self.push(self.now + RING_GIVE_UP_S, "no_answer", call)


def simulate(args: argparse.Namespace, predictive: bool) -> list[Day]:
    sim = Simulation(args.agents, args.answer_rate, args.aht, args.wrapup, args.hours * 3600, args.seed, predictive)
    return [sim.run_day() for _ in range(args.days)]


def summary(days: list[Day], agents: int, hours: float) -> dict[str, float]:
    busy = sum(d.busy_s for d in days)
    return {
        "max_daily_abandon_rate": round(max(d.abandon_rate() for d in days), 4),
        "occupancy": round(busy / (agents * hours * 3600 * len(days)), 4),
        "calls_per_agent_hour": round(sum(d.connected for d in days) / (agents * hours * len(days)), 2),
        "answered": sum(d.answered for d in days),
        "abandoned": sum(d.abandoned for d in days),
        "dialed": sum(d.dialed for d in days),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one 4-hour day")
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--answer-rate", type=float, default=0.2)
    parser.add_argument("--aht", type=float, default=180.0, help="mean talk time, seconds")
    parser.add_argument("--wrapup", type=float, default=10.0, help="seconds after each call")
    parser.add_argument("--hours", type=float, default=8.0, help="length of a calling day")
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.quick:
        args.days, args.hours = 1, 4.0
    print(f"dialer bench: {args.agents} agents, answer rate {args.answer_rate}, talk {args.aht:g} s + wrap-up "
          f"{args.wrapup:g} s, {args.days} day(s) of {args.hours:g} h, cap {CAP:.0%}", flush=True)  # fmt: skip
    results: dict[str, dict[str, float]] = {}
    for name, predictive in (("predictive", True), ("progressive", False)):
        started = time.perf_counter()
        days = simulate(args, predictive)
        results[name] = summary(days, args.agents, args.hours)
        rates = " ".join(f"{d.abandon_rate():.2%}" for d in days)
        print(f"  {name:<11} abandon per day {rates}; occupancy {results[name]['occupancy']:.1%}; "
              f"{results[name]['calls_per_agent_hour']:.2f} connected calls per agent-hour; "
              f"{time.perf_counter() - started:.1f} s to simulate", flush=True)  # fmt: skip
    ours, base = results["predictive"], results["progressive"]
    ratio = round(ours["occupancy"] / base["occupancy"], 2) if base["occupancy"] else None
    out: dict[str, object] = {
        "bench": "dialer",
        "max_daily_abandon_rate": ours["max_daily_abandon_rate"],
        "occupancy": ours["occupancy"],
        "calls_per_agent_hour": ours["calls_per_agent_hour"],
        "progressive_occupancy": base["occupancy"],
        "progressive_calls_per_agent_hour": base["calls_per_agent_hour"],
        "occupancy_ratio_vs_progressive": ratio,
        "goal_abandon_met": ours["max_daily_abandon_rate"] <= CAP,
        "goal_occupancy_met": ours["occupancy"] >= GOAL_OCCUPANCY,
        "agents": args.agents, "answer_rate": args.answer_rate, "aht_s": args.aht, "wrapup_s": args.wrapup,
        "days": args.days, "hours": args.hours, "seed": args.seed,
        "answered": ours["answered"], "abandoned": ours["abandoned"], "dialed": ours["dialed"],
    }  # fmt: skip
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
