"""Erlang B/C/A against published values, an independent Markov-chain solution, and their properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import expm
from scipy.optimize import brentq

from infolinia.wfm.erlang import erlang_a, erlang_a_arrays, erlang_b, erlang_c, erlang_c_arrays, log_erlang_b


def sig4(x: float) -> str:
    return f"{x:.4g}"


def load_for_blocking(lines: int, blocking: float) -> float:
    return float(brentq(lambda a: erlang_b(lines, a) - blocking, 1e-9, 10.0 * lines + 10))


# --- published values ---------------------------------------------------------------------------------------


def test_erlang_b_erlang_com_trunk_group() -> None:
    # erlang.com calculator manual, "How much traffic can a trunk group handle?":
    # 15 lines at 1% blocking carry 8.108 Erlangs
    # (https://erlang.com/calculatormanual/howmuchtrafficcanatrunkgrouphandle.htm)
    assert sig4(load_for_blocking(15, 0.01)) == "8.108"


@pytest.mark.parametrize(
    ("lines", "blocking", "erlangs"),
    [
        # Erlang B tables, e.g. V. B. Iversen, "Teletraffic Engineering and Network Planning" (DTU), table of
        # Erlang's B-formula: offered traffic A for n channels at blocking E
        (10, 0.01, "4.461"),
        (10, 0.02, "5.084"),
        (20, 0.01, "12.03"),
        (100, 0.01, "84.06"),
    ],
)
def test_erlang_b_tables(lines: int, blocking: float, erlangs: str) -> None:
    assert sig4(load_for_blocking(lines, blocking)) == erlangs


def test_erlang_b_r_queueing_example() -> None:
    # R package queueing, B_erlang's documented example and its output (https://rdrr.io/cran/queueing/man/
    # B_erlang.html): B_erlang(2, 0.5/0.7) = 0.1295337
    assert erlang_b(2, 0.5 / 0.7) == pytest.approx(0.1295337, abs=5e-8)


def test_erlang_c_small_exact() -> None:
    # Wolfram Language documentation of ErlangC, basic example c = 3, a = 2; by hand from the definition:
    # (a^c/c! * c/(c-a)) / (sum_{k<c} a^k/k! + a^c/c! * c/(c-a)) = 4 / (5 + 4) = 4/9
    assert erlang_c(3, 2.0).p_wait == pytest.approx(4 / 9, rel=1e-12)
    # Erlang B by hand: (8/6) / (1 + 2 + 2 + 8/6) = 4/19
    assert erlang_b(3, 2.0) == pytest.approx(4 / 19, rel=1e-12)


def test_erlang_c_r_package_example() -> None:
    # the R package ErlangC 0.1.0, its documented example (https://rdocumentation.org/packages/ErlangC/versions/0.1.0):
    # 100 calls per 30 minutes, AHT 180 s, target 20 s, 14 agents -> traffic intensity 10, wait probability
    # 0.1741319, service level 0.88835, average speed of answer 7.83593701177724 s, occupancy 0.7142857
    perf = erlang_c(14, 100 * 180 / 1800, 180.0, 20.0)
    assert perf.load == 10.0
    assert sig4(perf.p_wait) == "0.1741" and perf.p_wait == pytest.approx(0.1741319, abs=5e-8)
    assert sig4(perf.service_level) == "0.8884" and perf.service_level == pytest.approx(0.88835, abs=5e-6)
    assert sig4(perf.asa_s) == "7.836" and perf.asa_s == pytest.approx(7.83593701177724, rel=1e-12)
    assert sig4(perf.occupancy) == "0.7143"
    # the same page, calculate_agents(...)$process, its first row (11 agents, the first above the load of 10):
    # wait probability 0.6821182, service level 0.3896138
    eleven = erlang_c(11, 10.0, 180.0, 20.0)
    assert eleven.p_wait == pytest.approx(0.6821182, abs=5e-8)
    assert eleven.service_level == pytest.approx(0.3896138, abs=5e-8)


def test_erlang_c_worked_example_360_calls() -> None:
    # inputs of the worked example of mitan.co.uk's "The Erlang-C formula" page (archived at
    # https://web.archive.org/web/20181209042241/http://www.mitan.co.uk/erlang/elgcmath.htm): 360 calls per half
    # hour, 4 minutes per call, 55 agents, 15 s target; traffic intensity 48 Erlangs, occupancy 0.8727. The
    # figures below are ours (the archived page could not be read back here), consistent with the R example above
    # and with the independent chain
    perf = erlang_c(55, 360 * 240 / 1800, 240.0, 15.0)
    assert perf.load == 48.0
    assert sig4(perf.occupancy) == "0.8727"
    assert sig4(perf.p_wait) == "0.2387"
    assert sig4(perf.asa_s) == "8.184"
    assert sig4(perf.service_level) == "0.8459"


# --- an independent method: the birth-death chain's generator, solved and exponentiated ----------------------


def chain(agents: int, load: float, aht: float, patience: float, target: float, cap: int) -> dict[str, float]:
    """Stationary distribution of the truncated M/M/n+M generator by a linear solve, and the service level from
    each arriving customer's own absorbing chain (position in queue -> served / abandoned) by a matrix
    exponential."""
    mu, theta = 1 / aht, 1 / patience
    lam = load * mu
    q = np.zeros((cap + 1, cap + 1))
    for k in range(cap + 1):
        if k < cap:
            q[k, k + 1] = lam
        if k > 0:
            q[k, k - 1] = min(k, agents) * mu + max(k - agents, 0) * theta
        q[k, k] = -q[k].sum()
    system = np.vstack([q.T, np.ones(cap + 1)])
    rhs = np.zeros(cap + 2)
    rhs[-1] = 1
    pi = np.linalg.lstsq(system, rhs, rcond=None)[0]
    p_wait = float(pi[agents:].sum())
    queue = float(sum(pi[k] * (k - agents) for k in range(agents, cap + 1)))
    sl = float(pi[:agents].sum())
    for j in range(cap - agents):
        if pi[agents + j] < 1e-16:
            break
        m = j + 1  # our position; states 0..m-1 = positions 1..m, then served, abandoned
        g = np.zeros((m + 2, m + 2))
        for pos in range(1, m + 1):
            ahead = agents * mu + (pos - 1) * theta
            g[pos - 1, pos - 2 if pos > 1 else m] = ahead
            g[pos - 1, m + 1] = theta
            g[pos - 1, pos - 1] = -(ahead + theta)
        sl += float(pi[agents + j] * expm(g * target)[m - 1, m])
    return {"p_wait": p_wait, "p_abandon": queue * theta / lam, "service_level": sl}


@pytest.mark.parametrize(
    ("agents", "load", "aht", "patience", "target"),
    [(10, 9.0, 180.0, 120.0, 20.0), (5, 6.0, 300.0, 60.0, 30.0), (20, 25.0, 240.0, 300.0, 15.0), (3, 1.0, 60, 5, 2)],
)
def test_erlang_a_against_the_chain(agents: int, load: float, aht: float, patience: float, target: float) -> None:
    want = chain(agents, load, aht, patience, target, cap=agents + 90)
    got = erlang_a(agents, load, aht, patience, target)
    assert got.p_wait == pytest.approx(want["p_wait"], rel=1e-8)
    assert got.p_abandon == pytest.approx(want["p_abandon"], rel=1e-8)
    assert got.service_level == pytest.approx(want["service_level"], rel=1e-8)
    # flow balance: answered load = agents x occupancy
    assert got.occupancy * agents == pytest.approx(load * (1 - got.p_abandon), rel=1e-12)


def test_erlang_a_asa_by_littles_law() -> None:
    # the mean wait of all calls is E[queue]/lambda = P(ab)/theta; answered calls wait asa, abandoning ones wait
    # their patience given it ran out first - check the answered part against the chain's mean queue instead
    agents, load, aht, patience = 8, 8.0, 200.0, 90.0
    perf = erlang_a(agents, load, aht, patience, 10.0)
    mean_wait_all = perf.p_abandon * patience
    assert 0 < perf.asa_s < mean_wait_all / (1 - perf.p_abandon) + patience
    assert perf.asa_s * (1 - perf.p_abandon) < mean_wait_all


# --- properties ---------------------------------------------------------------------------------------------

loads = st.floats(min_value=0.05, max_value=400.0)
agents_st = st.integers(min_value=1, max_value=450)


@settings(max_examples=200, deadline=None)
@given(agents_st, loads)
def test_erlang_b_monotone_and_recurrence(n: int, a: float) -> None:
    b = erlang_b(n, a)
    assert 0 <= b <= 1
    assert erlang_b(n + 1, a) <= b
    assert erlang_b(n, a * 1.01) >= b
    ref = 1.0
    for k in range(1, n + 1):
        ref = a * ref / (k + a * ref)
    assert b == pytest.approx(ref, rel=1e-9, abs=1e-300)


@settings(max_examples=200, deadline=None)
@given(agents_st, loads, st.floats(min_value=10, max_value=900), st.floats(min_value=0, max_value=120))
def test_erlang_c_monotone(n: int, a: float, aht: float, target: float) -> None:
    this, more = erlang_c(n, a, aht, target), erlang_c(n + 1, a, aht, target)
    assert this.p_wait >= erlang_b(n, a) - 1e-15
    assert more.p_wait <= this.p_wait + 1e-15
    assert more.service_level >= this.service_level - 1e-12
    assert more.asa_s <= this.asa_s
    heavier = erlang_c(n, a * 1.02, aht, target)
    assert heavier.service_level <= this.service_level + 1e-12


@settings(max_examples=120, deadline=None)
@given(
    st.integers(min_value=1, max_value=300),
    loads,
    st.floats(min_value=20, max_value=600),
    st.floats(min_value=5, max_value=900),
    st.floats(min_value=0, max_value=120),
)
def test_erlang_a_monotone(n: int, a: float, aht: float, patience: float, target: float) -> None:
    this, more = erlang_a(n, a, aht, patience, target), erlang_a(n + 1, a, aht, patience, target)
    for perf in (this, more):
        assert 0 <= perf.service_level <= 1 and 0 <= perf.p_abandon <= 1 and 0 <= perf.p_wait <= 1
        assert perf.service_level <= 1 - perf.p_abandon + 1e-12
    assert more.service_level >= this.service_level - 1e-10
    assert more.p_abandon <= this.p_abandon + 1e-12
    assert more.p_wait <= this.p_wait + 1e-12
    heavier = erlang_a(n, a * 1.02, aht, patience, target)
    assert heavier.p_abandon >= this.p_abandon - 1e-12


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=1, max_value=300), st.floats(min_value=0.05, max_value=0.97), st.floats(0, 60))
def test_erlang_a_without_abandonment_is_erlang_c(n: int, rho: float, target: float) -> None:
    a, aht = n * rho, 180.0
    c = erlang_c(n, a, aht, target)
    patient = erlang_a(n, a, aht, 1e12, target)
    assert patient.p_wait == pytest.approx(c.p_wait, rel=1e-6, abs=1e-12)
    assert patient.service_level == pytest.approx(c.service_level, rel=1e-6, abs=1e-9)
    assert patient.asa_s == pytest.approx(c.asa_s, rel=1e-5, abs=1e-9)
    assert patient.p_abandon < 1e-6


def test_erlang_a_impatient_limit() -> None:
    # patience -> 0: everyone who would wait abandons at once: P(ab) -> Erlang B (the loss system)
    perf = erlang_a(10, 8.0, 180.0, 1e-6, 20.0)
    assert perf.p_abandon == pytest.approx(erlang_b(10, 8.0), rel=1e-5)


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=10_000, max_value=60_000), st.floats(min_value=0.5, max_value=1.5))
def test_stable_at_scale(n: int, rho: float) -> None:
    a = n * rho
    lb = float(log_erlang_b(n, a))
    assert math.isfinite(lb) or lb == -math.inf
    c = erlang_c_arrays(n, a, 180.0, 20.0)
    for value in c.values():
        assert np.all(np.isfinite(value) | np.isinf(c["asa_s"]))
    perf = erlang_a(n, a, 180.0, 120.0, 20.0)
    for value in (perf.p_wait, perf.service_level, perf.p_abandon, perf.occupancy, perf.asa_s):
        assert math.isfinite(value) and value >= 0
    assert perf.service_level <= 1 and perf.p_abandon <= 1
    if rho > 1.05:
        # overloaded: about the excess load abandons (fluid limit)
        assert perf.p_abandon == pytest.approx(1 - 1 / rho, abs=0.02)


def test_large_values_agree_with_the_recurrence() -> None:
    for n, a in [(10_000, 9_800.0), (12_000, 11_900.0), (20_000, 25_000.0), (5_000, 2_000.0)]:
        ref = 1.0
        for k in range(1, n + 1):
            ref = a * ref / (k + a * ref)
        if ref > 0:
            assert erlang_b(n, a) == pytest.approx(ref, rel=1e-8)
        else:
            assert erlang_b(n, a) < 1e-300


def test_vectorised_equals_scalar() -> None:
    n = np.array([5.0, 50.0, 500.0])
    a = np.array([4.0, 45.0, 480.0])
    many = erlang_a_arrays(n, a, 180.0, 90.0, 20.0)
    for i in range(3):
        one = erlang_a(int(n[i]), float(a[i]), 180.0, 90.0, 20.0)
        assert many["service_level"][i] == pytest.approx(one.service_level, rel=1e-12)
        assert many["p_abandon"][i] == pytest.approx(one.p_abandon, rel=1e-12)


def test_blocks_of_rows_equal_one_block(monkeypatch: pytest.MonkeyPatch) -> None:
    from infolinia.wfm import erlang

    n = np.arange(1.0, 40.0)
    whole = erlang_a_arrays(n, 30.0, 180.0, 300.0, 20.0)
    monkeypatch.setattr(erlang, "_BLOCK", 100)  # a few rows per block
    blocks = erlang_a_arrays(n, 30.0, 180.0, 300.0, 20.0)
    for key, value in whole.items():  # blocks sum their own number of terms: equal to rounding (SL: absolute)
        np.testing.assert_allclose(value, blocks[key], rtol=1e-12, atol=1e-14, err_msg=key)


def test_no_calls() -> None:
    c = erlang_c(3, 0.0, 180.0, 20.0)
    assert (c.p_wait, c.service_level, c.asa_s, c.occupancy) == (0.0, 1.0, 0.0, 0.0)
    a = erlang_a(0, 0.0, 180.0, 60.0, 20.0)
    assert (a.p_wait, a.service_level, a.p_abandon) == (0.0, 1.0, 0.0)
    unstaffed = erlang_c(0, 2.0, 180.0, 20.0)
    assert unstaffed.service_level == 0.0 and math.isinf(unstaffed.asa_s)
