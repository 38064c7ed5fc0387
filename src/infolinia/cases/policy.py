"""A tenant's case policy, pure: the categories its cases are filed under and its escalation ladder.

JSON form (``tenants.case_policy``; ``{}`` is the defaults)::

    {"categories": ["question", "order_problem", "billing", "complaint"],
     "ladder": [{"name": "Front line"}, {"name": "Logistics", "team_id": 2, "queue_id": 5},
                {"name": "Duty manager", "team_id": 3}]}

A case starts on the ladder's first rung (tier 0, the front line) and each escalation moves it one rung up, to
that rung's team (``team_id``; none: the case keeps no team), with a reason; a rung with a ``queue_id`` puts
the case in that queue as a routing task, so the routing engine offers it to the rung's agents. The defaults are
the categories a customer service office files under and three rungs without teams.

``sla`` lists service-level rules; a new case takes the first whose ``category``, ``priority`` and
``customer_tier`` (each optional: any) match it, or none::

    {"sla": [{"category": "complaint", "first_response_minutes": 240, "resolution_days": 14},
             {"priority": "urgent", "first_response_minutes": 30, "resolution_minutes": 480},
             {"first_response_minutes": 480, "resolution_minutes": 2400}]}

Minutes are business time in the tenant's business hours (``around_the_clock``: calendar time), paused while the
case is pending the customer; ``resolution_days`` is a statutory deadline in calendar days (the end of that local
day), which nothing pauses. ``warn_percent`` (default 80) is when a warning goes out; on a breach the case climbs
one rung unless ``escalate_on_breach`` is false.
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
    queue_id: int | None = None  # a case on this rung waits in this queue as a routing task (channel ``case``)


@dataclass(frozen=True)
class SlaRule:
    category: str | None = None
    priority: str | None = None
    customer_tier: str | None = None
    first_response_minutes: int | None = None
    #: after the first response, each time the customer writes: until the next message to them
    next_response_minutes: int | None = None
    resolution_minutes: int | None = None
    resolution_days: int | None = None
    around_the_clock: bool = False
    warn_percent: int = 80
    escalate_on_breach: bool = True

    def matches(self, category: str, priority: str, customer_tier: str | None) -> bool:
        return (
            self.category in (None, category)
            and self.priority in (None, priority)
            and (self.customer_tier is None or self.customer_tier == customer_tier)
        )

    def to_json(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in _RULE_FIELDS}


_RULE_FIELDS = (
    "category", "priority", "customer_tier", "first_response_minutes", "next_response_minutes", "resolution_minutes",
    "resolution_days", "around_the_clock", "warn_percent", "escalate_on_breach",
)  # fmt: skip
MAX_RULES = 100
MAX_MINUTES = 365 * 24 * 60
MAX_DAYS = 366


@dataclass(frozen=True)
class CasePolicy:
    categories: tuple[str, ...] = DEFAULT_CATEGORIES
    ladder: tuple[Rung, ...] = field(
        default_factory=lambda: (Rung("Front line"), Rung("Back office"), Rung("Duty manager"))
    )
    sla: tuple[SlaRule, ...] = ()

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
        extra = sorted(str(key) for key in obj if key not in ("categories", "ladder", "sla"))
        if extra:
            raise CasePolicyError(f"case_policy: unknown field {extra[0]!r} (known: categories, ladder, sla)")
        values: dict[str, Any] = {}
        if "categories" in obj:
            values["categories"] = _categories(obj["categories"])
        if "ladder" in obj:
            values["ladder"] = _ladder(obj["ladder"])
        if "sla" in obj:
            values["sla"] = _rules(obj["sla"], values.get("categories", DEFAULT_CATEGORIES))
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        return {
            "categories": list(self.categories),
            "ladder": [{"name": rung.name, "team_id": rung.team_id, "queue_id": rung.queue_id} for rung in self.ladder],
            "sla": [rule.to_json() for rule in self.sla],
        }

    def sla_rule(self, category: str, priority: str, customer_tier: str | None) -> tuple[int, SlaRule] | None:
        """The first rule that matches a case (its index and the rule), or None."""
        for i, rule in enumerate(self.sla):
            if rule.matches(category, priority, customer_tier):
                return i, rule
        return None

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
        extra = sorted(str(key) for key in item if key not in ("name", "team_id", "queue_id"))
        if extra:
            raise CasePolicyError(f"ladder[{i}]: unknown field {extra[0]!r} (known: name, team_id, queue_id)")
        name = item.get("name")
        if not isinstance(name, str) or not 1 <= len(name.strip()) <= 60:
            raise CasePolicyError(f"ladder[{i}].name: expected 1-60 characters")
        ids = {}
        for key in ("team_id", "queue_id"):
            value = item.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 1 <= value < 2**31):
                raise CasePolicyError(f"ladder[{i}].{key}: expected an id or null")
            ids[key] = value
        rungs.append(Rung(name.strip(), **ids))
    return tuple(rungs)


def _rules(raw: object, categories: Sequence[str]) -> tuple[SlaRule, ...]:
    if not isinstance(raw, Sequence) or isinstance(raw, str | bytes) or len(raw) > MAX_RULES:
        raise CasePolicyError(f"sla: expected a list of at most {MAX_RULES} rules")
    return tuple(_rule(item, f"sla[{i}]", categories) for i, item in enumerate(raw))


def _rule(item: object, where: str, categories: Sequence[str]) -> SlaRule:
    if not isinstance(item, Mapping):
        raise CasePolicyError(f"{where}: expected an object")
    extra = sorted(str(key) for key in item if key not in _RULE_FIELDS)
    if extra:
        raise CasePolicyError(f"{where}: unknown field {extra[0]!r} (known: {', '.join(_RULE_FIELDS)})")
    values: dict[str, Any] = {}
    category = item.get("category")
    if category is not None and category not in categories:
        raise CasePolicyError(f"{where}.category: {category!r} is not one of the categories")
    priority = item.get("priority")
    if priority is not None and priority not in PRIORITIES:
        raise CasePolicyError(f"{where}.priority: expected one of {', '.join(PRIORITIES)}")
    tier = item.get("customer_tier")
    if tier is not None and (not isinstance(tier, str) or not 1 <= len(tier) <= 40):
        raise CasePolicyError(f"{where}.customer_tier: expected a tier name (1-40 characters)")
    values |= {"category": category, "priority": priority, "customer_tier": tier}
    for key, most in (("first_response_minutes", MAX_MINUTES), ("next_response_minutes", MAX_MINUTES),
                      ("resolution_minutes", MAX_MINUTES), ("resolution_days", MAX_DAYS),
                      ("warn_percent", 99)):  # fmt: skip
        value = item.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
            raise CasePolicyError(f"{where}.{key}: expected a whole number 1-{most}")
        values[key] = value
    if values.get("resolution_minutes") and values.get("resolution_days"):
        raise CasePolicyError(f"{where}: resolution_minutes or resolution_days, not both")
    targets = ("first_response_minutes", "next_response_minutes", "resolution_minutes", "resolution_days")
    if not any(values.get(key) for key in targets):
        raise CasePolicyError(f"{where}: sets no target ({', '.join(targets)})")
    for key in ("around_the_clock", "escalate_on_breach"):
        if key in item:
            if not isinstance(item[key], bool):
                raise CasePolicyError(f"{where}.{key}: expected true or false")
            values[key] = item[key]
    return SlaRule(**values)
