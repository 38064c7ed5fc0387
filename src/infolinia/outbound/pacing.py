"""Predictive dialing, pure: how many calls to place now so that answered calls find an agent, under a cap on
abandoned calls (answered, and no agent within 2 s).

A campaign dials many numbers that will not answer (at a 20 % answer rate, four of five). Dialing one number per
free agent (progressive) keeps agents waiting through all the unanswered rings; dialing more risks that more people
answer than there are agents. ``calls_to_place`` chooses the largest number of new calls for which the expected
share of answered calls left without an agent stays within ``target``:

    A ~ Binomial(in_flight + n, p)      the calls that will answer (p: the answer rate, estimated)
    F = free + sum(finishing)           the agents free by the time they answer (each busy agent with its
                                        probability of finishing within the ring time)
    E[max(0, A - F)] <= target * E[A]

``AbandonBudget`` sets ``target`` from what the day has used of the cap (default 3 % of answered calls per day
and over 30 days): most of it while there is room, little near the cap, none (one call per free agent, which
abandons nobody) once it is reached. ``AnswerRate`` estimates p from the campaign's own recent outcomes.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.special import gammaln

__all__ = ["AbandonBudget", "AnswerRate", "Floor", "calls_to_place", "expected_abandons"]

DEFAULT_CAP = 0.03
_MAX_PER_DECISION = 500


@dataclass(frozen=True)
class Floor:
    """What the pacer knows at a decision: agents free now, each busy agent's chance of being free by the time
    a call placed now answers, the calls ringing, and the answer rate."""

    free: int
    finishing: Sequence[float] = ()
    in_flight: int = 0
    answer_rate: float = 0.2

    @property
    def agents_soon(self) -> float:
        return self.free + sum(self.finishing)


def expected_abandons(calls: int, p: float, agents: float) -> float:
    """E[max(0, A - agents)] for A ~ Binomial(calls, p) (exact, in log space: stable for thousands of calls)."""
    if calls <= agents:
        return 0.0
    p = min(max(p, 1e-9), 1 - 1e-9)
    k = np.arange(math.floor(agents) + 1, calls + 1, dtype=np.float64)
    log_pmf = (
        gammaln(calls + 1) - gammaln(k + 1) - gammaln(calls - k + 1) + k * math.log(p) + (calls - k) * math.log1p(-p)
    )
    return float(np.sum(np.exp(log_pmf) * (k - agents)))


def _within(floor: Floor, n: int, p: float, target: float) -> bool:
    calls = floor.in_flight + n
    return expected_abandons(calls, p, floor.agents_soon) <= target * calls * p


def calls_to_place(floor: Floor, target: float) -> int:
    """New calls to place now (0 or more). ``target`` 0: never more calls than agents free (progressive)."""
    if target <= 0:
        return max(0, floor.free - floor.in_flight)
    if floor.free <= 0 and not floor.finishing:
        return 0
    p = min(max(floor.answer_rate, 0.01), 1.0)
    if not _within(floor, 1, p, target):
        return 0
    low, high = 1, _MAX_PER_DECISION  # the expected abandoned share grows with n: the largest n within target
    if _within(floor, high, p, target):
        return high
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if _within(floor, middle, p, target) else (low, middle)
    return low


@dataclass
class AbandonBudget:
    """The cap on abandoned calls (abandoned / answered) per day and over the last 30 days, and the target it
    leaves for the next decision."""

    cap: float = DEFAULT_CAP
    answered: int = 0
    abandoned: int = 0
    history: deque[tuple[int, int]] = field(default_factory=lambda: deque(maxlen=29))  # earlier days

    def record(self, answered: bool, abandoned: bool) -> None:
        self.answered += answered
        self.abandoned += abandoned

    def new_day(self) -> None:
        self.history.append((self.answered, self.abandoned))
        self.answered = self.abandoned = 0

    @property
    def rate_today(self) -> float:
        return self.abandoned / self.answered if self.answered else 0.0

    @property
    def rate_30_days(self) -> float:
        answered = self.answered + sum(a for a, _ in self.history)
        abandoned = self.abandoned + sum(b for _, b in self.history)
        return abandoned / answered if answered else 0.0

    def target(self) -> float:
        """The share of answered calls the next decision may expect to abandon: half the cap while the day (and
        the 30 days) are well within it, shrinking to nothing as the rate nears the cap. Early in a day a few
        abandons are a large share: the rate is counted as if 20 more calls had been answered without one, so
        the first decisions are not frozen by a single early abandon, and the end of day still lands under the
        cap."""
        smoothed = self.abandoned / (self.answered + 20)
        rate = max(smoothed, self.rate_30_days)
        room = 1.0 - rate / (0.8 * self.cap)
        return 0.0 if room <= 0 else 0.5 * self.cap * min(1.0, room)


@dataclass
class AnswerRate:
    """The answer rate over the campaign's last ``window`` finished dials, starting from ``prior`` (as if
    ``weight`` dials had answered at that rate)."""

    prior: float = 0.2
    weight: int = 20
    window: int = 300
    outcomes: deque[bool] = field(default_factory=deque)

    def record(self, answered: bool) -> None:
        self.outcomes.append(answered)
        if len(self.outcomes) > self.window:
            self.outcomes.popleft()

    @property
    def value(self) -> float:
        return (sum(self.outcomes) + self.prior * self.weight) / (len(self.outcomes) + self.weight)
