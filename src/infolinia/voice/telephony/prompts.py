"""The prompt names a tenant's flows may play, in one place: saving a flow checks its prompts against them.

For now: the demo flow's prompts, and the system prompts of the prompt catalog (``infolinia.voice.prompts.catalog``,
``SYSTEM_NAMES``) when that module is there, for every tenant. The prompt library replaces this function with its
own ``names(tenant_id)`` (what a tenant can play, its own recordings included); nothing else needs to change.
"""

from __future__ import annotations

import importlib
from functools import cache

from sqlalchemy.ext.asyncio import AsyncSession

from infolinia.voice.ivr import DEMO_PROMPTS

__all__ = ["known_prompts"]

CATALOG = "infolinia.voice.prompts.catalog"


@cache
def _catalog_names() -> frozenset[str]:
    try:
        catalog = importlib.import_module(CATALOG)
    except ImportError:
        return frozenset()
    return frozenset(name for name in getattr(catalog, "SYSTEM_NAMES", ()) if isinstance(name, str))


async def known_prompts(session: AsyncSession, tenant_id: int) -> frozenset[str]:
    """The prompt names tenant ``tenant_id`` can play (``session``: for the prompt library's lookup)."""
    del session, tenant_id  # every tenant has the same prompts until the library stores its own
    return DEMO_PROMPTS | _catalog_names()
