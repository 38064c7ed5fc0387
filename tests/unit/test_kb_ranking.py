"""Semantic search's ranking with hand-made vectors: cosine similarity with a floor and a limit, and reciprocal rank
fusion of the full-text and semantic rankings."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from infolinia.config import Settings, SettingsError
from infolinia.kb import ranking, semantic
from infolinia.kb.ranking import Fused, from_bytes, fuse, nearest, to_bytes


def unit(*values: float) -> ranking.Vector:
    v = np.array(values, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_nearest_ranks_by_cosine_similarity_above_a_floor() -> None:
    ids = [10, 11, 12, 13]
    matrix = np.stack([unit(1, 0, 0), unit(1, 1, 0), unit(0, 1, 0), unit(-1, 0, 0)])
    found = nearest(ids, matrix, unit(1, 0.2, 0), minimum=0.15, limit=10)
    assert [id_ for id_, _ in found] == [10, 11, 12]  # 13 points away: below the floor (12: 0.196)
    assert [id_ for id_, _ in nearest(ids, matrix, unit(1, 0.2, 0), minimum=0.2, limit=10)] == [10, 11]
    assert found[0][1] == pytest.approx(1 / np.sqrt(1.04), abs=1e-6)
    assert all(a[1] >= b[1] for a, b in itertools.pairwise(found))
    assert nearest(ids, matrix, unit(0, 0, 1), minimum=0.3, limit=10) == []  # nothing like it
    assert [id_ for id_, _ in nearest(ids, matrix, unit(1, 0.2, 0), minimum=-1.0, limit=2)] == [10, 11]
    assert nearest([], np.zeros((0, 3), dtype=np.float32), unit(1, 0, 0), 0.0, 5) == []


def test_equal_similarities_go_by_id_and_the_limit_keeps_the_best() -> None:
    ids = [7, 3, 5]
    matrix = np.stack([unit(1, 1), unit(1, 1), unit(1, 0)])
    assert [id_ for id_, _ in nearest(ids, matrix, unit(1, 1), 0.0, 2)] == [3, 7]
    many = [unit(1, i / 100) for i in range(100)]
    best = nearest(list(range(100)), np.stack(many), unit(1, 0), 0.0, 3)
    assert [id_ for id_, _ in best] == [0, 1, 2]


def test_vectors_round_trip_and_a_wrong_length_reads_as_none() -> None:
    v = unit(3, 4)
    blob = to_bytes(v)
    assert len(blob) == 8
    back = from_bytes(blob, 2)
    assert back is not None and np.array_equal(back, v)
    assert from_bytes(blob, 3) is None and from_bytes(None, 2) is None


def test_fusion_ranks_articles_found_both_ways_first_and_says_how_each_was_found() -> None:
    fused = fuse(text=[1, 2, 3], semantic=[3, 4, 1], limit=10, k=60)
    assert [f.id for f in fused] == [1, 3, 2, 4]
    assert fused[0] == Fused(1, pytest.approx(1 / 61 + 1 / 63), "both")  # type: ignore[arg-type]
    assert [f.match for f in fused] == ["both", "both", "text", "semantic"]
    assert fused[2].score == pytest.approx(1 / 62) and fused[3].score == pytest.approx(1 / 62)
    # equal scores: the full-text ranking's before the semantic one's
    assert [f.id for f in fuse([5], [6], 10)] == [5, 6]
    assert [f.id for f in fuse([], [6, 5], 10)] == [6, 5]
    assert [f.id for f in fuse([1, 2, 3], [3, 4, 1], limit=2)] == [1, 3]
    assert fuse([], [], 5) == []


def test_the_setting_is_checked_and_off_means_off() -> None:
    assert Settings().kb_semantic == "auto"
    assert Settings.from_env({"INFOLINIA_KB_SEMANTIC": "false"}).kb_semantic == "false"
    with pytest.raises(SettingsError, match="kb_semantic"):
        Settings.from_env({"INFOLINIA_KB_SEMANTIC": "maybe"})
    off = semantic.Embedder("false")
    assert off.state == "off" and not off.ready and off.status()["up"]


async def test_a_model_that_is_off_embeds_nothing_and_never_loads() -> None:
    off = semantic.Embedder("false")
    assert await off.load() is False and off.state == "off"
    assert await off.embed(["anything"]) is None


def test_only_the_models_language_is_embedded_and_the_key_follows_the_text() -> None:
    assert semantic.embeds("en") and semantic.embeds("en-GB") and not semantic.embeds("pl")
    source = semantic.article_text("Router", "Unplug **it** for [30 s](https://x.test).")
    assert source == "Router\n\nUnplug it for 30 s."
    assert semantic.embedding_key(source) != semantic.embedding_key(source + "!")
    assert len(semantic.embedding_key(source)) == 64


def test_a_required_model_that_is_not_installed_stops_the_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(semantic, "installed", lambda: False)
    with pytest.raises(SettingsError, match="INFOLINIA_KB_SEMANTIC=true"):
        semantic.Embedder("true")
    assert semantic.Embedder("auto").state == "not_installed"
