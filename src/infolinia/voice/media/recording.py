"""Recording a leg: a stereo 8 kHz 16-bit WAV, left what the leg received, right what was sent to it.

Both channels share one time line that starts on a media clock tick (`start`): sample n is `start + n / 8000`.
A packet is placed by its RTP timestamp relative to the first packet of its stream, that one by the time it was
received or sent, so network jitter does not move audio around; a new SSRC, or a timestamp that strays more than
`REANCHOR` samples from the packet's time, anchors again. Where nothing flowed the file holds silence.

The file is written as it goes: samples stay in memory until they are `LATE` old (late packets still find their
place), then `flush` appends them and rewrites the header's sizes, so the file on disk is always a valid WAV of
everything up to the last flush and a crash loses about a second.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, Final

import numpy as np
from numpy.typing import NDArray

from infolinia.voice.media import wav
from infolinia.voice.media.codecs import RATE, Codec, decode
from infolinia.voice.media.errors import MediaError

LEFT: Final = 0  # received from the leg's peer
RIGHT: Final = 1  # sent to the leg's peer
LATE: Final = RATE // 2  # samples a packet may come late and still be recorded
REANCHOR: Final = RATE  # samples a timestamp may stray from its packet's time before the stream anchors again
CAPACITY: Final = 4 * RATE  # samples held in memory

_HALF32: Final = 1 << 31
_MASK32: Final = 0xFFFFFFFF


class _Track:
    """Where one direction's packets go on the time line."""

    __slots__ = ("position", "ssrc", "timestamp")

    def __init__(self) -> None:
        self.ssrc: int | None = None
        self.timestamp = 0
        self.position = 0

    def place(self, ssrc: int, timestamp: int, position: int) -> int:
        """The sample position of a packet with this SSRC and timestamp, received or sent at `position`."""
        if ssrc == self.ssrc:
            placed = self.position + ((timestamp - self.timestamp + _HALF32) & _MASK32) - _HALF32
            if abs(placed - position) <= REANCHOR:
                return placed
        self.ssrc, self.timestamp, self.position = ssrc, timestamp, position
        return position


class Recording:
    """One leg's recording to `path`. Made by `MediaLeg.record`; `stop()` (or closing the leg) finishes it."""

    def __init__(self, path: Path, start: float, clock: Callable[[], float], on_stop: Callable[[], None]) -> None:
        self.path = path
        self._start = start
        self._clock = clock
        self._on_stop = on_stop
        try:
            self._file: BinaryIO | None = path.open("wb")
            self._file.write(wav.header(2, 0))
        except OSError as exc:
            raise MediaError(f"cannot record to {path}: {exc.strerror or exc}") from exc
        self._written = 0  # sample frames in the file
        self._buffer: NDArray[np.int16] = np.zeros((CAPACITY, 2), dtype="<i2")  # frames from _written on
        self._tracks = (_Track(), _Track())

    @property
    def active(self) -> bool:
        return self._file is not None

    @property
    def duration_s(self) -> float:
        """Seconds recorded: up to now while recording, the file's length once stopped."""
        if self._file is None:
            return self._written / RATE
        return max(self._position(self._clock()), self._written) / RATE

    def received(self, codec: Codec, payload: bytes, ssrc: int, timestamp: int, now: float) -> None:
        self._write(LEFT, codec, payload, ssrc, timestamp, now)

    def sent(self, codec: Codec, payload: bytes, ssrc: int, timestamp: int, now: float) -> None:
        self._write(RIGHT, codec, payload, ssrc, timestamp, now)

    def flush(self, now: float) -> None:
        """Write out what is at least `LATE` old."""
        if self._file is not None:
            self._flush_to(self._position(now) - LATE)

    def stop(self) -> None:
        """Write out everything up to now and close the file. Idempotent."""
        if self._file is None:
            return
        try:
            self._flush_to(self._position(self._clock()))
        finally:
            self._file.close()
            self._file = None
            self._on_stop()

    def _position(self, t: float) -> int:
        return round((t - self._start) * RATE)

    def _write(self, channel: int, codec: Codec, payload: bytes, ssrc: int, timestamp: int, now: float) -> None:
        if self._file is None:
            return
        samples = decode(codec, payload)
        start = self._tracks[channel].place(ssrc, timestamp, self._position(now)) - self._written
        if start < 0:  # too late: its beginning is on disk already
            samples = samples[-start:]
            start = 0
        overflow = start + len(samples) - CAPACITY
        if overflow > 0:
            self._flush_to(self._written + overflow)
            start -= overflow
        self._buffer[start : start + len(samples), channel] = samples

    def _flush_to(self, end: int) -> None:
        assert self._file is not None
        if end <= self._written:
            return
        while end > self._written:
            count = min(end - self._written, CAPACITY)
            self._file.write(self._buffer[:count].tobytes())
            self._buffer[: CAPACITY - count] = self._buffer[count:]
            self._buffer[CAPACITY - count :] = 0
            self._written += count
        self._file.seek(0)
        self._file.write(wav.header(2, self._written))
        self._file.seek(0, 2)
        self._file.flush()
