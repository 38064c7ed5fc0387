"""Users, logins, sessions and API tokens."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from infolinia.access import Actor, assignable_roles
from infolinia.auth.passwords import check_strength, hash_password, needs_rehash, verify_password
from infolinia.auth.tokens import hash_secret, new_secret
from infolinia.errors import Conflict, Forbidden, Invalid
from infolinia.schemas import TokenIn, UserIn, UserPatch
from infolinia.store.models import AuthToken, Role, Team, TeamMember, Tenant, TokenKind, User
from infolinia.store.types import utcnow
from infolinia.store.uow import Tx


async def team_ids(session: AsyncSession, user_id: int) -> list[int]:
    rows = await session.scalars(select(TeamMember.team_id).where(TeamMember.user_id == user_id))
    return sorted(rows)


async def _set_teams(tx: Tx, user: User, ids: list[int]) -> None:
    wanted = set(ids)
    if wanted:
        if user.tenant_id is None:
            raise Invalid("platform admins belong to no team", code="unknown_team")
        found = set(
            await tx.session.scalars(select(Team.id).where(Team.tenant_id == user.tenant_id, Team.id.in_(wanted)))
        )
        if missing := wanted - found:
            raise Invalid(f"unknown team(s): {sorted(missing)}", code="unknown_team")
    await tx.session.execute(delete(TeamMember).where(TeamMember.user_id == user.id))
    for team_id in sorted(wanted):
        tx.session.add(TeamMember(team_id=team_id, user_id=user.id, tenant_id=user.tenant_id))


def _check_role_grant(actor: Actor | None, role: Role) -> None:
    if actor is not None and role not in assignable_roles(actor):
        raise Forbidden(f"you may not give the role {role.value!r}", code="role_not_assignable")


async def create_user(
    tx: Tx, tenant_id: int | None, data: UserIn, actor: Actor | None = None, *, min_password_length: int = 8
) -> User:
    """Create a user in a tenant (``tenant_id`` None only for platform admins). ``actor`` None = the CLI.
    Only the demo seeder passes a shorter ``min_password_length`` (its documented password is 'demo')."""
    _check_role_grant(actor, data.role)
    check_strength(data.password, min_password_length)
    if (data.role is Role.PLATFORM_ADMIN) != (tenant_id is None):
        raise Invalid("platform admins have no tenant; every other user has one", code="tenant_role_mismatch")
    if await tx.session.scalar(select(User.id).where(User.email == data.email)) is not None:
        raise Conflict(f"a user with e-mail {data.email!r} exists", code="email_taken")
    user = User(
        tenant_id=tenant_id,
        email=data.email,
        display_name=data.display_name,
        role=data.role,
        password_hash=hash_password(data.password),
        language=data.language,
    )
    tx.session.add(user)
    await tx.session.flush()
    await _set_teams(tx, user, data.team_ids)
    tx.audit(tenant_id, "user.created", "user", user.id, role=user.role.value)
    tx.emit("user.created", tenant_id, id=user.id, role=user.role.value)
    return user


async def other_active_admins(session: AsyncSession, user: User) -> int:
    """How many active admins the user's tenant has besides ``user``."""
    query = select(User.id).where(
        User.tenant_id == user.tenant_id, User.role == Role.TENANT_ADMIN, User.active.is_(True), User.id != user.id
    )
    return len(list(await session.scalars(query)))


async def update_user(tx: Tx, user: User, data: UserPatch, actor: Actor, *, min_password_length: int = 8) -> User:
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    demoted = data.role is not None and data.role is not Role.TENANT_ADMIN and user.role is Role.TENANT_ADMIN
    if demoted and user.id == actor.user_id and not await other_active_admins(tx.session, user):
        msg = "you are the tenant's last active admin: give another user the admin role first"
        raise Conflict(msg, code="last_admin")  # nobody could give the role back
    if "role" in changes and changes["role"] != user.role:
        if not assignable_roles(actor):
            raise Forbidden("changing roles needs the roles.manage permission", code="forbidden")
        _check_role_grant(actor, data.role or user.role)
        if (user.role is Role.PLATFORM_ADMIN) != (data.role is Role.PLATFORM_ADMIN):
            raise Invalid("a user cannot move between tenant and platform roles", code="tenant_role_mismatch")
        tx.audit(user.tenant_id, "user.role_changed", "user", user.id, old=user.role.value, new=changes["role"])
    if user.id == actor.user_id and changes.get("active") is False:
        raise Invalid("you cannot deactivate yourself", code="self_deactivation")
    if "password" in changes:
        check_strength(changes["password"], min_password_length)
        user.password_hash = hash_password(changes.pop("password"))
        await revoke_all_sessions(tx, user.id)
        tx.audit(user.tenant_id, "user.password_changed", "user", user.id)
    if "team_ids" in changes:
        await _set_teams(tx, user, changes.pop("team_ids"))
    for key, value in changes.items():
        setattr(user, key, value)
    if changes.get("active") is False:
        await revoke_all_sessions(tx, user.id, include_api=True)
    await tx.session.flush()
    tx.audit(user.tenant_id, "user.updated", "user", user.id, fields=sorted(data.model_fields_set))
    tx.emit("user.updated", user.tenant_id, id=user.id)
    return user


async def revoke_all_sessions(tx: Tx, user_id: int, include_api: bool = False) -> None:
    query = select(AuthToken).where(AuthToken.user_id == user_id, AuthToken.revoked_at.is_(None))
    if not include_api:
        query = query.where(AuthToken.kind == TokenKind.SESSION)
    for token in await tx.session.scalars(query):
        token.revoked_at = utcnow()


async def check_password(tx: Tx, email: str, password: str) -> User | None:
    """The user when the password is right and the account active; None otherwise (audited either way)."""
    user = await tx.session.scalar(select(User).where(User.email == email))
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.active:
        tx.audit(user.tenant_id if user else None, "login.failed", "user", user.id if user else None)
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    tx.audit(user.tenant_id, "login.succeeded", "user", user.id)
    return user


async def issue_token(
    tx: Tx, user: User, kind: TokenKind, name: str, lifetime: timedelta | None
) -> tuple[AuthToken, str]:
    secret = new_secret(kind.value)
    token = AuthToken(
        tenant_id=user.tenant_id,
        user_id=user.id,
        kind=kind,
        name=name,
        token_hash=hash_secret(secret),
        expires_at=None if lifetime is None else utcnow() + lifetime,
    )
    tx.session.add(token)
    await tx.session.flush()
    if kind is TokenKind.API:
        tx.audit(user.tenant_id, "token.created", "token", token.id, name=name)
    return token, secret


async def create_api_token(tx: Tx, user: User, data: TokenIn) -> tuple[AuthToken, str]:
    lifetime = None if data.expires_in_days is None else timedelta(days=data.expires_in_days)
    return await issue_token(tx, user, TokenKind.API, data.name, lifetime)


async def revoke_token(tx: Tx, token: AuthToken) -> None:
    token.revoked_at = utcnow()
    if token.kind is TokenKind.API:
        tx.audit(token.tenant_id, "token.revoked", "token", token.id)


async def authenticate(
    session: AsyncSession, secret: str, now: datetime
) -> tuple[User, AuthToken, Tenant | None] | None:
    """The user, token and user's tenant behind a bearer/cookie secret, if it is live (one query)."""
    row = (
        await session.execute(
            select(AuthToken, User, Tenant)
            .join(User, User.id == AuthToken.user_id)
            .outerjoin(Tenant, Tenant.id == User.tenant_id)
            .where(AuthToken.token_hash == hash_secret(secret))
        )
    ).first()
    if row is None:
        return None
    token, user, tenant = row
    if token.revoked_at is not None or not user.active:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = now
        await session.commit()
    return user, token, tenant
