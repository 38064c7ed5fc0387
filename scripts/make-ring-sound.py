"""Write the desk's ring (src/infolinia/web/ui/static/ring.wav): two short bursts of a 440 + 480 Hz ring tone,
8 kHz, 8-bit mono, about 8 KB. Run it again to remake the file: ``.venv/bin/python scripts/make-ring-sound.py``."""

from __future__ import annotations

import math
import wave
from pathlib import Path

RATE = 8000
TARGET = Path(__file__).resolve().parents[1] / "src" / "infolinia" / "web" / "ui" / "static" / "ring.wav"


def samples() -> bytes:
    out = bytearray()
    for burst, silence in ((0.4, 0.2), (0.4, 0.0)):
        n = int(burst * RATE)
        for i in range(n):
            fade = min(1.0, i / 80, (n - i) / 80)  # no click at either end
            value = 0.35 * fade * (math.sin(2 * math.pi * 440 * i / RATE) + math.sin(2 * math.pi * 480 * i / RATE))
            out.append(128 + round(127 * max(-1.0, min(1.0, value))))
        out.extend(b"\x80" * int(silence * RATE))
    return bytes(out)


def main() -> None:
    with wave.open(str(TARGET), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(RATE)
        w.writeframes(samples())


if __name__ == "__main__":
    main()
