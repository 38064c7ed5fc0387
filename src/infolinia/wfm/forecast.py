"""Arrivals per interval from a center's own history: a damped-trend Holt model of the daily volume with weekday
factors, times a weekday-specific time-of-day profile. Holidays (the tenant calendar) are left out of the fit and
forecast as closed (zero). Pure: counts in, counts out; ``history.py`` reads the store.

Why this model: contact-center arrivals are dominated by two multiplicative seasonalities (day of week, time of
day, the latter differing between weekdays and weekends) on top of a slowly moving level. Splitting the day's
volume from its profile keeps each estimate on many observations (one total per day, a profile from every week),
which is robust for the few weeks of history a new tenant has, unlike a 672-period Holt-Winters whose seasonal
states each see one observation per week. The level and trend are smoothed (Holt), the trend damped (Gardner &
McKenzie) so that a short run of growth is not extrapolated for weeks. Smoothing constants are picked from a small
grid by one-step-ahead error on the training days.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from numpy.typing import NDArray

__all__ = ["Accuracy", "History", "Model", "evaluate", "fit", "predict"]

Floats = NDArray[np.float64]
_ALPHAS = (0.1, 0.2, 0.3, 0.5, 0.8)
_BETAS = (0.0, 0.05, 0.15)
DAMPING = 0.9


@dataclass(frozen=True)
class History:
    """Arrivals per day (rows, from ``first_day``) and interval of the day (columns), in the tenant's time."""

    first_day: date
    counts: Floats
    holidays: frozenset[date] = frozenset()

    @property
    def days(self) -> list[date]:
        return [self.first_day + timedelta(days=i) for i in range(self.counts.shape[0])]

    def head(self, n_days: int) -> History:
        return History(self.first_day, self.counts[:n_days], self.holidays)


@dataclass(frozen=True)
class Model:
    last_day: date
    level: float
    trend: float
    weekday: Floats  # 7 factors (Monday first), mean 1 over the weekdays seen
    profile: Floats  # 7 x intervals, each row sums to 1
    alpha: float
    beta: float


@dataclass(frozen=True)
class Accuracy:
    days: int
    wape: float | None  # sum |error| / sum actual, over intervals
    mape: float | None  # mean |error| / actual over days with calls (daily totals)
    rmse: float  # per interval
    naive_wape: float | None  # the same weekday a week earlier, for comparison

    def as_dict(self) -> dict[str, object]:
        return {"days": self.days, "wape": self.wape, "mape": self.mape, "rmse": self.rmse,
                "naive_wape": self.naive_wape}  # fmt: skip


def _open_days(history: History) -> NDArray[np.bool_]:
    return np.array([d not in history.holidays for d in history.days], dtype=bool)


def _holt(z: Floats, alpha: float, beta: float) -> tuple[float, float, float]:
    """Damped-trend Holt over ``z``: final level, trend, and the one-step squared error."""
    level, trend, sse = float(z[0]), 0.0, 0.0
    for value in z[1:]:
        guess = level + DAMPING * trend
        sse += (float(value) - guess) ** 2
        new_level = alpha * float(value) + (1 - alpha) * guess
        trend = beta * (new_level - level) + (1 - beta) * DAMPING * trend
        level = new_level
    return level, trend, sse


def fit(history: History) -> Model:
    """Fit the model to ``history`` (at least one open day)."""
    counts = history.counts
    open_ = _open_days(history)
    if not np.any(open_):
        raise ValueError("no open day in the history")
    days = history.days
    weekdays = np.array([d.weekday() for d in days])
    totals = counts.sum(axis=1)
    mean_total = float(totals[open_].mean())
    weekday = np.ones(7)
    profile = np.zeros((7, counts.shape[1]))
    overall = counts[open_].sum(axis=0)
    overall = overall / overall.sum() if overall.sum() > 0 else np.full(counts.shape[1], 1.0 / counts.shape[1])
    for w in range(7):
        mask = open_ & (weekdays == w)
        if not np.any(mask):
            profile[w] = overall
            continue
        weekday[w] = float(totals[mask].mean()) / mean_total if mean_total > 0 else 1.0
        volume = counts[mask].sum(axis=0)
        profile[w] = volume / volume.sum() if volume.sum() > 0 else overall
    seen = [w for w in range(7) if np.any(open_ & (weekdays == w))]
    if mean_total > 0 and seen:
        weekday[seen] /= weekday[seen].mean()
    usable = open_ & (weekday[weekdays] > 0)
    z = totals[usable] / weekday[weekdays[usable]] if np.any(usable) else np.zeros(1)
    best = min(
        ((a, b, *_holt(z, a, b)) for a, b in itertools.product(_ALPHAS, _BETAS)), key=lambda row: (row[4], row[0])
    )
    alpha, beta, level, trend, _ = best
    return Model(days[-1], level, trend, weekday, profile, alpha, beta)


def predict(model: Model, days: list[date], holidays: frozenset[date] = frozenset()) -> Floats:
    """Expected arrivals for each of ``days`` (after the model's last day) and interval; zero on holidays."""
    out = np.zeros((len(days), model.profile.shape[1]))
    for row, day in enumerate(days):
        if day in holidays:
            continue
        h = (day - model.last_day).days
        damp = sum(DAMPING**k for k in range(1, max(h, 1) + 1))
        total = max(model.level + damp * model.trend, 0.0) * model.weekday[day.weekday()]
        out[row] = total * model.profile[day.weekday()]
    return out


def evaluate(history: History, holdout_days: int) -> Accuracy | None:
    """Fit on all but the last ``holdout_days`` days and measure the forecast of those (holidays left out).
    None when the history is too short (under two weeks before the hold-out)."""
    n_days = history.counts.shape[0]
    if holdout_days <= 0 or n_days - holdout_days < 14:
        return None
    train = history.head(n_days - holdout_days)
    model = fit(train)
    test_days = history.days[n_days - holdout_days :]
    actual = history.counts[n_days - holdout_days :]
    guess = predict(model, test_days, history.holidays)
    keep = np.array([d not in history.holidays for d in test_days], dtype=bool)
    if not np.any(keep):
        return None
    actual, guess = actual[keep], guess[keep]
    naive = history.counts[n_days - holdout_days - 7 : n_days - 7][keep]
    err = np.abs(actual - guess)
    volume = float(actual.sum())
    day_actual, day_guess = actual.sum(axis=1), guess.sum(axis=1)
    has = day_actual > 0
    mape = float(np.mean(np.abs(day_actual[has] - day_guess[has]) / day_actual[has])) if np.any(has) else None
    return Accuracy(
        days=int(keep.sum()),
        wape=float(err.sum() / volume) if volume > 0 else None,
        mape=mape,
        rmse=float(math.sqrt(float(np.mean(err**2)))),
        naive_wape=float(np.abs(actual - naive).sum() / volume) if volume > 0 else None,
    )
