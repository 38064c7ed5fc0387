"""A tenant's uploaded recording, from untrusted bytes to 8 kHz mono int16 samples, or an ``AudioError`` that says
what is wrong. Pure.

Limits: the file at most ``MAX_BYTES``; the audio ``MIN_SECONDS`` to ``MAX_SECONDS`` long (checked from the header
before anything is decoded) and not silent. Formats: see ``wav.py``. Stereo is mixed down, other rates resampled
to 8 kHz; the level is left as recorded.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from infolinia.voice.prompts import wav
from infolinia.voice.prompts.audio import Samples, resample, to_pcm16
from infolinia.voice.prompts.wav import AudioError

__all__ = ["MAX_BYTES", "MAX_SECONDS", "MIN_SECONDS", "AudioError", "decode_upload"]

MAX_BYTES: Final = 10 * 1024 * 1024
MIN_SECONDS: Final = 0.2
MAX_SECONDS: Final = 300.0


def decode_upload(data: bytes) -> Samples:
    """The recording in ``data`` (a WAV file) as 8 kHz mono int16 samples."""
    if len(data) > MAX_BYTES:
        raise AudioError(f"the file has {len(data)} bytes: {MAX_BYTES} ({MAX_BYTES // 1024 // 1024} MB) at most")
    fmt, raw = wav.read(data)
    seconds = len(raw) // fmt.frame_bytes / fmt.rate
    if seconds < MIN_SECONDS:
        raise AudioError(f"the recording is too short: {seconds:.3f} s ({MIN_SECONDS:g} s at least)")
    if seconds > MAX_SECONDS:
        raise AudioError(f"the recording is too long: {seconds:.1f} s ({MAX_SECONDS:g} s at most)")
    samples = to_pcm16(resample(wav.decode(fmt, raw), fmt.rate))
    if not np.any(samples):
        raise AudioError("the recording is silent")
    return samples
