"""The center simulation against queueing theory (Erlang C, Erlang A) with confidence intervals from independent
replications, the two engines against each other, and the model's rules (staffing, callbacks, caps)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from infolinia.routing.model import Strategy
from infolinia.wfm.distributions import HandleTime, SimulationError
from infolinia.wfm.kpis import Kpis
from infolinia.wfm.multiskill import AgentGroup, MultiSkillCenter, QueueModel, simulate_multi
from infolinia.wfm.simulate import SimulationTooLong, SingleSkillCenter, simulate_single

# --- independent references -------------------------------------------------------------------------------------


def erlang_c(c: int, a: float) -> float:
    """Probability of waiting in M/M/c with offered load ``a`` Erlang (textbook formula)."""
    total, term = 1.0, 1.0
    for k in range(1, c):
        term *= a / k
        total += term
    top = term * a / c * c / (c - a)
    return top / (total + top)


def erlang_a(c: int, lam: float, mu: float, theta: float, cap: int = 2000) -> dict[str, float]:
    """M/M/c+M (Palm's Erlang A) from its birth-death chain: stationary distribution of the number in system,
    truncated far in the tail. Arrivals see time averages (PASTA)."""
    death = [min(k, c) * mu + max(k - c, 0) * theta for k in range(1, c + cap)]
    p = [1.0]
    for d in death:
        p.append(p[-1] * lam / d)
    pi = np.asarray(p) / sum(p)
    queue_len = sum(max(k - c, 0) * pi[k] for k in range(len(pi)))
    return {
        "p_wait": float(pi[c:].sum()),
        "p_abandon": theta * queue_len / lam,
        "mean_time_in_queue": queue_len / lam,  # of every arrival: until answered or gone
    }


def replicate(values: list[float], level: float = 0.999) -> tuple[float, float]:
    """A ``level`` confidence interval for the mean of independent replications (Student t)."""
    arr = np.asarray(values)
    half = stats.t.ppf(0.5 + level / 2, len(arr) - 1) * arr.std(ddof=1) / math.sqrt(len(arr))
    return float(arr.mean() - half), float(arr.mean() + half)


WARMUP = 4  # intervals left out of each replication: the center starts empty, Erlang's formulas are steady state
REPLICATIONS = 30


def steady(kpis: list[Kpis]) -> Kpis:
    return Kpis.total(kpis[WARMUP:])


# --- Erlang C ---------------------------------------------------------------------------------------------------

ERLANG_C_CENTER = SingleSkillCenter(
    calls=(100.0,) * 100, agents=(12,) * 100, handle=HandleTime("exponential", 180.0), short_abandon_s=0.0
)


def test_erlang_c_agrees_within_the_confidence_interval() -> None:
    c, lam, mu, t = 12, 100.0 / 1800, 1 / 180, 20.0
    a = lam / mu
    prob = erlang_c(c, a)
    expected = {"asa": prob / (c * mu - lam), "sl": 1 - prob * math.exp(-(c * mu - lam) * t), "occupancy": a / c}
    got: dict[str, list[float]] = {"asa": [], "sl": [], "occupancy": [], "p_wait": []}
    for seed in range(REPLICATIONS):
        result = simulate_single(ERLANG_C_CENTER, seed, keep_calls=True)
        k = steady(result.intervals)
        got["asa"].append(k.asa_s or 0.0)
        got["sl"].append(k.service_level or 0.0)
        got["occupancy"].append(k.occupancy or 0.0)
        assert result.calls is not None
        after = result.calls.arrival >= WARMUP * 1800
        got["p_wait"].append(float(np.mean(result.calls.wait[after] > 0)))
    expected["p_wait"] = prob
    for name, value in expected.items():
        low, high = replicate(got[name])
        assert low <= value <= high, (name, value, low, high)
    # the intervals are narrow enough to tell one agent more or less
    low, high = replicate(got["asa"])
    assert not low <= erlang_c(c + 1, a) / ((c + 1) * mu - lam) <= high
    assert not low <= erlang_c(c - 1, a) / ((c - 1) * mu - lam) <= high


def test_erlang_c_through_the_routing_engine() -> None:
    center = MultiSkillCenter.from_single(
        SingleSkillCenter(calls=(100.0,) * 40, agents=(12,) * 40, handle=HandleTime("exponential", 180.0))
    )
    c, lam, mu = 12, 100.0 / 1800, 1 / 180
    expected = erlang_c(c, lam / mu) / (c * mu - lam)
    asa = [steady(simulate_multi(center, seed).intervals).asa_s or 0.0 for seed in range(REPLICATIONS)]
    low, high = replicate(asa)
    assert low <= expected <= high


# --- Erlang A ---------------------------------------------------------------------------------------------------


def test_erlang_a_agrees_within_the_confidence_interval() -> None:
    c, lam, mu, theta = 10, 100.0 / 1800, 1 / 180, 1 / 120
    center = SingleSkillCenter(calls=(100.0,) * 100, agents=(c,) * 100, handle=HandleTime("exponential", 180.0),
                               patience_s=120.0, short_abandon_s=0.0)  # fmt: skip
    expected = erlang_a(c, lam, mu, theta)
    got: dict[str, list[float]] = {name: [] for name in expected}
    for seed in range(REPLICATIONS):
        result = simulate_single(center, 100 + seed, keep_calls=True)
        assert result.calls is not None
        after = result.calls.arrival >= WARMUP * 1800
        got["p_wait"].append(float(np.mean(result.calls.wait[after] > 0)))
        got["p_abandon"].append(steady(result.intervals).p_abandon or 0.0)
        got["mean_time_in_queue"].append(float(np.mean(result.calls.wait[after])))
    for name, value in expected.items():
        low, high = replicate(got[name])
        assert low <= value <= high, (name, value, low, high)
    low, high = replicate(got["p_abandon"])
    assert not low <= erlang_a(c + 1, lam, mu, theta)["p_abandon"] <= high


# --- the two engines, and the model's rules ---------------------------------------------------------------------


def test_the_routing_engine_and_the_fast_path_agree_call_by_call() -> None:
    """One queue, one pool, first come first served: with the same seed both draw the same contacts, and the
    engine (longest idle agent first) serves them in the same order, so every figure is the same."""
    center = SingleSkillCenter(calls=(80.0, 160.0, 240.0, 60.0), agents=(6, 12, 14, 4),
                               handle=HandleTime("lognormal", 180.0, 150.0), patience_s=90.0,
                               callback_share=0.4, callback_delay_s=600.0)  # fmt: skip
    fast = simulate_single(center, 7)
    routed = simulate_multi(MultiSkillCenter.from_single(center), 7)
    assert fast.overall.callbacks_requested > 0 and fast.overall.abandoned > 0
    for mine, theirs in zip(fast.intervals, routed.intervals, strict=True):
        for name, value in mine.as_dict().items():
            assert theirs.as_dict()[name] == (value if value is None else pytest.approx(value, rel=1e-9)), name


def test_same_seed_same_result_other_seed_other_result() -> None:
    assert simulate_single(ERLANG_C_CENTER, 3).as_dict() == simulate_single(ERLANG_C_CENTER, 3).as_dict()
    assert simulate_single(ERLANG_C_CENTER, 3).as_dict() != simulate_single(ERLANG_C_CENTER, 4).as_dict()


def test_agents_answer_only_while_on_duty() -> None:
    center = SingleSkillCenter(calls=(100.0, 100.0, 100.0), agents=(12, 0, 12), patience_s=60.0)
    result = simulate_single(center, 1, keep_calls=True)
    calls = result.calls
    assert calls is not None
    starts = (calls.arrival + calls.wait)[calls.answered]
    handles = calls.handle[calls.answered]
    in_gap = (starts >= 1800) & (starts < 3600)
    assert not in_gap.any()
    assert result.intervals[1].staffed_s == 0
    # what is handled in the gap is only what was in hand when it began
    in_hand = np.clip(np.minimum(starts + handles, 3600) - np.maximum(starts, 1800), 0, None).sum()
    assert result.intervals[1].busy_s == pytest.approx(in_hand)
    assert result.intervals[1].p_abandon is not None and result.intervals[1].p_abandon > 0.9


def test_nobody_on_duty() -> None:
    """Without agents callers hang up when their patience ends; with endless patience they wait, counted as
    offered only (neither answered nor abandoned), in both engines."""
    for patience_s, abandoned in ((60.0, True), (None, False)):
        center = SingleSkillCenter(calls=(50.0, 50.0), agents=(0, 0), patience_s=patience_s)
        for result in (simulate_single(center, 2), simulate_multi(MultiSkillCenter.from_single(center), 2)):
            k = result.overall
            assert k.offered > 0 and k.answered == 0 and k.busy_s == 0
            assert k.abandoned == (k.offered if abandoned else 0)


def test_callbacks_are_served_later_and_counted_apart() -> None:
    center = SingleSkillCenter(calls=(300.0, 20.0, 20.0), agents=(10, 10, 10), patience_s=60.0,
                               callback_share=1.0, callback_delay_s=1800.0)  # fmt: skip
    k = simulate_single(center, 5).overall
    assert k.abandoned == 0  # every caller out of patience asked for a callback
    assert k.callbacks_requested > 50
    assert k.callbacks_served == k.callbacks_requested
    assert k.callback_delay_sum_s / k.callbacks_served >= 1800
    assert k.handled == k.answered + k.callbacks_served
    assert k.offered == k.answered + k.callbacks_requested


def test_handle_time_distributions() -> None:
    rng = np.random.default_rng(0)
    samples = (30.0, 60.0, 600.0)
    empirical = HandleTime("empirical", samples=samples).draw(rng, 30_000)
    assert set(np.unique(empirical)) == set(samples)
    assert empirical.mean() == pytest.approx(np.mean(samples), rel=0.02)
    lognormal = HandleTime("lognormal", 200.0, 300.0).draw(rng, 400_000)
    assert lognormal.mean() == pytest.approx(200.0, rel=0.03)
    assert lognormal.std() == pytest.approx(300.0, rel=0.1)
    center = SingleSkillCenter(calls=(500.0,), agents=(100,), handle=HandleTime("empirical", samples=samples))
    assert simulate_single(center, 1).overall.aht_s == pytest.approx(np.mean(samples), rel=0.1)


def test_multiskill_routes_by_skill_and_the_engine_counts_the_same() -> None:
    billing = QueueModel("billing", (100.0, 100.0), patience_s=120.0, skills={"billing": 2})
    support = QueueModel("support", (60.0, 60.0), patience_s=120.0, skills={"support": 1}, language="pl",
                         strategy=Strategy.MOST_SKILLED)  # fmt: skip
    orphan = QueueModel("orphan", (20.0, 20.0), patience_s=30.0, skills={"legal": 1})
    groups = (
        AgentGroup("billing", (12, 12), {"billing": 3}, queues=("billing", "orphan")),
        AgentGroup("support", (8, 8), {"support": 2}, frozenset({"pl"}), queues=("support",)),
        AgentGroup("weak", (5, 5), {"billing": 1, "support": 1}, queues=("billing", "support")),
    )
    result = simulate_multi(MultiSkillCenter((billing, support, orphan), groups), 11)
    by = result.by_queue
    assert by["orphan"].answered == 0 and by["orphan"].abandoned == by["orphan"].offered > 0  # nobody has "legal"
    assert by["billing"].answered > 0.8 * by["billing"].offered
    assert by["support"].answered > 0.8 * by["support"].offered
    for name, kpis in by.items():
        engine = result.engine_stats[name]
        assert (engine["offered"], engine["answered"], engine["abandoned"]) == (
            kpis.offered, kpis.answered, kpis.abandoned,
        )  # fmt: skip
        assert engine["asa_s"] == pytest.approx(kpis.asa_s)
    assert result.overall.offered == sum(k.offered for k in by.values())


def test_time_caps_and_bad_centers() -> None:
    big = SingleSkillCenter(calls=(200_000.0,), agents=(2000,))
    with pytest.raises(SimulationTooLong):
        simulate_single(big, 1, max_seconds=0.0)
    with pytest.raises(SimulationTooLong):
        simulate_multi(MultiSkillCenter.from_single(SingleSkillCenter(calls=(20_000.0,), agents=(200,))), 1,
                       max_seconds=0.0)  # fmt: skip
    with pytest.raises(SimulationError):
        SingleSkillCenter(calls=(1.0, 2.0), agents=(1,))
    with pytest.raises(SimulationError):
        SingleSkillCenter(calls=(float("nan"),), agents=(1,))
    with pytest.raises(SimulationError):
        HandleTime("lognormal", 100.0, 0.0)
    with pytest.raises(SimulationError):
        HandleTime("lognormal", 1e-300, 600.0)  # its draws would not be numbers
    with pytest.raises(SimulationError):
        MultiSkillCenter((QueueModel("a", (1.0,)),), (AgentGroup("g", (1,), queues=("b",)),))
