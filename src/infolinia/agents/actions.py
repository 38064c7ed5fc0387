"""Agent profile actions. The SIP password is kept only as RFC 7616 HA1 digests (MD5 and SHA-256)."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from infolinia.errors import Conflict, Invalid
from infolinia.schemas import AgentProfileIn, CapacityIn
from infolinia.store.models import AgentProfile, Role, Tenant, User
from infolinia.store.uow import Tx

AGENT_ROLES = frozenset({Role.AGENT, Role.SUPERVISOR, Role.BACK_OFFICE, Role.TENANT_ADMIN})


def capacity(profile: AgentProfile | None) -> dict[str, int]:
    """Contacts at once per channel; a user without a profile shows what a new profile starts with."""
    if profile is None:
        return CapacityIn().model_dump()
    return {channel: getattr(profile, f"capacity_{channel}") for channel in CapacityIn.model_fields}


def sip_realm(tenant: Tenant) -> str:
    return f"{tenant.slug}.infolinia"


def ha1(algorithm: str, username: str, realm: str, password: str) -> str:
    """H(username:realm:password) for digest auth; ``algorithm`` is ``md5`` or ``sha256``."""
    return hashlib.new(algorithm, f"{username}:{realm}:{password}".encode()).hexdigest()


async def set_profile(tx: Tx, user: User, tenant: Tenant, data: AgentProfileIn) -> AgentProfile:
    if user.role not in AGENT_ROLES or user.tenant_id != tenant.id:
        raise Invalid(f"a {user.role.value} cannot have an agent profile", code="not_an_agent")
    profile = await tx.session.get(AgentProfile, user.id) or AgentProfile(user_id=user.id, tenant_id=tenant.id)
    changes = data.model_dump(exclude_unset=True)
    if "extension" in changes and changes["extension"] is not None:
        taken = await tx.session.scalar(
            select(AgentProfile.user_id).where(
                AgentProfile.tenant_id == tenant.id,
                AgentProfile.extension == data.extension,
                AgentProfile.user_id != user.id,
            )
        )
        if taken is not None:
            raise Conflict(f"extension {data.extension} belongs to another agent", code="extension_taken")
    for key in ("extension", "skills", "languages", "voice_exclusive"):
        if key in changes:
            setattr(profile, key, changes[key])
    for channel, count in changes.get("capacity", {}).items():  # only the channels given change
        setattr(profile, f"capacity_{channel}", count)
    if profile.extension is None:
        profile.sip_realm = profile.sip_ha1_md5 = profile.sip_ha1_sha256 = None
    elif data.sip_password is not None:
        realm = sip_realm(tenant)
        profile.sip_realm = realm
        profile.sip_ha1_md5 = ha1("md5", profile.extension, realm, data.sip_password)
        profile.sip_ha1_sha256 = ha1("sha256", profile.extension, realm, data.sip_password)
    elif "extension" in changes and profile.sip_ha1_md5 is not None:
        raise Invalid("changing the extension needs a new sip_password (digests include it)", code="sip_password")
    tx.session.add(profile)
    await tx.session.flush()
    fields = sorted(k for k in changes if k != "sip_password") + (["sip_password"] if data.sip_password else [])
    tx.audit(tenant.id, "agent.updated", "user", user.id, fields=fields)
    tx.emit("agent.updated", tenant.id, user_id=user.id)
    return profile
