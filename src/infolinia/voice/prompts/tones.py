"""Synthesised system sounds: the beep before a voicemail message, and music on hold. Pure and deterministic.

The music is our own, so there is nothing to license: a slow four-chord progression (Cmaj7 - Am7 - Fmaj7 - G6,
two bars each at 72 beats per minute, 26.7 s) with a soft pad and a bell-like arpeggio in eighth notes above it,
kept inside the telephone band and well below the level of speech. It loops seamlessly: the notes still ringing
at the end are folded back onto the beginning, so a player can repeat it without a click.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from infolinia.voice.prompts.audio import RATE, Samples, Signal, normalise, to_pcm16

__all__ = ["BEEP_HZ", "MUSIC_PEAK_DBFS", "TONES_VERSION", "beep", "music_on_hold", "synthesise"]

#: bump when the sounds change, so stored copies are made again
TONES_VERSION: Final = "1"
BEEP_HZ: Final = 1000.0
MUSIC_PEAK_DBFS: Final = -12.0

_BEAT_S: Final = 60 / 72
# MIDI note numbers: the pad voicing (middle register) and the arpeggio (an octave above), per chord
_CHORDS: Final = (
    ((60, 64, 67, 71), (72, 76, 79, 83, 84, 83, 79, 76)),  # Cmaj7
    ((57, 60, 64, 67), (69, 72, 76, 79, 81, 79, 76, 72)),  # Am7
    ((53, 57, 60, 64), (65, 69, 72, 76, 77, 76, 72, 69)),  # Fmaj7
    ((55, 59, 62, 64), (67, 71, 74, 76, 79, 76, 74, 71)),  # G6
)
_BARS_PER_CHORD: Final = 2


def _hz(note: int) -> float:
    return float(440.0 * 2 ** ((note - 69) / 12))


def _times(seconds: float) -> Signal:
    return np.arange(int(seconds * RATE)) / RATE


def _fade(signal: Signal, ms: float) -> Signal:
    """Raised-cosine fade in and out, so a tone starts and stops without a click."""
    n = min(len(signal) // 2, int(RATE * ms / 1000))
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, n))
    faded = signal.copy()
    faded[:n] *= ramp
    faded[len(faded) - n :] *= ramp[::-1]
    return faded


def beep() -> Samples:
    """0.4 s at 1 kHz, -6 dBFS, with 10 ms fades."""
    t = _times(0.4)
    return to_pcm16(normalise(_fade(np.sin(2 * np.pi * BEEP_HZ * t), 10.0), -6.0))


def _bell(hz: float, seconds: float) -> Signal:
    """A soft plucked note: a few harmonics, a 5 ms attack and an exponential decay."""
    t = _times(seconds)
    tone = np.sin(2 * np.pi * hz * t) + 0.3 * np.sin(4 * np.pi * hz * t) + 0.08 * np.sin(6 * np.pi * hz * t)
    envelope = np.minimum(1.0, t / 0.005) * np.exp(-t / 0.55)
    return _fade(tone * envelope, 20.0)


def _pad(notes: tuple[int, ...], seconds: float) -> Signal:
    """The chord held softly, swelling in and out (0.9 s each way), with a touch of the octave for warmth."""
    t = _times(seconds)
    tone = sum(np.sin(2 * np.pi * _hz(n) * t) + 0.25 * np.sin(4 * np.pi * _hz(n) * t) for n in notes)
    return _fade(np.asarray(tone, dtype=np.float64), 900.0)


def music_on_hold() -> Samples:
    """The loop described in the module's docstring, peaking at ``MUSIC_PEAK_DBFS``."""
    chord_s = 4 * _BARS_PER_CHORD * _BEAT_S
    length = round(len(_CHORDS) * chord_s * RATE)
    ring = int(2.5 * RATE)  # what still sounds after the last note starts, folded back onto the start
    out = np.zeros(length + ring + int(chord_s * RATE) + 1)
    eighth = _BEAT_S / 2
    for c, (pad_notes, arpeggio) in enumerate(_CHORDS):
        start = round(c * chord_s * RATE)
        pad = _pad(pad_notes, chord_s + 0.9) * 0.35
        out[start : start + len(pad)] += pad
        for k in range(int(chord_s / eighth)):
            note = _bell(_hz(arpeggio[k % len(arpeggio)]), 2.0) * (0.55 if k % 2 else 0.7)
            at = start + round(k * eighth * RATE)
            out[at : at + len(note)] += note
    loop = out[:length].copy()
    tail = out[length:]
    loop[: min(length, len(tail))] += tail[:length]
    return to_pcm16(normalise(loop, MUSIC_PEAK_DBFS))


def synthesise(name: str) -> Samples:
    """The tone called ``name`` (``catalog.TONES``)."""
    makers = {"beep": beep, "music_on_hold": music_on_hold}
    if name not in makers:
        raise KeyError(f"no tone {name!r}")
    return makers[name]()
