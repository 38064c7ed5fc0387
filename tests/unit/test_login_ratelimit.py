import pytest
from hypothesis import given
from hypothesis import strategies as st

from infolinia.auth.ratelimit import SlidingWindowLimiter


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make(limit: int = 5, window_s: float = 60.0, max_keys: int = 100) -> tuple[SlidingWindowLimiter, FakeClock]:
    clock = FakeClock()
    return SlidingWindowLimiter(limit, window_s, clock=clock, max_keys=max_keys), clock


def test_five_failures_block_the_sixth_attempt() -> None:
    limiter, clock = make()
    for _ in range(5):
        assert limiter.check("anna@example.com") == 0.0
        limiter.record("anna@example.com")
        clock.now += 1
    assert limiter.check("anna@example.com") == pytest.approx(55.0)  # first failure at 1000, now 1005
    assert limiter.check("other@example.com") == 0.0


def test_retry_after_counts_down_and_then_allows() -> None:
    limiter, clock = make()
    for _ in range(5):
        limiter.record("k")
    clock.now += 59.5
    assert limiter.check("k") == pytest.approx(0.5)
    clock.now += 0.5
    assert limiter.check("k") == 0.0


def test_window_slides() -> None:
    limiter, clock = make()
    for t in (0, 10, 20, 30, 40):
        clock.now = 1000.0 + t
        limiter.record("k")
    clock.now = 1050.0
    assert limiter.check("k") == pytest.approx(10.0)
    clock.now = 1060.0  # the failure at 1000 has left the window; four remain
    assert limiter.check("k") == 0.0
    limiter.record("k")
    assert limiter.check("k") == pytest.approx(10.0)  # now the one at 1010 is the oldest
    clock.now = 1070.0
    assert limiter.check("k") == 0.0


def test_fewer_failures_than_limit_are_allowed() -> None:
    limiter, _clock = make()
    for _ in range(4):
        limiter.record("k")
    assert limiter.check("k") == 0.0
    limiter.record("k")
    assert limiter.check("k") > 0


def test_reset_clears() -> None:
    limiter, _clock = make()
    for _ in range(5):
        limiter.record("k")
    assert limiter.check("k") > 0
    limiter.reset("k")
    assert limiter.check("k") == 0.0
    assert len(limiter) == 0
    limiter.reset("never-seen")  # no error


def test_more_failures_keep_the_block_going() -> None:
    limiter, clock = make(limit=3, window_s=10)
    for _ in range(20):
        limiter.record("k")
        clock.now += 1
    # failures at 1000..1019; the third newest is 1017, so the next attempt is allowed at 1027
    assert limiter.check("k") == pytest.approx(7.0)
    assert len(limiter._failures["k"]) <= 3


def test_expired_keys_are_dropped_on_check() -> None:
    limiter, clock = make()
    limiter.record("a")
    assert len(limiter) == 1
    clock.now += 60
    assert limiter.check("a") == 0.0
    assert len(limiter) == 0


def test_least_recently_used_keys_are_evicted() -> None:
    limiter, _clock = make(limit=1, max_keys=3)
    for key in "abc":
        limiter.record(key)
    assert limiter.check("a") > 0  # touches "a"
    limiter.record("d")  # evicts "b", the least recently used
    assert len(limiter) == 3
    assert limiter.check("b") == 0.0
    assert all(limiter.check(key) > 0 for key in "acd")


def test_recording_also_counts_as_use() -> None:
    limiter, _clock = make(limit=2, max_keys=3)
    for key in "abc":
        limiter.record(key)
    limiter.record("a")  # "a" is now the most recently used; "b" the least
    limiter.record("d")
    assert limiter.check("a") > 0  # both of a's failures survived
    assert "b" not in limiter._failures
    assert set(limiter._failures) == {"a", "c", "d"}


def test_memory_is_bounded() -> None:
    limiter, clock = make(limit=5, max_keys=1000)
    for i in range(10_000):
        limiter.record(f"user{i}@example.com")
        clock.now += 0.001
    assert len(limiter) == 1000
    assert limiter.check("user9999@example.com") == 0.0  # one failure only, under the limit
    assert limiter.check("user0@example.com") == 0.0
    assert "user0@example.com" not in limiter._failures


@pytest.mark.parametrize(("limit", "window_s", "max_keys"), [(0, 60.0, 10), (5, 0.0, 10), (5, -1.0, 10), (5, 60.0, 0)])
def test_invalid_arguments(limit: int, window_s: float, max_keys: int) -> None:
    with pytest.raises(ValueError):
        SlidingWindowLimiter(limit, window_s, max_keys=max_keys)


def test_default_clock_is_monotonic() -> None:
    limiter = SlidingWindowLimiter(1, 60.0)
    limiter.record("k")
    assert 0 < limiter.check("k") <= 60.0


# A reference model: every failure is remembered, and the rule is applied literally.
OPS = st.lists(
    st.tuples(st.sampled_from(["record", "check", "reset"]), st.sampled_from("abc"), st.integers(0, 30)),
    max_size=60,
)


@given(st.integers(1, 4), st.integers(1, 50), OPS)
def test_matches_reference_model(limit: int, window: int, ops: list[tuple[str, str, int]]) -> None:
    clock = FakeClock(0.0)
    limiter = SlidingWindowLimiter(limit, float(window), clock=clock)
    history: dict[str, list[float]] = {}
    for op, key, advance in ops:
        clock.now += advance
        recent = [t for t in history.get(key, []) if t > clock.now - window]
        if op == "record":
            limiter.record(key)
            history.setdefault(key, []).append(clock.now)
        elif op == "reset":
            limiter.reset(key)
            history.pop(key, None)
        else:
            expected = 0.0 if len(recent) < limit else recent[-limit] + window - clock.now
            assert limiter.check(key) == pytest.approx(expected)
