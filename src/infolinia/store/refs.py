"""Checking that rows a request points at exist in the caller's tenant."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from infolinia.errors import Invalid


async def require_in_tenant(session: AsyncSession, tenant_id: int, refs: Mapping[str, tuple[Any, int | None]]) -> None:
    """Each ``field: (Model, id)`` with an id must be a row of ``tenant_id``; else 422 ``unknown_reference`` naming
    the field (a row of another tenant is reported exactly like a missing one)."""
    for field, (model, ident) in refs.items():
        if ident is None:
            continue
        found = await session.scalar(select(model.id).where(model.tenant_id == tenant_id, model.id == ident))
        if found is None:
            raise Invalid(f"{field} {ident} does not exist", code="unknown_reference", details={"field": field})
