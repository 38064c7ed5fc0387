"""Answering-machine detection, best effort, pure: is the first sound of an answered call a person or a machine?

A person answers with a short word ("Hello?", "Słucham") and waits for a reply; a machine plays a greeting that
goes on ("Hello, you have reached ..., please leave a message after the tone"). So, on the customer's audio from
the answer on, in 20 ms frames of 8 kHz linear samples:

- a frame is **speech** when its level is at least ``SPEECH_DBFS``; pauses shorter than ``GAP_S`` (between words,
  even sentences) do not end a stretch of speech;
- the first stretch of speech lasting ``MACHINE_S`` or more -> ``machine``;
- the first stretch ending (a pause of ``GAP_S``) before that -> ``human``;
- nobody speaking for ``SILENCE_S`` -> ``unknown`` (a silent line: left to the agent).

Nothing is decided after ``WINDOW_S``; the caller stops listening at the first verdict. This is a heuristic on
energy and length only: a person who answers with a long sentence is taken for a machine, a machine with a
one-word greeting for a person; the agent's disposition corrects either.
"""

from __future__ import annotations

import math
from typing import Final, Literal

import numpy as np
from numpy.typing import NDArray

__all__ = ["MachineDetector", "Verdict"]

Verdict = Literal["human", "machine", "unknown"]

RATE: Final = 8000
FRAME: Final = 160  # 20 ms
SPEECH_DBFS: Final = -40.0
GAP_S: Final = 0.5
MACHINE_S: Final = 2.4
SILENCE_S: Final = 4.0
WINDOW_S: Final = 5.0


class MachineDetector:
    """Feed the customer's samples as they arrive; ``verdict`` is None until decided, then final."""

    def __init__(self) -> None:
        self._pending = np.zeros(0, dtype=np.int16)
        self._frames = 0  # frames seen
        self._speech_start: int | None = None  # the frame the current stretch of speech began
        self._last_speech: int | None = None  # the last speech frame
        self.verdict: Verdict | None = None

    @property
    def heard_s(self) -> float:
        return self._frames * FRAME / RATE

    def feed(self, samples: NDArray[np.int16]) -> Verdict | None:
        if self.verdict is not None:
            return self.verdict
        data = np.concatenate((self._pending, samples)) if len(self._pending) else samples
        whole = len(data) // FRAME * FRAME
        self._pending = data[whole:].copy()
        for start in range(0, whole, FRAME):
            self._frame(data[start : start + FRAME])
            if self.verdict is not None:
                break
        return self.verdict

    def _frame(self, frame: NDArray[np.int16]) -> None:
        n = self._frames
        self._frames += 1
        gap = round(GAP_S * RATE / FRAME)
        if _dbfs(frame) >= SPEECH_DBFS:
            if self._speech_start is None or (self._last_speech is not None and n - self._last_speech > gap):
                self._speech_start = n
            self._last_speech = n
            if (n - self._speech_start + 1) * FRAME / RATE >= MACHINE_S:
                self.verdict = "machine"
        elif self._last_speech is not None and n - self._last_speech >= gap:
            self.verdict = "human"  # the first words ended, shorter than a greeting
        elif self._last_speech is None and self.heard_s >= SILENCE_S:
            self.verdict = "unknown"
        if self.verdict is None and self.heard_s >= WINDOW_S:
            self.verdict = "unknown"


def _dbfs(frame: NDArray[np.int16]) -> float:
    rms = math.sqrt(float(np.mean(np.square(frame.astype(np.float64))))) / 32768
    return 20 * math.log10(rms) if rms > 0 else -120.0
