"""Service-level compliance of many cases, pure: from each case's service-level view (``service_levels.view``),
per target, how many were met, missed, breached while still open, and are still running; the rate is met over
the decided ones (met + missed + breached), so a case still within its target counts for nothing yet.
Next-response targets count their rounds (each case's ``next_response_rounds``) besides the current one."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from infolinia.cases.service_levels import METRICS


@dataclass
class Tally:
    met: int = 0
    missed: int = 0
    breached: int = 0  # over the target and not yet answered or resolved: already a miss
    running: int = 0  # within the target so far (running, warning or paused)

    def add(self, state: str) -> None:
        if state == "met":
            self.met += 1
        elif state == "missed":
            self.missed += 1
        elif state == "breached":
            self.breached += 1
        else:
            self.running += 1

    @property
    def rate(self) -> float | None:
        decided = self.met + self.missed + self.breached
        return None if decided == 0 else round(self.met / decided, 4)

    def to_json(self) -> dict[str, Any]:
        return {"met": self.met, "missed": self.missed, "breached": self.breached, "running": self.running,
                "rate": self.rate}  # fmt: skip


@dataclass
class Compliance:
    cases: int = 0
    with_targets: int = 0
    targets: dict[str, Tally] = field(default_factory=dict)

    def add(self, view: Mapping[str, Any] | None) -> None:
        self.cases += 1
        if not view:
            return
        self.with_targets += 1
        for metric in METRICS:
            if metric not in view:
                continue
            tally = self.targets.setdefault(metric, Tally())
            if metric == "next_response":
                rounds = view.get("next_response_rounds", {})
                tally.met += int(rounds.get("met", 0))
                tally.missed += int(rounds.get("missed", 0))
                if view[metric]["state"] in ("met", "missed"):
                    continue  # the finished round is counted in the rounds already
            tally.add(view[metric]["state"])

    def to_json(self) -> dict[str, Any]:
        return {"cases": self.cases, "with_targets": self.with_targets,
                "targets": {m: t.to_json() for m, t in self.targets.items()}}  # fmt: skip


def compliance(views: Iterable[tuple[str, Mapping[str, Any] | None]]) -> dict[str, Any]:
    """Over ``(category, view)`` pairs: the whole and per category."""
    whole, by_category = Compliance(), dict[str, Compliance]()
    for category, view in views:
        whole.add(view)
        by_category.setdefault(category, Compliance()).add(view)
    return whole.to_json() | {"by_category": {c: v.to_json() for c, v in sorted(by_category.items())}}
