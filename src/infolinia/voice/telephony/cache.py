"""A small in-memory cache with a time to live, a size bound and generations, for the call control's lookups.

``invalidate`` (any key, or all) starts a new generation; a lookup that began before it cannot store what it read
(``put`` with the generation it started in is ignored), so a result read before a change never outlives the change.
The time to live bounds how long a change made by another process (sharing the database) goes unseen.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["Cached", "TtlCache"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class Cached(Generic[V]):
    value: V
    expires: float


class TtlCache(Generic[K, V]):
    def __init__(self, ttl_s: float, max_entries: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.clock = clock
        self.generation = 0
        self._entries: OrderedDict[K, Cached[V]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K) -> Cached[V] | None:
        """The entry for ``key`` unless it expired (a hit counts as recent use)."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires <= self.clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry

    def put(self, key: K, value: V, generation: int) -> None:
        """Keep ``value`` if no invalidation happened since ``generation`` was read; drop the least recently used
        entry when full."""
        if generation != self.generation:
            return
        self._entries[key] = Cached(value, self.clock() + self.ttl_s)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def invalidate(self, key: K | None = None) -> None:
        """Forget ``key``, or everything when None."""
        self.generation += 1
        if key is None:
            self._entries.clear()
        else:
            self._entries.pop(key, None)
