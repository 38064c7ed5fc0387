"""Brute-force protection: a sliding-window counter of failed attempts per key (e.g. e-mail or IP).

In-process and not thread-safe; meant for use from one event loop.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable

__all__ = ["SlidingWindowLimiter"]


class SlidingWindowLimiter:
    """Allow at most ``limit`` failed attempts per key within any ``window_s`` seconds.

    Each key keeps at most ``limit`` timestamps; at most ``max_keys`` keys are kept, the least recently
    used being forgotten first.
    """

    def __init__(
        self,
        limit: int,
        window_s: float,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        if window_s <= 0:
            raise ValueError("window_s must be positive")
        if max_keys < 1:
            raise ValueError("max_keys must be at least 1")
        self.limit = limit
        self.window_s = window_s
        self.max_keys = max_keys
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def __len__(self) -> int:
        """The number of keys currently tracked."""
        return len(self._failures)

    def check(self, key: str) -> float:
        """0.0 if an attempt for ``key`` is allowed now, else the seconds until it will be."""
        failures = self._failures.get(key)
        if failures is None:
            return 0.0
        now = self._clock()
        self._prune(failures, now)
        if not failures:
            del self._failures[key]
            return 0.0
        self._failures.move_to_end(key)
        if len(failures) < self.limit:
            return 0.0
        return max(failures[0] + self.window_s - now, 0.0)

    def record(self, key: str) -> None:
        """Record a failed attempt for ``key``."""
        now = self._clock()
        failures = self._failures.get(key)
        if failures is None:
            failures = self._failures[key] = deque(maxlen=self.limit)
        else:
            self._prune(failures, now)
            self._failures.move_to_end(key)
        failures.append(now)
        while len(self._failures) > self.max_keys:
            self._failures.popitem(last=False)

    def reset(self, key: str) -> None:
        """Forget ``key``'s failures (after a successful login)."""
        self._failures.pop(key, None)

    def _prune(self, failures: deque[float], now: float) -> None:
        while failures and failures[0] <= now - self.window_s:
            failures.popleft()
