"""Small graph helpers shared by the validators of IVR flows and agent scripts (pure)."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping


def reachable(sources: Iterable[str], edges: Mapping[str, list[str]]) -> set[str]:
    """Every node reachable from ``sources`` (themselves included) along ``edges``."""
    seen = set(sources)
    todo = deque(seen)
    while todo:
        for target in edges[todo.popleft()]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen
