"""What a leg is playing, pure: a cursor over the pre-encoded frames of one or more Audio, once or in a loop."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain

from infolinia.voice.media.audio import Audio
from infolinia.voice.media.codecs import Codec


class Playback:
    """Frames of `parts` in order, each part padded to whole 20 ms frames. Empty and looping: silence forever."""

    __slots__ = ("_frames", "_index", "_parts", "finished", "loop")

    def __init__(self, parts: Sequence[Audio], codec: Codec, loop: bool = False) -> None:
        self._parts = tuple(parts)
        self.loop = loop
        self._index = 0
        self.finished = False
        self._frames: tuple[bytes, ...] = ()
        self.use(codec)

    def use(self, codec: Codec) -> None:
        """Continue in `codec` (after a re-INVITE changed it), at the same place."""
        parts = self._parts
        if len(parts) == 1:  # the Audio's own tuple: nothing copied per call
            self._frames = tuple(parts[0].frames(codec))
        else:
            self._frames = tuple(chain.from_iterable(part.frames(codec) for part in parts))

    def next(self, skip: int = 0) -> bytes | None:
        """The next frame, after passing over `skip` frames whose time went by unsent; None when there is none.

        `finished` becomes true with the last frame (it never does when looping).
        """
        frames = self._frames
        index = self._index + skip
        if index >= len(frames):
            if not self.loop or not frames:
                self.finished = not self.loop
                return None
            index %= len(frames)
        self._index = index + 1
        if self._index == len(frames) and not self.loop:
            self.finished = True
        return frames[index]
