"""Who may register: tenants by SIP realm or domain, agents by extension, and their stored HA1 digests."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from infolinia.store.db import Database
from infolinia.store.models import AgentProfile, Tenant

REALM_SUFFIX = ".infolinia"
HA1_COLUMNS = {"MD5": AgentProfile.sip_ha1_md5, "SHA-256": AgentProfile.sip_ha1_sha256}


@dataclass(frozen=True, slots=True)
class SipTenant:
    id: int
    slug: str

    @property
    def realm(self) -> str:
        return f"{self.slug}{REALM_SUFFIX}"


def slug_of(realm_or_domain: str) -> str | None:
    """``demo`` for ``demo.infolinia`` (any case); None for a name that is not a tenant realm."""
    name = realm_or_domain.lower()
    return name.removesuffix(REALM_SUFFIX) if name.endswith(REALM_SUFFIX) and len(name) > len(REALM_SUFFIX) else None


class AgentDirectory:
    """Reads through the project's ``Database``; every call is one short query."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def tenant(self, slug: str) -> SipTenant | None:
        async with self.db.session() as session:
            row = (await session.execute(select(Tenant.id, Tenant.slug).where(Tenant.slug == slug))).first()
        return None if row is None else SipTenant(row.id, row.slug)

    async def tenants_with(self, extension: str) -> list[SipTenant]:
        query = (
            select(Tenant.id, Tenant.slug)
            .join(AgentProfile, AgentProfile.tenant_id == Tenant.id)
            .where(AgentProfile.extension == extension)
        )
        async with self.db.session() as session:
            return [SipTenant(row.id, row.slug) for row in (await session.execute(query)).all()]

    async def ha1(self, tenant: SipTenant, extension: str, algorithm: str) -> str | None:
        column = HA1_COLUMNS.get(algorithm)
        if column is None:
            return None
        query = select(column).where(
            AgentProfile.tenant_id == tenant.id,
            AgentProfile.extension == extension,
            AgentProfile.sip_realm == tenant.realm,
        )
        async with self.db.session() as session:
            value: str | None = (await session.execute(query)).scalar()
        return value
