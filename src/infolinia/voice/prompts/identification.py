"""The identification message a customer hears when a predictive call finds no agent within 2 s: who called
(the tenant's name) and that we will call again.

It is the tenant's own prompt ``outbound_identification``: when the tenant first dials predictively and has none,
it is made with espeak-ng from the tenant's name in its first language (``catalog.IDENTIFICATION_TEXTS``) and
stored like an uploaded prompt (audited, ``prompt.created``), so the tenant can listen to it, replace it with its
own recording (``PUT /api/v1/prompts/outbound_identification``) or delete it (it is then made again from the name).
Should espeak-ng fail, the system prompt of the same name, which names no company, is what is played.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Final

from sqlalchemy import Select, select

from infolinia.events import EventBus
from infolinia.store.db import Database
from infolinia.store.models import Prompt, Tenant
from infolinia.store.uow import Who, write
from infolinia.voice.prompts.actions import save_prompt
from infolinia.voice.prompts.catalog import IDENTIFICATION_TEXTS, VOICES
from infolinia.voice.prompts.generate import PromptError, synthesise
from infolinia.voice.prompts.library import PromptLibrary

__all__ = ["IDENTIFICATION", "call_language", "ensure_identification"]

log = logging.getLogger(__name__)

IDENTIFICATION: Final = "outbound_identification"
MAKER: Final = Who(None, "predictive dialer")


def call_language(tenant: Tenant) -> str:
    """The language outbound messages are spoken in: the tenant's first one that the catalog speaks."""
    return next((lang for lang in tenant.languages if lang in IDENTIFICATION_TEXTS), "en")


def _own(tenant_id: int) -> Select[int]:
    return select(Prompt.id).where(Prompt.tenant_id == tenant_id, Prompt.name == IDENTIFICATION).limit(1)


async def ensure_identification(db: Database, bus: EventBus | None, library: PromptLibrary, tenant_id: int) -> bool:
    """The tenant has its own identification message (made now from its name if it had none); False when it could
    not be made (the system one is played then)."""
    async with db.session() as s:
        tenant = await s.get(Tenant, tenant_id)
        if tenant is None:
            return False
        found = await s.scalar(_own(tenant_id))
        language, company = call_language(tenant), tenant.name
    if found is not None:
        return True
    text = IDENTIFICATION_TEXTS[language].format(company=" ".join(company.split())[:200])
    try:
        samples = await asyncio.to_thread(synthesise, text, VOICES[language])
    except PromptError as error:
        log.warning("tenant %s: identification message not made (%s): the system one is played", tenant_id, error)
        return False
    async with write(db, bus, MAKER) as tx:
        if await tx.session.scalar(_own(tenant_id)) is not None:
            return True  # uploaded meanwhile: the tenant's own recording stays
        await save_prompt(tx, tenant_id, IDENTIFICATION, language, samples)
    library.invalidate(tenant_id)
    log.info("tenant %s: identification message made from its name (%s)", tenant_id, language)
    return True
