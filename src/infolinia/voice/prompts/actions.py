"""A tenant's own prompts: record (or replace) one, delete one, list them. Writes go through ``Tx`` (audit row,
event after commit). The running ``PromptLibrary`` caches what it plays: whoever calls these on a live process
calls ``library.invalidate(tenant_id)`` once the transaction committed (``api/routes/prompts.py`` does)."""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from infolinia.errors import Invalid, NotFound
from infolinia.store.models import Prompt
from infolinia.store.uow import Tx
from infolinia.voice.prompts.audio import Samples, duration_ms
from infolinia.voice.prompts.catalog import SYSTEM_NAMES
from infolinia.voice.prompts.names import check_language, check_name

__all__ = ["delete_prompt", "list_prompts", "save_prompt"]


async def _find(session: AsyncSession, tenant_id: int, name: str, language: str) -> Prompt | None:
    query = select(Prompt).where(Prompt.tenant_id == tenant_id, Prompt.name == name, Prompt.language == language)
    found: Prompt | None = await session.scalar(query)
    return found


async def save_prompt(tx: Tx, tenant_id: int, name: str, language: str, samples: Samples) -> tuple[Prompt, bool]:
    """Store ``samples`` (8 kHz mono int16) as the tenant's prompt ``name`` in ``language``, replacing the one there
    was. Returns the row and whether it is new."""
    check_name(name)
    check_language(language)
    if len(samples) == 0:
        raise Invalid("a prompt needs some audio", code="invalid_audio")
    pcm = samples.astype("<i2").tobytes()
    length, digest = duration_ms(samples), hashlib.sha256(pcm).hexdigest()
    prompt = await _find(tx.session, tenant_id, name, language)
    created = prompt is None
    if prompt is None:
        prompt = Prompt(tenant_id=tenant_id, name=name, language=language, pcm=pcm, duration_ms=length, sha256=digest)
        tx.session.add(prompt)
    else:
        prompt.pcm, prompt.duration_ms, prompt.sha256 = pcm, length, digest
    await tx.session.flush()
    action = "prompt.created" if created else "prompt.updated"
    tx.audit(tenant_id, action, "prompt", prompt.id, name=name, language=language, duration_ms=length, sha256=digest)
    if created:
        tx.emit("prompt.created", tenant_id, id=prompt.id, name=name, language=language)
    else:
        tx.emit("prompt.updated", tenant_id, id=prompt.id, name=name, language=language)
    return prompt, created


async def delete_prompt(tx: Tx, tenant_id: int, name: str, language: str) -> None:
    """Delete the tenant's own prompt ``name`` in ``language`` (callers hear the system one again, if any)."""
    prompt = await _find(tx.session, tenant_id, check_name(name), check_language(language))
    if prompt is None:
        hint = " (system prompts cannot be deleted, only replaced)" if name in SYSTEM_NAMES else ""
        raise NotFound(f"no prompt {name!r} in {language!r} of this tenant{hint}")
    prompt_id = prompt.id
    await tx.session.delete(prompt)
    await tx.session.flush()
    tx.audit(tenant_id, "prompt.deleted", "prompt", prompt_id, name=name, language=language)
    tx.emit("prompt.deleted", tenant_id, id=prompt_id, name=name, language=language)


async def list_prompts(session: AsyncSession, tenant_id: int) -> list[Prompt]:
    """The tenant's own prompts (without their audio), by name and language."""
    query = select(Prompt).where(Prompt.tenant_id == tenant_id).order_by(Prompt.name, Prompt.language)
    return list(await session.scalars(query))
