"""The random parts of a simulated center: handle times, patience and arrivals, drawn with numpy in bulk."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
MAX_CV = 100.0  # a lognormal's standard deviation over its mean, at most (beyond it the draws lose all precision)


class SimulationError(ValueError):
    """A center description the simulation cannot run (a bad distribution, sizes that do not match, a cap)."""


@dataclass(frozen=True)
class HandleTime:
    """How long a contact takes, in seconds: ``exponential`` (mean), ``lognormal`` (mean and standard deviation) or
    ``empirical`` (resampled with replacement from ``samples``, e.g. the handle times of past contacts)."""

    kind: Literal["exponential", "lognormal", "empirical"] = "exponential"
    mean_s: float = 180.0
    sd_s: float = 0.0
    samples: tuple[float, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        if self.kind == "empirical":
            if not self.samples or any(not math.isfinite(s) or s < 0 for s in self.samples):
                raise SimulationError("an empirical handle time needs samples: finite seconds, none negative")
        elif not (math.isfinite(self.mean_s) and self.mean_s > 0):
            raise SimulationError("a handle time's mean must be a positive number of seconds")
        if self.kind == "lognormal" and not (math.isfinite(self.sd_s) and 0 < self.sd_s <= MAX_CV * self.mean_s):
            raise SimulationError(
                f"a lognormal handle time needs a standard deviation above 0, at most {MAX_CV}x its mean"
            )

    @property
    def mean(self) -> float:
        return float(np.mean(self.samples)) if self.kind == "empirical" else self.mean_s

    def draw(self, rng: np.random.Generator, n: int) -> Floats:
        if self.kind == "exponential":
            return rng.exponential(self.mean_s, n)
        if self.kind == "lognormal":
            sigma2 = math.log1p((self.sd_s / self.mean_s) ** 2)
            mu = math.log(self.mean_s) - sigma2 / 2
            return rng.lognormal(mu, math.sqrt(sigma2), n)
        return rng.choice(np.asarray(self.samples, dtype=np.float64), n)


def patience(rng: np.random.Generator, mean_s: float | None, n: int) -> Floats:
    """Exponential patience with mean ``mean_s`` (None: callers wait as long as it takes)."""
    if mean_s is None:
        return np.full(n, np.inf)
    return rng.exponential(mean_s, n)


def arrivals(rng: np.random.Generator, per_interval: Sequence[float], interval_s: float) -> Floats:
    """Arrival times of a non-homogeneous Poisson process whose rate is constant within each interval
    (``per_interval[i]`` contacts expected in interval i): a Poisson count per interval, spread uniformly in it."""
    expected = np.asarray(per_interval, dtype=np.float64)
    counts = rng.poisson(expected)
    starts = np.repeat(np.arange(len(expected), dtype=np.float64) * interval_s, counts)
    times = starts + rng.random(int(counts.sum())) * interval_s
    times.sort(kind="stable")
    return times
