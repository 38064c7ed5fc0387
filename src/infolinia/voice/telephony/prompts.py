"""The prompt names a tenant's flows may play, in one place: saving a flow checks its prompts against them.

They are the system prompts of the catalog (``voice/prompts/catalog.py``) and the tenant's own recordings, read
through the session the caller is writing with, so a flow saved in the same transaction as its prompts (the demo
seed) sees them.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from infolinia.store.models import Prompt
from infolinia.voice.prompts.catalog import SYSTEM_NAMES

__all__ = ["known_prompts"]


async def known_prompts(session: AsyncSession, tenant_id: int) -> frozenset[str]:
    """The prompt names tenant ``tenant_id`` can play: the system's and its own."""
    own = await session.scalars(select(Prompt.name).where(Prompt.tenant_id == tenant_id).distinct())
    return SYSTEM_NAMES | frozenset(own)
