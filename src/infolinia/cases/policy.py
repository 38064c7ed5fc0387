"""A tenant's case policy, pure: the categories its cases are filed under and its escalation ladder.

JSON form (``tenants.case_policy``; ``{}`` is the defaults)::

    {"categories": ["question", "order_problem", "billing", "complaint"],
     "ladder": [{"name": "Front line"}, {"name": "Logistics", "team_id": 2}, {"name": "Duty manager", "team_id": 3}]}

A case starts on the ladder's first rung (tier 0, the front line) and each escalation moves it one rung up, to
that rung's team (``team_id``; none: the case keeps no team), with a reason. The defaults are the categories a
customer service office files under and three rungs without teams.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

DEFAULT_CATEGORIES = (
    "question", "order_problem", "service_activation", "service_change", "billing", "complaint", "return",
    "reservation",
)  # fmt: skip
PRIORITIES = ("low", "normal", "high", "urgent")
MAX_CATEGORIES = 50
MAX_RUNGS = 10
_CATEGORY = re.compile(r"[a-z][a-z0-9_]{0,39}")


class CasePolicyError(ValueError):
    """An invalid case policy; the message names the field."""


@dataclass(frozen=True)
class Rung:
    name: str
    team_id: int | None = None


@dataclass(frozen=True)
class CasePolicy:
    categories: tuple[str, ...] = DEFAULT_CATEGORIES
    ladder: tuple[Rung, ...] = field(
        default_factory=lambda: (Rung("Front line"), Rung("Back office"), Rung("Duty manager"))
    )

    @property
    def top(self) -> int:
        """The highest tier."""
        return len(self.ladder) - 1

    @classmethod
    def from_json(cls, obj: object) -> CasePolicy:
        if obj is None:
            return cls()
        if not isinstance(obj, Mapping):
            raise CasePolicyError("case_policy: expected an object")
        extra = sorted(str(key) for key in obj if key not in ("categories", "ladder"))
        if extra:
            raise CasePolicyError(f"case_policy: unknown field {extra[0]!r} (known: categories, ladder)")
        values: dict[str, Any] = {}
        if "categories" in obj:
            values["categories"] = _categories(obj["categories"])
        if "ladder" in obj:
            values["ladder"] = _ladder(obj["ladder"])
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        return {
            "categories": list(self.categories),
            "ladder": [{"name": rung.name, "team_id": rung.team_id} for rung in self.ladder],
        }

    def team_ids(self) -> set[int]:
        """The teams the ladder names (each must be one of the tenant's)."""
        return {rung.team_id for rung in self.ladder if rung.team_id is not None}


def _categories(raw: object) -> tuple[str, ...]:
    if not isinstance(raw, Sequence) or isinstance(raw, str | bytes) or not 1 <= len(raw) <= MAX_CATEGORIES:
        raise CasePolicyError(f"categories: expected a list of 1-{MAX_CATEGORIES} names")
    seen: list[str] = []
    for i, name in enumerate(raw):
        if not isinstance(name, str) or not _CATEGORY.fullmatch(name):
            raise CasePolicyError(
                f"categories[{i}]: {name!r} is not a category name (a-z, then a-z, 0-9 or _; up to 40)"
            )
        if name in seen:
            raise CasePolicyError(f"categories[{i}]: {name!r} is listed twice")
        seen.append(name)
    return tuple(seen)


def _ladder(raw: object) -> tuple[Rung, ...]:
    if not isinstance(raw, Sequence) or isinstance(raw, str | bytes) or not 1 <= len(raw) <= MAX_RUNGS:
        raise CasePolicyError(f"ladder: expected a list of 1-{MAX_RUNGS} rungs")
    rungs = []
    for i, item in enumerate(raw):
        if not isinstance(item, Mapping):
            raise CasePolicyError(f"ladder[{i}]: expected an object with name (and team_id)")
        extra = sorted(str(key) for key in item if key not in ("name", "team_id"))
        if extra:
            raise CasePolicyError(f"ladder[{i}]: unknown field {extra[0]!r} (known: name, team_id)")
        name = item.get("name")
        if not isinstance(name, str) or not 1 <= len(name.strip()) <= 60:
            raise CasePolicyError(f"ladder[{i}].name: expected 1-60 characters")
        team = item.get("team_id")
        if team is not None and (isinstance(team, bool) or not isinstance(team, int) or not 1 <= team < 2**31):
            raise CasePolicyError(f"ladder[{i}].team_id: expected a team id or null")
        rungs.append(Rung(name.strip(), team))
    return tuple(rungs)
