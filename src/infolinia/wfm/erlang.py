"""Erlang B, Erlang C and Erlang A (Palm's M/M/n+M), exact and numerically stable at any size.

Everything is computed in log space or with bounded recurrences, never with factorials or powers: Erlang B is
the Poisson probability ``n`` over the Poisson distribution up to ``n`` (``log pmf - log cdf``), with the bounded
recurrence ``B(k) = a B(k-1) / (k + a B(k-1))`` where the cumulative probability underflows. Erlang C follows from
B. Erlang A sums the birth-death chain's stationary distribution above ``n`` in log space (series truncated only
where the terms fall below ``e**-70`` of the largest) and takes the waiting-time distribution of served calls in
closed form (derivation in docs/wfm.md). Every function takes arrays (numpy broadcasting) so that staffing a whole
day is a handful of vector operations.

Units: ``agents`` (n), offered load ``a = arrival rate x AHT`` in Erlangs, times in seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

__all__ = [
    "Performance",
    "erlang_a",
    "erlang_a_arrays",
    "erlang_b",
    "erlang_c",
    "erlang_c_arrays",
    "log_erlang_b",
]

Floats = NDArray[np.float64]
#: series terms below this log-ratio to the largest one are dropped (e**-70 ~ 4e-31)
_TAIL = 70.0


@dataclass(frozen=True)
class Performance:
    """What ``agents`` on the phones give for one interval. ``asa_s`` is the mean wait of answered calls
    (infinite when the queue grows without bound: Erlang C with load >= agents)."""

    agents: int
    load: float
    p_wait: float
    service_level: float
    asa_s: float
    p_abandon: float
    occupancy: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "agents": self.agents,
            "service_level": self.service_level,
            "p_wait": self.p_wait,
            "asa_s": self.asa_s if math.isfinite(self.asa_s) else None,
            "occupancy": self.occupancy,
            "p_abandon": self.p_abandon,
        }


def _f(x: ArrayLike) -> Floats:
    return np.asarray(x, dtype=np.float64)


def _recurrence_log_b(n: int, a: float) -> float:
    """log B(n, a) by the bounded recurrence (every step in (0, 1]); O(n), used where the closed form underflows."""
    b = 1.0
    for k in range(1, n + 1):
        b = a * b / (k + a * b)
    return math.log(b) if b > 0 else -math.inf


def log_erlang_b(agents: ArrayLike, load: ArrayLike) -> Floats:
    """log of the Erlang B blocking probability for ``agents`` servers and ``load`` Erlangs (arrays broadcast)."""
    n, a = np.broadcast_arrays(_f(agents), _f(load))
    if np.all(a > 0):  # the common case, without the edge handling below
        with np.errstate(divide="ignore"):
            cdf = special.pdtr(n, a)
            fast: Floats = special.xlogy(n, a) - a - special.gammaln(n + 1) - np.log(cdf)
        if np.all(cdf > 1e-280):
            return np.minimum(fast, 0.0)
    out = np.zeros(n.shape)  # load 0: B(0, 0) = 1 ... and B(n>0, 0) = 0, set below
    pos = a > 0
    with np.errstate(divide="ignore"):
        log_pmf = n * np.log(np.where(pos, a, 1.0)) - a - special.gammaln(n + 1)
        cdf = special.pdtr(n, np.where(pos, a, 1.0))
        out = np.where(pos, log_pmf - np.log(cdf), np.where(n > 0, -np.inf, 0.0))
    bad = pos & ~(cdf > 1e-280)
    if np.any(bad):
        flat_out = out.reshape(-1).copy()
        for i in np.flatnonzero(bad.reshape(-1)):
            flat_out[i] = _recurrence_log_b(int(n.reshape(-1)[i]), float(a.reshape(-1)[i]))
        out = flat_out.reshape(n.shape)
    return np.minimum(out, 0.0)


def erlang_b(agents: int, load: float) -> float:
    """Erlang B: the probability that a call finds all ``agents`` busy and is lost (M/M/n/n)."""
    return float(np.exp(log_erlang_b(agents, load)))


def erlang_c_arrays(
    agents: ArrayLike, load: ArrayLike, aht_s: ArrayLike, target_s: ArrayLike, blocking: ArrayLike | None = None
) -> dict[str, Floats]:
    """Erlang C (M/M/n): ``p_wait``, ``service_level`` (P(wait <= target)), ``asa_s``, ``occupancy`` and
    ``p_abandon`` (always 0). With ``load >= agents`` the queue is unstable: everyone waits, SL 0, ASA infinite.
    ``blocking``: Erlang B of the same arguments when the caller has it already."""
    n, a, h, t = np.broadcast_arrays(_f(agents), _f(load), _f(aht_s), _f(target_s))
    b = np.exp(log_erlang_b(n, a)) if blocking is None else np.broadcast_to(_f(blocking), n.shape)
    stable = n > a
    safe_n = np.where(n > 0, n, 1.0)
    rho = a / safe_n
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.where(stable, b / (1.0 - rho * (1.0 - b)), 1.0)
        c = np.where(a <= 0, 0.0, np.minimum(c, 1.0))
        gap = np.where(stable, n - a, 1.0)
        sl = np.where(stable, 1.0 - c * np.exp(-gap * t / h), 0.0)
        asa = np.where(stable, c * h / gap, np.inf)
    return {
        "p_wait": c,
        "service_level": np.where(a <= 0, 1.0, np.clip(sl, 0.0, 1.0)),
        "asa_s": np.where(a <= 0, 0.0, asa),
        "occupancy": np.where(n > 0, np.minimum(rho, 1.0), np.where(a > 0, 1.0, 0.0)),
        "p_abandon": np.zeros(n.shape),
    }


def erlang_c(agents: int, load: float, aht_s: float = 1.0, target_s: float = 0.0) -> Performance:
    """Erlang C for one interval (see ``erlang_c_arrays``); with the defaults, ``p_wait`` is C(n, a)."""
    m = erlang_c_arrays(agents, load, aht_s, target_s)
    return _performance(agents, load, m)


def _logsumexp(x: Floats, axis: int = -1) -> Floats:
    top = np.max(x, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        out: Floats = np.squeeze(top, axis=axis) + np.log(np.sum(np.exp(x - top), axis=axis))
    return out


def erlang_a_arrays(
    agents: ArrayLike, load: ArrayLike, aht_s: ArrayLike, patience_s: ArrayLike, target_s: ArrayLike
) -> dict[str, Floats]:
    """Erlang A (M/M/n+M: exponential patience with mean ``patience_s``), exactly, for arrays of intervals.

    ``service_level`` is P(wait <= target and served); ``asa_s`` the mean wait of answered calls; ``p_abandon``
    the fraction abandoning; ``occupancy`` the answered load over the agents."""
    n, a, h, pat, t = (v.reshape(-1) for v in np.broadcast_arrays(_f(agents), _f(load), _f(aht_s), _f(patience_s),
                                                                    _f(target_s)))  # fmt: skip
    shape = np.broadcast_shapes(*(np.shape(v) for v in (agents, load, aht_s, patience_s, target_s)))
    out = _erlang_a_rows(n, a, h, pat, t)
    return {key: value.reshape(shape) for key, value in out.items()}


#: the most series terms (rows x terms) evaluated in one block; more rows are taken in several blocks
_BLOCK = 2_000_000


def _erlang_a_rows(n: Floats, a: Floats, h: Floats, pat: Floats, t: Floats) -> dict[str, Floats]:
    theta = 1.0 / pat
    mu = 1.0 / h
    lam = a * mu
    busy = (a > 0) & (n > 0)
    # x = n mu / theta, y = lambda / theta (rates in units of the abandonment rate); terms y^j / prod_1^j (x + i)
    x = np.where(busy, n * mu / theta, 1.0)
    y = np.where(busy, lam / theta, 1.0)
    # terms rise to a peak at j = y - x, then fall at least like exp(-(j - peak)^2 / 2y) and, below the peak's
    # side (y < x), geometrically with ratio y / (x + 1): stop where they are under e**-70 of the largest
    ratio = np.minimum(y / (x + 1.0), 1.0 - 1e-12)
    geometric = _TAIL / -np.log(ratio)
    span = np.where(y > x, y - x + 12.0 * np.sqrt(y + 1.0), np.minimum(geometric, 12.0 * np.sqrt(x + 1.0))) + 40.0
    j_max = int(np.ceil(np.max(span))) if span.size else 1
    if n.size > 1 and n.size * j_max > _BLOCK:
        rows = max(1, _BLOCK // j_max)
        parts = [_erlang_a_rows(n[i : i + rows], a[i : i + rows], h[i : i + rows], pat[i : i + rows],
                                t[i : i + rows]) for i in range(0, n.size, rows)]  # fmt: skip
        return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
    j = np.arange(1, j_max + 1, dtype=np.float64)
    log_x_i = np.log(x[:, None] + j[None, :])  # log(x + i), i = 1..J
    log_w = np.concatenate([np.zeros((x.size, 1)), np.cumsum(np.log(y)[:, None] - log_x_i, axis=1)], axis=1)
    log_a_sum = _logsumexp(log_w)  # log A(x, y), A = sum_{j>=0} w_j
    lb = log_erlang_b(n, a)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_below = np.log1p(-np.exp(lb)) - lb  # log((1 - B) / B): the states below n, relative to pi_n
    log_pi = -np.logaddexp(log_below, log_a_sum)  # log pi_n
    p_wait = np.exp(log_pi + log_a_sum)
    jj = np.arange(0, j_max + 1, dtype=np.float64)
    with np.errstate(divide="ignore"):
        log_jw = _logsumexp(log_w + np.log(jj)[None, :])  # log sum j w_j = log E[queue] / pi_n
    p_ab = np.exp(log_pi + log_jw - np.log(y))
    # served among those who waited: arrival finding j waiting is served w.p. x/(x+j+1), after a mean wait (in
    # 1/theta units) of sum_{m=1}^{j+1} 1/(x+m)
    log_served_j = np.log(x)[:, None] - np.log(x[:, None] + jj[None, :] + 1.0)
    harmonic = np.cumsum(1.0 / (x[:, None] + jj[None, :] + 1.0), axis=1)
    log_wait_served = _logsumexp(log_w + log_served_j + np.log(harmonic))
    p_served = 1.0 - p_ab
    asa = np.exp(log_pi + log_wait_served) / theta / np.where(p_served > 0, p_served, 1.0)
    # P(served, wait > T) = pi_n (x/y) F(x, y e^{-theta T}) exp(-x theta T + y (1 - e^{-theta T})), F = A - 1
    tau = theta * t
    y_t = y * np.exp(-tau)
    with np.errstate(divide="ignore"):  # y_t underflows to 0 when the target is many patience times long
        log_w_t = np.cumsum(np.log(y_t)[:, None] - log_x_i, axis=1)
    log_f_t = _logsumexp(log_w_t)
    log_f = _logsumexp(log_w[:, 1:])
    log_lead = log_pi + np.log(x) - np.log(y)
    served_waited = np.exp(log_lead + log_f)
    served_late = np.exp(log_lead + log_f_t - x * tau - y * np.expm1(-tau))
    sl = 1.0 - p_wait + served_waited - served_late
    out = {
        "p_wait": np.where(busy, p_wait, np.where(a > 0, 1.0, 0.0)),
        "service_level": np.where(busy, np.clip(sl, 0.0, 1.0), np.where(a > 0, 0.0, 1.0)),
        "asa_s": np.where(busy, asa, np.where(a > 0, np.inf, 0.0)),
        "p_abandon": np.where(busy, np.clip(p_ab, 0.0, 1.0), np.where(a > 0, 1.0, 0.0)),
        "occupancy": np.where(busy, a * p_served / np.where(n > 0, n, 1.0), np.where(a > 0, 1.0, 0.0)),
    }
    return out


def erlang_a(agents: int, load: float, aht_s: float, patience_s: float, target_s: float) -> Performance:
    """Erlang A for one interval (see ``erlang_a_arrays``)."""
    return _performance(agents, load, erlang_a_arrays(agents, load, aht_s, patience_s, target_s))


def _performance(agents: int, load: float, m: dict[str, Floats]) -> Performance:
    return Performance(
        agents=int(agents),
        load=float(load),
        p_wait=float(m["p_wait"]),
        service_level=float(m["service_level"]),
        asa_s=float(m["asa_s"]),
        p_abandon=float(m["p_abandon"]),
        occupancy=float(m["occupancy"]),
    )
