"""bench/dialer.py runs and ends with its JSON line (the figures themselves are the benchmark's, not a test's)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_dialer_bench_runs_quick() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "dialer.py"), "--quick"], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["bench"] == "dialer"
    for key in ("max_daily_abandon_rate", "occupancy", "progressive_occupancy"):
        assert 0.0 <= result[key] <= 1.0, result
    assert result["calls_per_agent_hour"] > 0 and result["answered"] > 0
