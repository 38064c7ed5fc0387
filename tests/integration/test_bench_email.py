"""bench/email.py runs and ends with its JSON line (the figures themselves are the benchmark's, not a test's)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_email_bench_runs_quick() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "email.py"), "--quick"], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["bench"] == "email" and result["messages"] == 300
    assert result["lost"] == 0 and result["duplicated"] == 0 and result["unprocessed"] == 0
    assert result["messages_per_s"] > 0 and result["processed_per_s"] > 0 and result["baseline_messages_per_s"] > 0
