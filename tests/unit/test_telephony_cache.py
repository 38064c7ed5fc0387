"""The call control's cache: entries expire, the least recently used goes first, and a lookup that began before an
invalidation cannot store what it read."""

from __future__ import annotations

from infolinia.voice.telephony.cache import TtlCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_entries_expire_after_their_time_to_live() -> None:
    clock = Clock()
    cache: TtlCache[str, int | None] = TtlCache(30.0, 10, clock)
    cache.put("a", None, cache.generation)  # "no such number" is an answer worth keeping too
    clock.now += 29.9
    hit = cache.get("a")
    assert hit is not None and hit.value is None
    clock.now += 0.1
    assert cache.get("a") is None and len(cache) == 0


def test_the_least_recently_used_entry_goes_first() -> None:
    cache: TtlCache[str, int] = TtlCache(30.0, 2, Clock())
    cache.put("a", 1, cache.generation)
    cache.put("b", 2, cache.generation)
    assert cache.get("a") is not None  # used: "b" is now the oldest
    cache.put("c", 3, cache.generation)
    assert cache.get("b") is None and cache.get("a") is not None and cache.get("c") is not None
    assert len(cache) == 2


def test_a_lookup_older_than_an_invalidation_is_not_kept() -> None:
    cache: TtlCache[str, int] = TtlCache(30.0, 10, Clock())
    started = cache.generation
    cache.invalidate("other")  # a change committed while the lookup was reading
    cache.put("a", 1, started)
    assert cache.get("a") is None
    cache.put("a", 2, cache.generation)
    hit = cache.get("a")
    assert hit is not None and hit.value == 2


def test_invalidate_one_key_or_all() -> None:
    cache: TtlCache[int, str] = TtlCache(30.0, 10, Clock())
    for key in (1, 2, 3):
        cache.put(key, str(key), cache.generation)
    cache.invalidate(2)
    assert [cache.get(k) is not None for k in (1, 2, 3)] == [True, False, True]
    cache.invalidate()
    assert len(cache) == 0
