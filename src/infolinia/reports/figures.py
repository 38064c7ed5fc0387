"""The contact KPIs of one interval (and one queue, agent or channel), pure: additive counts and sums the database
gives per 15-minute slot, merged per interval, and the rates and averages derived from them (docs/reports.md has
every definition)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

__all__ = ["COLUMNS", "KPIS", "Figures"]


@dataclass
class Figures:
    offered: int = 0
    answered: int = 0
    abandoned: int = 0  # short abandons included
    short_abandoned: int = 0
    answered_in_sl: int = 0
    wait_ms: int = 0  # of the answered contacts (every duration is summed in whole milliseconds)
    handled: int = 0  # answered and ended: those with a handle time
    talk_ms: int = 0
    hold_ms: int = 0
    wrap_ms: int = 0
    staffed_ms: int = 0  # agents' time in presence ready (only for the whole tenant or per agent)
    transferred: int = 0  # handed on by an agent (``Interaction.transferred_at`` set)

    def add(self, other: Figures) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    @property
    def service_level(self) -> float | None:
        """Answered within the queue's threshold, of the offered contacts that were not short abandons."""
        base = self.offered - self.short_abandoned
        return round(self.answered_in_sl / base, 4) if base > 0 else None

    @property
    def abandon_rate(self) -> float | None:
        """Abandoned (not short) of the offered contacts that were not short abandons."""
        base = self.offered - self.short_abandoned
        return round((self.abandoned - self.short_abandoned) / base, 4) if base > 0 else None

    @property
    def asa_s(self) -> float | None:
        return round(self.wait_ms / self.answered / 1000, 1) if self.answered else None

    @property
    def aht_s(self) -> float | None:
        return self._mean(self.talk_ms + self.hold_ms + self.wrap_ms)

    @property
    def occupancy(self) -> float | None:
        """Handle time of the contacts begun in the interval over the agents' staffed time in it."""
        handle = self.talk_ms + self.hold_ms + self.wrap_ms
        return round(handle / self.staffed_ms, 4) if self.staffed_ms else None

    @property
    def transfer_rate(self) -> float | None:
        """Transferred of the handled contacts."""
        return round(self.transferred / self.handled, 4) if self.handled else None

    def _mean(self, total_ms: int) -> float | None:
        return round(total_ms / self.handled / 1000, 1) if self.handled else None

    def to_json(self) -> dict[str, Any]:
        return {
            "offered": self.offered,
            "answered": self.answered,
            "abandoned": self.abandoned - self.short_abandoned,
            "short_abandoned": self.short_abandoned,
            "answered_in_sl": self.answered_in_sl,
            "service_level": self.service_level,
            "abandon_rate": self.abandon_rate,
            "asa_s": self.asa_s,
            "handled": self.handled,
            "aht_s": self.aht_s,
            "avg_talk_s": self._mean(self.talk_ms),
            "avg_hold_s": self._mean(self.hold_ms),
            "avg_wrap_s": self._mean(self.wrap_ms),
            "transfers": self.transferred,
            "transfer_rate": self.transfer_rate,
            "staffed_s": round(self.staffed_ms / 1000, 1),
            "occupancy": self.occupancy,
        }


#: the KPI columns of a report row, in order (after the interval and the group)
COLUMNS = tuple(Figures().to_json())
#: the KPIs a chart may show
KPIS = COLUMNS
