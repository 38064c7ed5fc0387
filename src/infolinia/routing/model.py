"""What the routing engine works with: tasks, agents, queues, and the events it records."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


class Channel(enum.StrEnum):
    VOICE = "voice"
    CALLBACK = "callback"
    CHAT = "chat"
    EMAIL = "email"
    CASE = "case"


#: channels that take the whole agent (a call), when the agent is voice-exclusive
EXCLUSIVE = frozenset({Channel.VOICE, Channel.CALLBACK})
#: channels whose contact hangs up when nobody can take it (the others wait for the next opening)
LIVE = frozenset({Channel.VOICE, Channel.CHAT})


class Presence(enum.StrEnum):
    """What the agent chose (or the engine set, for wrap-up and missed offers)."""

    OFFLINE = "offline"
    READY = "ready"
    BREAK = "break"
    WRAPUP = "wrapup"


class AgentState(enum.StrEnum):
    """What a supervisor sees: presence combined with the agent's work."""

    OFFLINE = "offline"
    AVAILABLE = "available"
    RESERVED = "reserved"
    BUSY = "busy"
    WRAPUP = "wrapup"
    BREAK = "break"


class TaskState(enum.StrEnum):
    SCHEDULED = "scheduled"  # "not before" is in the future
    WAITING = "waiting"
    RESERVED = "reserved"  # offered to an agent, not yet accepted
    ASSIGNED = "assigned"
    DONE = "done"  # completed, abandoned or exited: no longer in the engine


class Strategy(enum.StrEnum):
    LONGEST_IDLE = "longest_idle"
    MOST_SKILLED = "most_skilled"
    LEAST_OCCUPIED = "least_occupied"
    ROUND_ROBIN = "round_robin"


@dataclass(frozen=True, slots=True, eq=False)
class Requirement:
    """What a task needs from an agent. Tasks with equal requirements form one class inside a queue.
    ``of`` hands out one shared instance per distinct requirement, and the hash is computed once: requirements
    key the dictionaries looked up on every routing decision. ``mask`` has one bit per (skill, minimum level) and
    one for the language (see ``abilities``): an agent qualifies when its abilities include every bit."""

    channel: Channel
    skills: tuple[tuple[str, int], ...] = ()  # (skill, minimum level), sorted by skill
    language: str | None = None
    _hash: int = field(init=False, repr=False, compare=False, default=0)
    mask: int = field(init=False, repr=False, compare=False, default=0)

    @classmethod
    def of(cls, channel: Channel, skills: Mapping[str, int], language: str | None) -> Requirement:
        quick = (channel, tuple(skills.items()), language)  # as given: most tasks repeat an earlier form
        found = _AS_GIVEN.get(quick)
        if found is None:
            found = _AS_GIVEN[quick] = cls._of(channel, skills, language)
        return found

    @classmethod
    def _of(cls, channel: Channel, skills: Mapping[str, int], language: str | None) -> Requirement:
        if any(level > MAX_LEVEL for level in skills.values()):
            raise ValueError(f"skill levels go from 1 to {MAX_LEVEL}")
        ident = (channel, tuple(sorted((k, v) for k, v in skills.items() if v > 0)), language)
        found = _REQUIREMENTS.get(ident)
        if found is None:
            found = _REQUIREMENTS[ident] = cls(*ident)
        return found

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if not isinstance(other, Requirement):
            return NotImplemented
        return (self.channel, self.skills, self.language) == (other.channel, other.skills, other.language)

    def __hash__(self) -> int:
        return self._hash

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash((self.channel, self.skills, self.language)))
        mask = 0 if self.language is None else 1 << _bit(f"language:{self.language}", 1)
        for name, level in self.skills:
            mask |= 1 << (_bit(f"skill:{name}", MAX_LEVEL) + level - 1)
        object.__setattr__(self, "mask", mask)

    def met_by(self, skills: Mapping[str, int], languages: frozenset[str]) -> bool:
        if self.language is not None and self.language not in languages:
            return False
        return all(skills.get(name, 0) >= level for name, level in self.skills)

    def widened(self, levels: Mapping[str, int], drop_language: bool) -> Requirement:
        """The requirement relaxed: listed skills lowered to the given level (0 drops them), maybe any language.
        Widening never adds a skill or raises a level."""
        lowered = {name: min(level, levels.get(name, level)) for name, level in self.skills}
        return Requirement.of(self.channel, lowered, None if drop_language else self.language)


MAX_LEVEL = 10
_BITS: dict[str, int] = {}  # "skill:<name>" -> first of MAX_LEVEL bits; "language:<code>" -> its bit


def _bit(feature: str, width: int) -> int:
    first = _BITS.get(feature)
    if first is None:
        first = _BITS[feature] = _BITS.get("", 0)
        _BITS[""] = first + width
    return first


def abilities(skills: Mapping[str, int], languages: frozenset[str]) -> int:
    """An agent's skills and languages as bits: level L of a skill sets the bits of levels 1..L (higher levels
    count as the top level), so ``req.mask & abilities == req.mask`` exactly when the agent meets ``req``."""
    bits = 0
    for name, level in skills.items():
        if level > 0:
            bits |= ((1 << min(level, MAX_LEVEL)) - 1) << _bit(f"skill:{name}", MAX_LEVEL)
    for code in languages:
        bits |= 1 << _bit(f"language:{code}", 1)
    return bits


_REQUIREMENTS: dict[tuple[Channel, tuple[tuple[str, int], ...], str | None], Requirement] = {}
_AS_GIVEN: dict[tuple[Channel, tuple[tuple[str, int], ...], str | None], Requirement] = {}


@dataclass(frozen=True, slots=True)
class TaskSpec:
    id: int
    tenant_id: int
    queue_id: int
    channel: Channel
    enqueued_at: float
    skills: Mapping[str, int] = field(default_factory=dict)
    language: str | None = None
    priority: int = 0
    preferred_agent: int | None = None
    preferred_until: float | None = None  # after this the task goes to anyone eligible
    not_before: float | None = None


@dataclass(frozen=True, slots=True)
class OverflowStep:
    """After ``after_s`` seconds in the queue: lower or drop skill levels, accept any language, or move queue."""

    after_s: float
    levels: Mapping[str, int] = field(default_factory=dict)
    any_language: bool = False
    to_queue: int | None = None


@dataclass(frozen=True, slots=True)
class QueueSpec:
    id: int
    tenant_id: int
    name: str = ""
    sl_target: float = 0.8  # fraction of contacts ...
    sl_seconds: float = 20.0  # ... answered within this many seconds
    strategy: Strategy = Strategy.LONGEST_IDLE
    aging_s: float | None = None  # seconds of waiting worth one priority point (None: no aging)
    overflow: tuple[OverflowStep, ...] = ()
    max_wait_s: float | None = None
    max_wait_action: str = "voicemail"
    closed_action: str = "closed"
    offer_timeout_s: float = 15.0
    missed_offer_presence: Presence = Presence.BREAK  # or READY
    wrapup_s: float = 0.0  # after a call (voice, callback); 0: none
    short_abandon_s: float = 5.0  # abandons quicker than this do not count against the service level
    default_handle_s: float = 180.0  # handle time assumed before any contact was handled
    is_open: Callable[[float], bool] | None = None  # business hours; None: always open


@dataclass(frozen=True, slots=True)
class AgentSpec:
    id: int
    tenant_id: int
    skills: Mapping[str, int] = field(default_factory=dict)
    languages: frozenset[str] = frozenset()
    queues: frozenset[int] = frozenset()
    capacity: Mapping[Channel, int] = field(
        default_factory=lambda: {
            Channel.VOICE: 1,
            Channel.CALLBACK: 1,
            Channel.CHAT: 3,
            Channel.EMAIL: 5,
            Channel.CASE: 5,
        }
    )
    voice_exclusive: bool = True


@dataclass(slots=True)
class Event:
    """One entry of the engine's log: a decision or a state change, with its reason."""

    at: float
    kind: str
    task: int | None = None
    agent: int | None = None
    queue: int | None = None
    reason: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)
