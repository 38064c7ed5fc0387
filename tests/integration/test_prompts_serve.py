"""The real ``infolinia serve`` without espeak-ng: it stops with the reason and what to install, not a traceback.
(That it makes the prompts on its first start and reads them on the next: ``test_cli.py``.)"""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.live import EXE, free_port


def test_serve_without_espeak_ng_says_what_to_install(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    db = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    done = subprocess.run(
        [str(EXE), "serve", "--demo", "--db", db, "--http-port", str(free_port()), "--sip-port", "0"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, env={"PATH": str(empty)}, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert "error: espeak-ng is not installed" in done.stderr
    assert "apt-get install espeak-ng" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert not (tmp_path / "data" / "prompts" / "system" / "manifest.json").exists()
