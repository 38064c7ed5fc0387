"""Prompt audio: 8 kHz mono 16-bit samples, and the few signal steps every prompt goes through.

Pure functions on numpy arrays. ``Signal`` is float64 in [-1, 1] at any rate (while it is being worked on);
``Samples`` is what the library stores and the media plane plays: int16 at ``RATE``.
"""

from __future__ import annotations

import io
import math
import wave
from collections.abc import Sequence
from typing import Final

import numpy as np
from numpy.typing import NDArray
from scipy.signal import resample_poly

__all__ = [
    "RATE",
    "Samples",
    "Signal",
    "duration_ms",
    "from_pcm16",
    "join",
    "normalise",
    "resample",
    "silence",
    "to_pcm16",
    "trim_silence",
    "wav_bytes",
]

RATE: Final = 8000
Samples = NDArray[np.int16]
Signal = NDArray[np.float64]
_FULL_SCALE: Final = 32767.0


def resample(signal: Signal, rate: int) -> Signal:
    """``signal`` sampled at ``rate`` Hz, resampled to ``RATE`` (polyphase, with its anti-aliasing filter)."""
    if rate == RATE:
        return signal
    common = math.gcd(rate, RATE)
    resampled: Signal = resample_poly(signal, RATE // common, rate // common)
    return resampled


def trim_silence(signal: Signal, below_peak_db: float = 40.0, margin_ms: int = 10) -> Signal:
    """Cut what is quieter than ``below_peak_db`` under the peak at both ends, keeping ``margin_ms`` around the
    sound so the first consonant is not clipped. A silent signal comes back empty."""
    if signal.size == 0:
        return signal
    floor = np.max(np.abs(signal)) * 10 ** (-below_peak_db / 20)
    loud = np.flatnonzero(np.abs(signal) > floor)
    if loud.size == 0:
        return signal[:0]
    margin = RATE * margin_ms // 1000
    return signal[max(0, loud[0] - margin) : loud[-1] + 1 + margin]


def normalise(signal: Signal, peak_dbfs: float = -3.0) -> Signal:
    """Scale so the loudest sample is at ``peak_dbfs`` (decibels below full scale); silence stays silent."""
    peak = float(np.max(np.abs(signal))) if signal.size else 0.0
    if peak == 0.0:
        return signal
    scaled: Signal = signal * (10 ** (peak_dbfs / 20) / peak)
    return scaled


def to_pcm16(signal: Signal) -> Samples:
    """Float samples (clipped to [-1, 1]) as int16."""
    return np.round(np.clip(signal, -1.0, 1.0) * _FULL_SCALE).astype(np.int16)


def from_pcm16(samples: Samples) -> Signal:
    return samples.astype(np.float64) / _FULL_SCALE


def silence(ms: int) -> Samples:
    return np.zeros(RATE * ms // 1000, dtype=np.int16)


def duration_ms(samples: Samples) -> int:
    return len(samples) * 1000 // RATE


def join(parts: Sequence[Samples], gap_ms: int) -> Samples:
    """The parts one after another with ``gap_ms`` of silence between them."""
    if not parts:
        return silence(0)
    gap = silence(gap_ms)
    pieces: list[Samples] = []
    for part in parts:
        if pieces:
            pieces.append(gap)
        pieces.append(part)
    return np.concatenate(pieces)


def wav_bytes(samples: Samples) -> bytes:
    """A RIFF/WAVE file of the samples: PCM, mono, 16 bits, ``RATE`` Hz."""
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(samples.astype("<i2").tobytes())
    return out.getvalue()
