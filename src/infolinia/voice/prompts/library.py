"""The prompts a running process plays: the system ones (made at start) and each tenant's own (from the database,
cached in memory).

Which recording ``get(tenant, name, language)`` returns, first found:

1. the tenant's own ``name`` in ``language``;
2. the tenant's own ``name`` in another language: the first of the tenant's languages that has it, else the
   first in alphabetical order (a tenant's own message outranks the system voice);
3. the system ``name`` in ``language``;
4. the system ``name`` in English.

A tenant's index (which names and languages it recorded) is read on first use, each recording when first played;
``invalidate(tenant_id)`` forgets both, and must follow every committed change to the tenant's prompts (the API
routes do it). A load that was under way when the tenant was invalidated is not kept. Returned arrays are
read-only: they are shared by every call that plays them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

import numpy as np
from sqlalchemy import select

from infolinia.store.db import Database
from infolinia.store.models import Prompt, Tenant
from infolinia.voice.prompts.audio import Samples, join
from infolinia.voice.prompts.catalog import SYSTEM_NAMES
from infolinia.voice.prompts.system import Key, SystemPrompts, load_or_generate

__all__ = ["GAP_MS", "PromptLibrary", "Resolved", "Source"]

log = logging.getLogger(__name__)

#: silence between the parts of a phrase ("your position in the queue is" ... "three")
GAP_MS: Final = 150
FALLBACK_LANGUAGE: Final = "en"
Source = Literal["tenant", "system"]


@dataclass(frozen=True)
class Resolved:
    """A recording found for a request: its samples, whose it is, and its language (maybe not the one asked)."""

    samples: Samples
    source: Source
    language: str


@dataclass
class _Tenant:
    languages: tuple[str, ...]  # the tenant's languages, the preferred first
    recorded: dict[str, tuple[str, ...]]  # name -> the languages the tenant recorded it in
    audio: dict[Key, Samples] = field(default_factory=dict)  # (language, name) -> samples, filled as played


def _read_only(samples: Samples) -> Samples:
    samples.setflags(write=False)
    return samples


class PromptLibrary:
    """System prompts in ``<data_dir>/prompts/system`` and every tenant's own prompts in ``db``."""

    def __init__(self, db: Database, data_dir: str | Path, workers: int | None = None) -> None:
        self.db = db
        self.data_dir = Path(data_dir)
        self.workers = workers
        self.loaded: SystemPrompts | None = None
        self._system: dict[Key, Samples] = {}
        self._system_languages: dict[str, list[str]] = {}
        self._tenants: dict[int, _Tenant] = {}
        self._generation: dict[int, int] = {}

    @property
    def started(self) -> bool:
        return self.loaded is not None

    async def start(self) -> SystemPrompts:
        """Read the system prompts, making those missing or out of date (espeak-ng, in worker threads); once.
        A ``generate.PromptError`` says why they cannot be made."""
        if self.loaded is not None:
            return self.loaded
        loaded = await asyncio.to_thread(load_or_generate, self.data_dir, self.workers)
        self._system = {key: _read_only(samples) for key, samples in loaded.audio.items()}
        for language, name in sorted(self._system):
            self._system_languages.setdefault(name, []).append(language)
        self.loaded = loaded
        log.info(
            "system prompts ready in %.2f s: %d made, %d up to date (%s)",
            loaded.seconds, loaded.generated, loaded.reused, self.data_dir / "prompts" / "system",
        )  # fmt: skip
        return loaded

    def system_names(self) -> frozenset[str]:
        return SYSTEM_NAMES

    def system_prompt(self, name: str, language: str) -> Samples | None:
        """The system recording of ``name`` in exactly ``language`` (None before ``start`` or if there is none)."""
        return self._system.get((language, name))

    def system_languages(self, name: str) -> list[str]:
        """The languages the system prompt ``name`` exists in (none before ``start``)."""
        return list(self._system_languages.get(name, ()))

    async def names(self, tenant_id: int) -> frozenset[str]:
        """Every prompt name the tenant's flows may play: the system ones and its own."""
        return SYSTEM_NAMES | frozenset((await self._tenant(tenant_id)).recorded)

    async def resolve(self, tenant_id: int, name: str, language: str) -> Resolved | None:
        """The recording callers of the tenant hear for ``name`` in ``language`` (see the module's docstring)."""
        tenant = await self._tenant(tenant_id)
        recorded = tenant.recorded.get(name, ())
        if recorded:
            preferred = [lang for lang in (language, *tenant.languages) if lang in recorded] or sorted(recorded)
            samples = await self._tenant_audio(tenant_id, tenant, name, preferred[0])
            if samples is not None:
                return Resolved(samples, "tenant", preferred[0])
        for fallback in (language, FALLBACK_LANGUAGE):
            if (found := self._system.get((fallback, name))) is not None:
                return Resolved(found, "system", fallback)
        return None

    async def get(self, tenant_id: int, name: str, language: str) -> Samples | None:
        """The samples (8 kHz mono int16, read-only) of ``resolve``, or None when no recording has that name."""
        found = await self.resolve(tenant_id, name, language)
        return None if found is None else found.samples

    async def phrase(self, tenant_id: int, names: Iterable[str], language: str, gap_ms: int = GAP_MS) -> Samples:
        """The prompts ``names`` one after another, ``gap_ms`` apart (e.g. ``speech.position(3, "pl")``). A name
        without a recording is left out and logged: the caller hears the rest rather than nothing."""
        return join(await self.parts(tenant_id, names, language), gap_ms)

    async def parts(self, tenant_id: int, names: Iterable[str], language: str) -> list[Samples]:
        """The recordings ``phrase`` joins, each the library's own shared array (so the same recording is the same
        object until the tenant's prompts change: what a cache of phrases keys on)."""
        parts = []
        for name in names:
            samples = await self.get(tenant_id, name, language)
            if samples is None:
                log.warning("tenant %d: no prompt %r in %r or any fallback; left out", tenant_id, name, language)
            else:
                parts.append(samples)
        return parts

    def invalidate(self, tenant_id: int) -> None:
        """Forget what is cached about the tenant's own prompts (after a change to them committed)."""
        self._tenants.pop(tenant_id, None)
        self._generation[tenant_id] = self._generation.get(tenant_id, 0) + 1

    async def _tenant(self, tenant_id: int) -> _Tenant:
        cached = self._tenants.get(tenant_id)
        if cached is not None:
            return cached
        generation = self._generation.get(tenant_id, 0)
        async with self.db.session() as s:
            rows = (await s.execute(select(Prompt.name, Prompt.language).where(Prompt.tenant_id == tenant_id))).all()
            languages = await s.scalar(select(Tenant.languages).where(Tenant.id == tenant_id))
        recorded: dict[str, list[str]] = {}
        for name, language in rows:
            recorded.setdefault(name, []).append(language)
        loaded = _Tenant(tuple(languages or ()), {name: tuple(sorted(langs)) for name, langs in recorded.items()})
        if self._generation.get(tenant_id, 0) == generation:
            self._tenants[tenant_id] = loaded
        return loaded

    async def _tenant_audio(self, tenant_id: int, tenant: _Tenant, name: str, language: str) -> Samples | None:
        if (found := tenant.audio.get((language, name))) is not None:
            return found
        generation = self._generation.get(tenant_id, 0)
        where = (Prompt.tenant_id == tenant_id, Prompt.name == name, Prompt.language == language)
        async with self.db.session() as s:
            pcm = await s.scalar(select(Prompt.pcm).where(*where))
        if pcm is None:  # deleted since the index was read
            return None
        samples = _read_only(np.frombuffer(pcm, dtype="<i2").astype(np.int16))
        if self._generation.get(tenant_id, 0) == generation:
            tenant.audio[(language, name)] = samples
        return samples
