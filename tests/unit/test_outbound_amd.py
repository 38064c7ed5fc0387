"""Answering-machine detection, pure: a long first stretch of sound is a machine, a short one followed by a pause a
person, silence unknown; pauses between words do not split a greeting; fed in any chunk sizes."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from infolinia.outbound.amd import MachineDetector

RATE = 8000
RNG = np.random.default_rng(7)


def sound(seconds: float, level: float = 0.1) -> NDArray[np.int16]:
    """Noise at about ``level`` of full scale: loud enough to be speech."""
    return (RNG.standard_normal(round(seconds * RATE)) * 32767 * level).clip(-32768, 32767).astype(np.int16)


def quiet(seconds: float) -> NDArray[np.int16]:
    """Line noise far below speech."""
    return sound(seconds, 0.001)


def verdict(*parts: NDArray[np.int16], chunk: int = 160) -> tuple[str | None, float]:
    detector = MachineDetector()
    samples = np.concatenate(parts)
    for start in range(0, len(samples), chunk):
        if detector.feed(samples[start : start + chunk]) is not None:
            break
    return detector.verdict, detector.heard_s


@pytest.mark.parametrize("chunk", [160, 80, 333, 4000])
def test_a_greeting_is_a_machine_within_its_first_seconds(chunk: int) -> None:
    words = [part for _ in range(6) for part in (sound(0.6), quiet(0.25))]  # words with short pauses
    said, at = verdict(quiet(0.4), *words, quiet(5), chunk=chunk)
    assert said == "machine" and 2.7 <= at <= 3.3


def test_a_hello_then_waiting_is_a_person() -> None:
    said, at = verdict(quiet(0.3), sound(0.7), quiet(5))
    assert said == "human"
    assert 1.4 <= at <= 1.7  # the word and the pause that ends it


def test_silence_is_left_unknown() -> None:
    assert verdict(quiet(6)) == ("unknown", 4.0)


def test_a_verdict_is_final() -> None:
    detector = MachineDetector()
    detector.feed(np.concatenate((sound(0.5), quiet(1))))
    assert detector.verdict == "human"
    assert detector.feed(sound(5)) == "human"


def test_pauses_shorter_than_the_gap_join_words_into_one_stretch() -> None:
    chatter = [part for _ in range(8) for part in (sound(0.4), quiet(0.3))]
    assert verdict(*chatter) == ("machine", 2.4)
