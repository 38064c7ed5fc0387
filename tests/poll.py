"""Waiting for a condition in async tests: poll it, never sleep and hope."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def until(condition: Callable[[], bool], what: str = "condition", within_s: float = 10.0) -> None:
    """Return as soon as ``condition()`` holds; fail naming ``what`` after ``within_s`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"{what}: not within {within_s} s")
        await asyncio.sleep(0.005)
