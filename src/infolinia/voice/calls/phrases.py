"""The Audio of the phrases calls play, made once and shared: the same recordings make the same Audio object.

A media leg plays an `Audio` as its pre-encoded 20 ms G.711 frames, which the Audio encodes on first use and
keeps. A phrase joined anew for every call would be encoded anew for every call: for the demo's 22 s menu that
was most of what a call's setup cost. So phrases are kept here, least recently used first out, keyed on the
identity of the library's recordings they join: a tenant's prompt change gives new recordings (the library
forgets its old ones), hence a new key, and the old phrase ages out.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Final

from infolinia.voice.media import Audio
from infolinia.voice.prompts.audio import Samples, join

SIZE: Final = 512  # phrases: menus and messages of every tenant, position and wait announcements


class PhraseCache:
    def __init__(self, size: int = SIZE) -> None:
        if size < 1:
            raise ValueError("a phrase cache holds at least one phrase")
        self.size = size
        # key -> (the recordings, kept so their ids stay theirs while the entry lives; the joined Audio)
        self._entries: OrderedDict[tuple[int, ...], tuple[tuple[Samples, ...], Audio]] = OrderedDict()
        self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def audio(self, parts: Sequence[Samples], gap_ms: int) -> Audio:
        """`parts` joined `gap_ms` apart, as the Audio made the first time these very recordings were asked for."""
        key = (gap_ms, *map(id, parts))
        entry = self._entries.get(key)
        if entry is not None and all(a is b for a, b in zip(entry[0], parts, strict=True)):  # same key: same length
            self._entries.move_to_end(key)
            self.hits += 1
            return entry[1]
        self.misses += 1
        audio = Audio(parts[0]) if len(parts) == 1 else Audio(join(parts, gap_ms))
        self._entries[key] = (tuple(parts), audio)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return audio
