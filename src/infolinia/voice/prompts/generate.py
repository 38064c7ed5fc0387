"""Speech from espeak-ng, made ready for the phone: 8 kHz mono int16, silence trimmed, peak at -3 dBFS.

One espeak-ng process per text (``espeak-ng -v VOICE -s SPEED -b 1 --stdout``, the text on stdin), several at
once in threads: the work is in the child processes and in numpy, both outside the GIL.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Hashable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Final, TypeVar

from infolinia.voice.prompts import wav
from infolinia.voice.prompts.audio import Samples, normalise, resample, to_pcm16, trim_silence
from infolinia.voice.prompts.catalog import Voice

__all__ = [
    "ESPEAK",
    "PROCESSING_VERSION",
    "EspeakMissing",
    "PromptError",
    "SynthesisError",
    "engine_id",
    "synthesise",
    "synthesise_many",
]

ESPEAK: Final = "espeak-ng"
#: bump when what is done to espeak-ng's output changes, so stored prompts are made again
PROCESSING_VERSION: Final = "1"
PEAK_DBFS: Final = -3.0
TIMEOUT_S: Final = 60.0

K = TypeVar("K", bound=Hashable)


class PromptError(RuntimeError):
    """The system prompts cannot be made or stored; the message says why and what to do."""


class EspeakMissing(PromptError):
    """espeak-ng is not installed (or not on PATH)."""

    def __init__(self) -> None:
        super().__init__(
            "espeak-ng is not installed, and the voice prompts are made with it: install espeak-ng "
            "(Debian/Ubuntu: apt-get install espeak-ng)"
        )


class SynthesisError(PromptError):
    """espeak-ng ran but gave no usable audio."""


def _espeak() -> str:
    path = shutil.which(ESPEAK)
    if path is None:
        raise EspeakMissing()
    return path


def engine_id() -> str:
    """A short hash of espeak-ng's version (and of our processing): what made a stored prompt, for the manifest."""
    try:
        done = subprocess.run([_espeak(), "--version"], capture_output=True, timeout=TIMEOUT_S, check=True)
    except (OSError, subprocess.SubprocessError) as exc:
        raise SynthesisError(f"espeak-ng --version failed: {exc}") from exc
    return hashlib.sha256(done.stdout + PROCESSING_VERSION.encode()).hexdigest()[:16]


def synthesise(text: str, voice: Voice) -> Samples:
    """``text`` spoken by ``voice``, as phone-ready samples."""
    command = [_espeak(), "-v", voice.name, "-s", str(voice.speed), "-b", "1", "--stdout"]
    try:
        done = subprocess.run(command, input=text.encode(), capture_output=True, timeout=TIMEOUT_S, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        raise SynthesisError(f"espeak-ng failed on {text[:40]!r}: {exc}") from exc
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip() or f"exit status {done.returncode}"
        raise SynthesisError(f"espeak-ng failed on {text[:40]!r} with voice {voice.name!r}: {reason}")
    try:
        fmt, raw = wav.read(done.stdout, streamed=True)
    except wav.AudioError as exc:
        raise SynthesisError(f"espeak-ng gave no usable audio for {text[:40]!r}: {exc}") from exc
    speech = trim_silence(resample(wav.decode(fmt, raw), fmt.rate))
    if speech.size == 0:
        raise SynthesisError(f"espeak-ng gave silence for {text[:40]!r} with voice {voice.name!r}")
    return to_pcm16(normalise(speech, PEAK_DBFS))


def synthesise_many(texts: Mapping[K, tuple[str, Voice]], workers: int | None = None) -> dict[K, Samples]:
    """Every ``key: (text, voice)`` synthesised, ``workers`` at a time (default: two per CPU)."""
    if not texts:
        return {}
    _espeak()  # one clear error before any thread starts
    workers = workers or 2 * (os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=min(workers, len(texts)), thread_name_prefix="espeak") as pool:
        futures = {key: pool.submit(synthesise, text, voice) for key, (text, voice) in texts.items()}
        return {key: future.result() for key, future in futures.items()}
