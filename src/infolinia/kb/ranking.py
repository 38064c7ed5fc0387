"""Ranking for semantic search, pure: cosine similarity of unit vectors, and reciprocal rank fusion of two rankings.

Vectors are stored as little-endian float32 bytes (``to_bytes`` / ``from_bytes``); a wrong length reads as none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

Vector = npt.NDArray[np.float32]
DTYPE: Final = np.dtype("<f4")
#: reciprocal rank fusion's constant (Cormack et al. 2009): a rank r counts 1 / (RRF_K + r)
RRF_K: Final = 60


def to_bytes(vector: Vector) -> bytes:
    """The vector as stored."""
    return np.asarray(vector, dtype=DTYPE).tobytes()


def from_bytes(blob: bytes | None, dimensions: int) -> Vector | None:
    """The stored vector, or None when there is none or it has another length (another model's)."""
    if blob is None or len(blob) != dimensions * DTYPE.itemsize:
        return None
    return np.frombuffer(blob, dtype=DTYPE)


def nearest(ids: Sequence[int], matrix: Vector, query: Vector, minimum: float, limit: int) -> list[tuple[int, float]]:
    """The ``limit`` ids whose rows of ``matrix`` (unit vectors, one per id) are most similar to ``query`` (a unit
    vector), at least ``minimum`` (cosine similarity), most similar first; ties by id."""
    if not ids or limit <= 0:
        return []
    similarity = matrix @ np.asarray(query, dtype=DTYPE)
    keep = np.flatnonzero(similarity >= minimum)
    if keep.size > limit:
        keep = keep[np.argpartition(-similarity[keep], limit - 1)[:limit]]
    ranked = sorted(((float(similarity[i]), ids[int(i)]) for i in keep), key=lambda pair: (-pair[0], pair[1]))
    return [(id_, score) for score, id_ in ranked]


Match = Literal["text", "semantic", "both"]


@dataclass(frozen=True)
class Fused:
    id: int
    score: float
    match: Match


def fuse(text: Sequence[int], semantic: Sequence[int], limit: int, k: int = RRF_K) -> list[Fused]:
    """Reciprocal rank fusion of two rankings (ids, best first): each id scores the sum of 1 / (k + rank) over the
    rankings it is in (rank from 1), best first; equal scores keep the full-text order, then the semantic one."""
    scores: dict[int, float] = {}
    order: dict[int, tuple[int, int]] = {}
    for position, ranking in enumerate((text, semantic)):
        for rank, id_ in enumerate(ranking, start=1):
            scores[id_] = scores.get(id_, 0.0) + 1.0 / (k + rank)
            order.setdefault(id_, (position, rank))
    in_text, in_semantic = set(text), set(semantic)
    best = sorted(scores, key=lambda id_: (-scores[id_], order[id_]))[:limit]
    return [Fused(id_, scores[id_], _match(id_ in in_text, id_ in in_semantic)) for id_ in best]


def _match(in_text: bool, in_semantic: bool) -> Match:
    if in_text and in_semantic:
        return "both"
    return "text" if in_text else "semantic"
