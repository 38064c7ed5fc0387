"""Service-level compliance of many cases, from their views: decided targets only in the rate, breaches while open
counted as misses, next-response rounds counted once each."""

from __future__ import annotations

from typing import Any

from infolinia.cases.compliance import compliance


def view(**states: str) -> dict[str, Any]:
    return {"rule": 0, **{metric: {"state": state} for metric, state in states.items()}}


def test_rates_count_decided_targets_only() -> None:
    out = compliance([
        ("billing", view(first_response="met", resolution="met")),
        ("billing", view(first_response="missed", resolution="running")),
        ("billing", view(first_response="breached", resolution="warning")),
        ("complaint", view(first_response="paused", resolution="breached")),
        ("question", None),  # no rule applies
    ])  # fmt: skip
    assert out["cases"] == 5 and out["with_targets"] == 4
    first = out["targets"]["first_response"]
    assert first == {"met": 1, "missed": 1, "breached": 1, "running": 1, "rate": round(1 / 3, 4)}
    resolution = out["targets"]["resolution"]
    assert resolution == {"met": 1, "missed": 0, "breached": 1, "running": 2, "rate": 0.5}
    assert out["by_category"]["billing"]["targets"]["first_response"]["rate"] == round(1 / 3, 4)
    assert out["by_category"]["complaint"]["targets"]["resolution"]["rate"] == 0.0
    assert out["by_category"]["question"] == {"cases": 1, "with_targets": 0, "targets": {}}


def test_next_response_counts_each_round_once() -> None:
    finished = view(next_response="met") | {"next_response_rounds": {"met": 2, "missed": 1}}
    open_round = view(next_response="breached") | {"next_response_rounds": {"met": 1, "missed": 0}}
    running = view(next_response="running") | {"next_response_rounds": {"met": 0, "missed": 0}}
    out = compliance([("billing", finished), ("billing", open_round), ("billing", running)])
    assert out["targets"]["next_response"] == {"met": 3, "missed": 1, "breached": 1, "running": 1, "rate": 0.6}


def test_nothing_decided_has_no_rate() -> None:
    out = compliance([("billing", view(first_response="running"))])
    assert out["targets"]["first_response"]["rate"] is None
    assert compliance([]) == {"cases": 0, "with_targets": 0, "targets": {}, "by_category": {}}
