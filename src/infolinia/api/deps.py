"""The one gate every ``/api/v1`` route passes through: authenticate, fix the tenant, resolve every object named
in the path inside that tenant (404 otherwise, whatever the role), then check the permission (403).

A route declares ``a: Access = Depends(access("customers.read"))``; a WebSocket route
``w: WsAccess = Depends(ws_access("events.read"))``, which takes the credentials from the handshake or from a first
``auth`` message (``api/wsgate.py``) and then passes the same ``admit()``. Path parameters are resolved by name through
``RESOLVERS``; a route with a path parameter that no resolver knows fails at start-up, so no route can skip it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import Request, WebSocket
from fastapi.routing import APIRoute, APIWebSocketRoute
from sqlalchemy import ColumnElement, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from infolinia.access import PERMISSIONS, TEAM_SCOPED_ROLES, Actor, can
from infolinia.api import wsgate
from infolinia.api.credentials import TENANT_HEADER, Credentials, credentials
from infolinia.auth.actions import authenticate, team_ids
from infolinia.config import Settings
from infolinia.errors import DomainError, Forbidden, Invalid, NotFound, Unauthorized
from infolinia.routing.service import RoutingService
from infolinia.schemas import MAX_ID, has_nul
from infolinia.store.models import (
    AgentScript,
    AuthToken,
    Callback,
    Campaign,
    CampaignContact,
    Case,
    ChatFile,
    ChatSession,
    Customer,
    CustomerIdentity,
    DoNotCall,
    EmailAttachment,
    EmailMessage,
    Interaction,
    IvrFlow,
    KbArticle,
    KbCategory,
    PhoneNumber,
    Queue,
    RoutingTask,
    Team,
    Tenant,
    Trunk,
    User,
    WrapupCode,
)
from infolinia.store.types import utcnow
from infolinia.store.uow import Tx, Who, transaction
from infolinia.voice.prompts.names import check_name
from infolinia.voice.telephony import TelephonyDirectory

if TYPE_CHECKING:
    from infolinia.voice.prompts.library import PromptLibrary


def interaction_scope(actor: Actor, tenant_id: int) -> ColumnElement[bool]:
    """Interactions this actor may see: the tenant's; back-office only its teams' queues and its own."""
    where = Interaction.tenant_id == tenant_id
    if actor.role in TEAM_SCOPED_ROLES:
        team_queues = select(Queue.id).where(Queue.tenant_id == tenant_id, Queue.team_id.in_(actor.team_ids))
        where = where & or_(Interaction.agent_id == actor.user_id, Interaction.queue_id.in_(team_queues))
    return where


def case_scope(actor: Actor, tenant_id: int) -> ColumnElement[bool]:
    """Cases this actor may see: the tenant's; back-office only its teams' cases and those assigned to it or filed
    by it."""
    where = Case.tenant_id == tenant_id
    if actor.role in TEAM_SCOPED_ROLES:
        mine = or_(Case.assignee_id == actor.user_id, Case.created_by_id == actor.user_id)
        where = where & or_(mine, Case.team_id.in_(actor.team_ids))
    return where


Scope = Callable[[Actor, Tenant | None], ColumnElement[bool]]


def _tenant_rows(model: Any) -> Scope:
    return lambda actor, tenant: model.tenant_id == tenant.id if tenant else true()


#: path parameter -> (model, what the actor may see of it, the noun for "not found", needs a tenant)
RESOLVERS: dict[str, tuple[type[Any], Scope, str, bool]] = {
    "tenant_id": (Tenant, lambda a, t: true() if a.is_platform_admin else Tenant.id == a.tenant_id, "tenant", False),
    "user_id": (User, _tenant_rows(User), "user", True),
    "team_id": (Team, _tenant_rows(Team), "team", True),
    "queue_id": (Queue, _tenant_rows(Queue), "queue", True),
    "customer_id": (Customer, _tenant_rows(Customer), "customer", True),
    "identity_id": (CustomerIdentity, _tenant_rows(CustomerIdentity), "identity", True),
    "interaction_id": (Interaction, lambda a, t: interaction_scope(a, t.id) if t else true(), "interaction", True),
    "token_id": (AuthToken, lambda a, t: AuthToken.user_id == a.user_id, "token", False),
    "task_id": (RoutingTask, _tenant_rows(RoutingTask), "task", True),
    "flow_id": (IvrFlow, _tenant_rows(IvrFlow), "IVR flow", True),
    "number_id": (PhoneNumber, _tenant_rows(PhoneNumber), "number", True),
    "trunk_id": (Trunk, _tenant_rows(Trunk), "trunk", True),
    "callback_id": (Callback, _tenant_rows(Callback), "callback", True),
    "campaign_id": (Campaign, _tenant_rows(Campaign), "campaign", True),
    "contact_id": (CampaignContact, _tenant_rows(CampaignContact), "contact", True),
    "dnc_id": (DoNotCall, _tenant_rows(DoNotCall), "do-not-call entry", True),
    "case_id": (Case, lambda a, t: case_scope(a, t.id) if t else true(), "case", True),
    "article_id": (KbArticle, _tenant_rows(KbArticle), "article", True),
    "category_id": (KbCategory, _tenant_rows(KbCategory), "category", True),
    "script_id": (AgentScript, _tenant_rows(AgentScript), "script", True),
    "wrapup_code_id": (WrapupCode, _tenant_rows(WrapupCode), "wrap-up code", True),
    "email_id": (EmailMessage, _tenant_rows(EmailMessage), "e-mail", True),
    "attachment_id": (EmailAttachment, _tenant_rows(EmailAttachment), "attachment", True),
    "chat_id": (ChatSession, _tenant_rows(ChatSession), "chat", True),
    "chat_file_id": (ChatFile, _tenant_rows(ChatFile), "chat file", True),
}

#: path parameters that are names within the actor's tenant, not rows: checked by their function (422 when
#: malformed) and passed on as given. The route looks the name up in the tenant only, so no other tenant's object
#: can be named.
NAMED: dict[str, Callable[[str], str]] = {"prompt_name": check_name}


def _tenant_required() -> Invalid:
    return Invalid(f"platform admins name the tenant in the {TENANT_HEADER} header", code="tenant_required")


@dataclass
class Access:
    """What a route may work with: the actor, its tenant, the objects named in the path, and a session."""

    request: Request
    session: AsyncSession
    actor: Actor
    tenant_obj: Tenant | None
    objects: dict[str, Any] = field(default_factory=dict)

    @property
    def tenant(self) -> Tenant:
        if self.tenant_obj is None:
            raise _tenant_required()
        return self.tenant_obj

    @property
    def settings(self) -> Settings:
        settings: Settings = self.request.app.state.ctx.settings
        return settings

    def obj(self, param: str) -> Any:
        return self.objects[param]

    @property
    def who(self) -> Who:
        return Who(self.actor.user_id, self.actor.label, client_ip(self.request))

    def write(self) -> AbstractAsyncContextManager[Tx]:
        return transaction(self.session, self.request.app.state.ctx.bus, self.who)

    @property
    def routing(self) -> RoutingService:
        """The running routing engine's service: a route that changed what it is configured with reloads it here,
        after its write committed."""
        routing: RoutingService = self.request.app.state.ctx.routing
        return routing

    @property
    def telephony(self) -> TelephonyDirectory:
        """What the call control reads numbers, trunks and flows through: a route that changed them (or a tenant's
        settings) invalidates its cache here, after its write committed."""
        telephony: TelephonyDirectory = self.request.app.state.ctx.telephony
        return telephony

    @property
    def prompts(self) -> PromptLibrary:
        """The running prompt library: a route that changed the tenant's prompts invalidates its cache here."""
        prompts: PromptLibrary = self.request.app.state.ctx.prompts
        return prompts


@dataclass
class WsAccess:
    """What a WebSocket route works with once the gate let it in: the accepted socket, the actor, its tenant."""

    websocket: WebSocket
    actor: Actor
    tenant: Tenant | None
    presented: Credentials
    permission: str

    @property
    def settings(self) -> Settings:
        settings: Settings = self.websocket.app.state.ctx.settings
        return settings

    async def recheck(self) -> None:
        """Pass the gate again (a long stream outlives logouts, deactivations and role changes); a 44xx close if not."""
        await _admit_socket(self.websocket, self.presented, self.permission)


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


async def _actor(s: AsyncSession, presented: Credentials) -> tuple[Actor, Tenant | None]:
    found = await authenticate(s, presented.secret, utcnow()) if presented.secret else None
    if found is None:
        raise Unauthorized("log in first (session cookie or Authorization: Bearer token)")
    user, token, tenant = found
    if tenant is None and (slug := presented.tenant):
        tenant = await s.scalar(select(Tenant).where(Tenant.slug == slug))
        if tenant is None:
            raise NotFound(f"no tenant {slug!r}")
    actor = Actor(
        user_id=user.id,
        email=user.email,
        role=user.role,
        tenant_id=tenant.id if tenant else None,
        team_ids=frozenset(await team_ids(s, user.id)) if user.role in TEAM_SCOPED_ROLES else frozenset(),
        token_id=token.id,
    )
    return actor, tenant


async def _resolve(s: AsyncSession, actor: Actor, tenant: Tenant | None, params: dict[str, Any]) -> dict[str, Any]:
    objects: dict[str, Any] = {}
    for name, raw in params.items():
        named = name in NAMED
        if tenant is None and (named or RESOLVERS[name][3]):
            raise _tenant_required()
        if named:
            objects[name] = NAMED[name](raw)
            continue
        model, scope, noun, _ = RESOLVERS[name]
        key = int(raw) if raw.isascii() and raw.isdigit() else 0
        found = None
        if 1 <= key <= MAX_ID:
            found = await s.scalar(select(model).where(model.id == key, scope(actor, tenant)))
        if found is None:
            raise NotFound(f"no {noun} {raw}")
        objects[name] = found
    customer = objects.get("customer_id")
    for obj in objects.values():
        if customer is not None and hasattr(obj, "customer_id") and obj.customer_id != customer.id:
            raise NotFound("not found for this customer")
    return objects


async def admit(
    s: AsyncSession, presented: Credentials, permission: str, params: dict[str, Any]
) -> tuple[Actor, Tenant | None, dict[str, Any]]:
    """The gate itself, for HTTP and WebSocket alike. Order matters: 401, then 404, then 403."""
    actor, tenant = await _actor(s, presented)
    objects = await _resolve(s, actor, tenant, params)
    if not can(actor, permission):
        raise Forbidden(f"your role ({actor.role.value}) lacks {permission}", details={"permission": permission})
    return actor, tenant, objects


def _known(permission: str) -> None:
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")


def access(permission: str) -> Callable[[Request], AsyncIterator[Access]]:
    """The dependency for an HTTP route needing ``permission``."""
    _known(permission)

    async def dependency(request: Request) -> AsyncIterator[Access]:
        if any(has_nul(v) for v in request.query_params.values()):
            raise Invalid("query parameters must not contain NUL characters")
        async with request.app.state.ctx.db.session() as s:
            actor, tenant, objects = await admit(s, credentials(request), permission, dict(request.path_params))
            yield Access(request, s, actor, tenant, objects)

    dependency.permission = permission  # type: ignore[attr-defined]
    return dependency


def ws_access(permission: str) -> Callable[[WebSocket], Awaitable[WsAccess]]:
    """The dependency for a WebSocket route needing ``permission``: origin and credentials from the handshake or the
    first message (``api/wsgate.py``), then ``admit()``; a refusal closes the socket with ``4000 + HTTP status``.
    The database session is released before the route runs (streams are long)."""
    _known(permission)

    async def dependency(websocket: WebSocket) -> WsAccess:
        presented = await wsgate.handshake(websocket)
        actor, tenant = await _admit_socket(websocket, presented, permission)
        return WsAccess(websocket, actor, tenant, presented, permission)

    dependency.permission = permission  # type: ignore[attr-defined]
    return dependency


async def _admit_socket(websocket: WebSocket, presented: Credentials, permission: str) -> tuple[Actor, Tenant | None]:
    try:
        async with websocket.app.state.ctx.db.session() as s:
            actor, tenant, _ = await admit(s, presented, permission, dict(websocket.path_params))
    except DomainError as exc:
        raise wsgate.refusal(exc) from None
    return actor, tenant


def route_permission(route: APIRoute | APIWebSocketRoute) -> str | None:
    """The permission a route's access dependency demands (None when the route is public)."""
    for dep in route.dependant.dependencies:
        perm = getattr(dep.call, "permission", None)
        if perm is not None:
            return str(perm)
    return None


def check_routes(routes: Sequence[tuple[str, APIRoute | APIWebSocketRoute]], public: frozenset[str]) -> None:
    """Refuse to start if an API route (HTTP or WebSocket) skips the gate or names a path parameter no resolver
    knows."""
    for path, route in routes:
        if path in public:
            continue
        if route_permission(route) is None:
            raise RuntimeError(f"route {path} has no access() dependency")
        for param in route.param_convertors:
            if param not in RESOLVERS and param not in NAMED:
                raise RuntimeError(f"route {path}: no resolver for path parameter {param!r}")
