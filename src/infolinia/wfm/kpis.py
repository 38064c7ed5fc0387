"""The figures a simulation reports, defined as the routing engine's queue statistics define them
(``Engine.queue_stats``): a contact belongs to the interval it arrived in; abandons quicker than ``short_abandon_s``
do not count against the service level; callers who asked to be called back count as neither answered nor
abandoned."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]


@dataclass
class Kpis:
    """Sums over a set of contacts (and agent time); the rates are derived from them, so sets add up exactly."""

    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    abandoned_short: int = 0
    answered_in_sl: int = 0
    wait_sum_s: float = 0.0  # of answered contacts
    handle_sum_s: float = 0.0  # of answered contacts and served callbacks
    handled: int = 0  # answered contacts and served callbacks
    callbacks_requested: int = 0
    callbacks_served: int = 0
    callback_delay_sum_s: float = 0.0  # from the request to the agent calling back
    busy_s: float = 0.0  # agent-seconds spent handling
    staffed_s: float = 0.0  # agent-seconds on duty

    def __add__(self, other: Kpis) -> Kpis:
        return Kpis(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    @staticmethod
    def total(parts: Iterable[Kpis]) -> Kpis:
        out = Kpis()
        for part in parts:
            out = out + part
        return out

    @property
    def service_level(self) -> float | None:
        counted = self.answered + self.abandoned - self.abandoned_short
        return self.answered_in_sl / counted if counted else None

    @property
    def asa_s(self) -> float | None:
        return self.wait_sum_s / self.answered if self.answered else None

    @property
    def aht_s(self) -> float | None:
        return self.handle_sum_s / self.handled if self.handled else None

    @property
    def occupancy(self) -> float | None:
        return self.busy_s / self.staffed_s if self.staffed_s else None

    @property
    def p_abandon(self) -> float | None:
        return self.abandoned / self.offered if self.offered else None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        for name in ("service_level", "asa_s", "aht_s", "occupancy", "p_abandon"):
            out[name] = getattr(self, name)
        return out


_INTS = frozenset({"offered", "answered", "abandoned", "abandoned_short", "answered_in_sl", "handled",
                   "callbacks_requested", "callbacks_served"})  # fmt: skip


def from_columns(columns: Mapping[str, npt.NDArray[Any]], n: int) -> list[Kpis]:
    """One ``Kpis`` per interval from per-interval arrays named after its fields (missing ones stay 0)."""
    out = []
    for i in range(n):
        values: dict[str, Any] = {
            name: int(col[i]) if name in _INTS else float(col[i]) for name, col in columns.items()
        }
        out.append(Kpis(**values))
    return out


def busy_per_interval(starts: Floats, ends: Floats, interval_s: float, n: int) -> Floats:
    """Agent-seconds of handling that fall in each of ``n`` intervals, from the handling periods [start, end)."""
    bounds = np.arange(n + 1, dtype=np.float64) * interval_s
    return np.diff(_time_before(np.sort(starts), bounds) - _time_before(np.sort(ends), bounds))


def _time_before(points: Floats, bounds: Floats) -> Floats:
    """For each bound b: the sum over points p < b of (b - p)."""
    cum = np.concatenate(([0.0], np.cumsum(points)))
    k = np.searchsorted(points, bounds, side="left")
    return np.asarray(k * bounds - cum[k], dtype=np.float64)
