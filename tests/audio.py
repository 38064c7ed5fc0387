"""Audio helpers for tests that check what was heard: make a tone, find the tones in a signal.

Plain numpy on int16 (or float) sample arrays, any sample rate; nothing here knows about RTP or SIP, so softphone
and recording tests can use it on what baresip or sox wrote.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

RATE = 8000


def tone(freq_hz: float, seconds: float, level_dbfs: float = -12.0, rate: int = RATE) -> NDArray[np.int16]:
    """A sine at `freq_hz` peaking at `level_dbfs` below full scale."""
    t = np.arange(round(seconds * rate)) / rate
    return np.round(32767 * 10 ** (level_dbfs / 20) * np.sin(2 * math.pi * freq_hz * t)).astype(np.int16)


def dominant_frequency(samples: NDArray[np.generic], rate: int = RATE) -> float:
    """The frequency (Hz) of the strongest spectral peak, refined between FFT bins (Hann window, parabolic fit
    on the log magnitudes); 0.0 for silence. Accurate to about 1 Hz on a quarter second of a clean tone."""
    x = np.asarray(samples, dtype=np.float64)
    if len(x) < 16 or not np.any(x):
        return 0.0
    spectrum = np.abs(np.fft.rfft((x - x.mean()) * np.hanning(len(x))))
    peak = int(np.argmax(spectrum[1:])) + 1
    offset = 0.0
    if 0 < peak < len(spectrum) - 1:
        a, b, c = np.log(spectrum[peak - 1 : peak + 2] + 1e-12)
        offset = 0.5 * (a - c) / (a - 2 * b + c)
    return float((peak + offset) * rate / len(x))


def tone_power(samples: NDArray[np.generic], freq_hz: float, rate: int = RATE) -> float:
    """Goertzel: the power of `freq_hz` in the samples, normalised so a full-scale sine gives about 1."""
    x = np.asarray(samples, dtype=np.float64) / 32768
    if len(x) == 0:
        return 0.0
    n = np.arange(len(x))
    component = np.dot(x, np.exp(-2j * math.pi * freq_hz * n / rate))
    return float(4 * abs(component) ** 2 / len(x) ** 2)


def level_dbfs(samples: NDArray[np.generic]) -> float:
    """Peak level relative to full scale (-inf for silence)."""
    peak = float(np.max(np.abs(np.asarray(samples, dtype=np.float64)))) if len(samples) else 0.0
    return 20 * math.log10(peak / 32767) if peak else -math.inf
