"""The routing engine (ACD): which waiting contact goes to which agent, now. Pure: no I/O, time is passed in."""

from infolinia.routing.engine import Engine, RoutingError
from infolinia.routing.model import (
    AgentSpec,
    AgentState,
    Channel,
    Event,
    OverflowStep,
    Presence,
    QueueSpec,
    Requirement,
    Strategy,
    TaskSpec,
    TaskState,
)

__all__ = [
    "AgentSpec",
    "AgentState",
    "Channel",
    "Engine",
    "Event",
    "OverflowStep",
    "Presence",
    "QueueSpec",
    "Requirement",
    "RoutingError",
    "Strategy",
    "TaskSpec",
    "TaskState",
]
