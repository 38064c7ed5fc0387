"""The one error the media plane raises to its callers."""

from __future__ import annotations


class MediaError(Exception):
    """A request the media plane cannot carry out: no free port, a closed leg, audio it cannot read, and the like.

    Bad network input is never a MediaError: it is dropped and counted.
    """
