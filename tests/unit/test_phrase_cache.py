"""The phrase cache: the same recordings give the same Audio (encoded once), anything else a new one."""

from __future__ import annotations

import numpy as np
import pytest

from infolinia.voice.calls.phrases import PhraseCache
from infolinia.voice.prompts.audio import join


def recording(value: int, n: int = 400) -> np.ndarray:
    samples = np.full(n, value, dtype=np.int16)
    samples.flags.writeable = False
    return samples


def test_same_recordings_same_audio_and_frames_encoded_once() -> None:
    cache = PhraseCache()
    a, b = recording(100), recording(-200)
    first = cache.audio([a, b], 150)
    frames = first.frames("PCMU")
    again = cache.audio([a, b], 150)
    assert again is first
    assert again.frames("PCMU") is frames
    assert (cache.hits, cache.misses) == (1, 1)
    assert np.array_equal(first.samples, join([a, b], 150))


def test_a_single_recording_is_played_as_it_is() -> None:
    cache = PhraseCache()
    a = recording(7)
    assert cache.audio([a], 150).samples is a


@pytest.mark.parametrize(
    "other",
    [
        lambda a, b: ([b, a], 150),  # order
        lambda a, b: ([a, b], 100),  # gap
        lambda a, b: ([a], 150),  # fewer parts
        lambda a, b: ([a, b, a], 150),  # more parts
        lambda a, b: ([a, recording(-200)], 150),  # an equal but new recording: the tenant's prompt changed
    ],
)
def test_anything_else_is_a_new_phrase(other) -> None:  # type: ignore[no-untyped-def]
    cache = PhraseCache()
    a, b = recording(100), recording(-200)
    first = cache.audio([a, b], 150)
    parts, gap = other(a, b)
    audio = cache.audio(parts, gap)
    assert audio is not first
    assert np.array_equal(audio.samples, parts[0] if len(parts) == 1 else join(parts, gap))


def test_least_recently_used_goes_first() -> None:
    cache = PhraseCache(size=2)
    a, b, c = recording(1), recording(2), recording(3)
    audio_a = cache.audio([a, b], 10)
    cache.audio([b, c], 10)
    assert cache.audio([a, b], 10) is audio_a  # used again: now the newest
    cache.audio([c, a], 10)  # evicts [b, c]
    assert len(cache) == 2
    assert cache.audio([a, b], 10) is audio_a
    misses = cache.misses
    cache.audio([b, c], 10)
    assert cache.misses == misses + 1


def test_an_empty_phrase_is_silence_of_no_length() -> None:
    assert len(PhraseCache().audio([], 150)) == 0


def test_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least one"):
        PhraseCache(size=0)
