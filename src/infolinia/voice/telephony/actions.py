"""Telephony actions: a tenant's IVR flows, phone numbers and trunks. Each writes its rows, an audit row and an event
(published after commit); the routes then tell the call control's ``TelephonyDirectory`` to forget what it cached.

Flows are validated as a whole on every save (``validation.check_flow``): one 422 ``invalid_flow`` lists every
problem. A number is stored in E.164 with its national significant number, and belongs to one tenant only. A trunk's
password is kept only as HA1 digests in the tenant's realm, as agents' SIP passwords are.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from infolinia.agents.actions import ha1, sip_realm
from infolinia.errors import Conflict, Invalid
from infolinia.store.models import IvrFlow, PhoneNumber, Queue, Tenant, Trunk
from infolinia.store.refs import require_in_tenant
from infolinia.store.uow import Tx
from infolinia.voice.ivr import Flow
from infolinia.voice.telephony.schemas import FlowIn, NumberIn, NumberPatch, TrunkIn, TrunkPatch
from infolinia.voice.telephony.validation import InvalidNumber, check_flow, number_forms

__all__ = [
    "create_flow",
    "create_number",
    "create_trunk",
    "delete_flow",
    "delete_number",
    "delete_trunk",
    "tenant_queues",
    "update_flow",
    "update_number",
    "update_trunk",
]

#: problems quoted in the message of an ``invalid_flow`` error (``details.problems`` has them all)
QUOTED_PROBLEMS = 5


async def _flush(session: AsyncSession) -> None:
    """Flush. The checks before it name the field at fault; a request that got in between our check and our write
    (took the name, number or username, or gave a number the flow being deleted) is told so here, with a 409
    instead of a server error."""
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(
            "a change made at the same time conflicts with this one: try again", code="concurrent_change"
        ) from exc


async def _name_free(session: AsyncSession, model: Any, tenant_id: int, name: str, noun: str, own: int | None) -> None:
    found = await session.scalar(select(model.id).where(model.tenant_id == tenant_id, model.name == name))
    if found is not None and found != own:
        raise Conflict(f"name: a {noun} named {name!r} exists", code="name_taken", details={"field": "name"})


# --- IVR flows -------------------------------------------------------------------------------------------------


async def tenant_queues(session: AsyncSession, tenant_id: int) -> frozenset[str]:
    """What a flow may name as a queue: the tenant's queue names, and their ids as strings."""
    rows = (await session.execute(select(Queue.id, Queue.name).where(Queue.tenant_id == tenant_id))).all()
    return frozenset(name for row in rows for name in (row.name, str(row.id)))


async def _checked_flow(
    session: AsyncSession, tenant_id: int, definition: Mapping[str, Any], prompts: Collection[str]
) -> Flow:
    flow, problems = check_flow(definition, prompts, await tenant_queues(session, tenant_id))
    if flow is None or problems:
        quoted = "; ".join(str(problem) for problem in problems[:QUOTED_PROBLEMS])
        more = f"; and {len(problems) - QUOTED_PROBLEMS} more" if len(problems) > QUOTED_PROBLEMS else ""
        raise Invalid(
            f"definition: {len(problems)} problem(s): {quoted}{more}",
            code="invalid_flow",
            details={"field": "definition", "problems": [problem.as_json() for problem in problems]},
        )
    return flow


async def create_flow(tx: Tx, tenant_id: int, data: FlowIn, prompts: Collection[str]) -> IvrFlow:
    """A new flow, version 1. ``prompts``: the names of the prompts the tenant can play."""
    await _name_free(tx.session, IvrFlow, tenant_id, data.name, "flow", None)
    flow = await _checked_flow(tx.session, tenant_id, data.definition, prompts)
    row = IvrFlow(tenant_id=tenant_id, name=data.name, definition=flow.model_dump(mode="json"), version=1)
    tx.session.add(row)
    await _flush(tx.session)
    tx.audit(tenant_id, "ivr_flow.created", "ivr_flow", row.id, version=row.version)
    tx.emit("ivr_flow.created", tenant_id, id=row.id, version=row.version)
    return row


async def update_flow(tx: Tx, row: IvrFlow, data: FlowIn, prompts: Collection[str]) -> IvrFlow:
    """Replace the flow's name and definition; every save is a new version, seen by the calls that start after it."""
    await _name_free(tx.session, IvrFlow, row.tenant_id, data.name, "flow", row.id)
    definition = (await _checked_flow(tx.session, row.tenant_id, data.definition, prompts)).model_dump(mode="json")
    fields = [name for name, value in (("definition", definition), ("name", data.name)) if getattr(row, name) != value]
    row.name, row.definition, row.version = data.name, definition, row.version + 1
    await _flush(tx.session)
    tx.audit(row.tenant_id, "ivr_flow.updated", "ivr_flow", row.id, version=row.version, fields=fields)
    tx.emit("ivr_flow.updated", row.tenant_id, id=row.id, version=row.version, fields=fields)
    return row


async def delete_flow(tx: Tx, row: IvrFlow) -> None:
    """Delete a flow no number uses (409 ``flow_in_use`` naming the numbers otherwise)."""
    query = select(PhoneNumber.e164).where(PhoneNumber.tenant_id == row.tenant_id, PhoneNumber.flow_id == row.id)
    users = sorted(await tx.session.scalars(query))
    if users:
        raise Conflict(
            f"flow {row.id} is in use by {', '.join(users)}: give those numbers another flow first",
            code="flow_in_use",
            details={"numbers": users},
        )
    await tx.session.delete(row)
    await _flush(tx.session)
    tx.audit(row.tenant_id, "ivr_flow.deleted", "ivr_flow", row.id, version=row.version)
    tx.emit("ivr_flow.deleted", row.tenant_id, id=row.id)


# --- phone numbers ---------------------------------------------------------------------------------------------


def _forms(raw: str, tenant: Tenant) -> tuple[str, str]:
    try:
        return number_forms(raw, tenant.country)
    except InvalidNumber as exc:
        raise Invalid(f"number: {exc}", code="invalid_number", details={"field": "number"}) from exc


async def _number_free(session: AsyncSession, e164: str, own: int | None) -> None:
    found = await session.scalar(select(PhoneNumber.id).where(PhoneNumber.e164 == e164))
    if found is not None and found != own:
        raise Conflict(f"number: {e164} is taken (a number belongs to one tenant)", code="number_taken",
                       details={"field": "number"})  # fmt: skip


async def create_number(tx: Tx, tenant: Tenant, data: NumberIn) -> PhoneNumber:
    e164, national = _forms(data.number, tenant)
    await require_in_tenant(tx.session, tenant.id, {"flow_id": (IvrFlow, data.flow_id)})
    await _number_free(tx.session, e164, None)
    row = PhoneNumber(tenant_id=tenant.id, e164=e164, national=national, label=data.label, flow_id=data.flow_id,
                      answer_after_s=data.answer_after_s)  # fmt: skip
    tx.session.add(row)
    await _flush(tx.session)
    tx.audit(tenant.id, "number.created", "phone_number", row.id, e164=e164, flow_id=row.flow_id)
    tx.emit("number.created", tenant.id, id=row.id)
    return row


async def update_number(tx: Tx, tenant: Tenant, row: PhoneNumber, data: NumberPatch) -> PhoneNumber:
    """Change the fields given; ``flow_id`` null takes the number out of service."""
    changes = data.model_dump(include=data.model_fields_set)
    if "number" in changes:  # every check before the first change: a query would flush a half-made one
        forms = _forms(changes["number"], tenant)
        await _number_free(tx.session, forms[0], row.id)
        row.e164, row.national = forms
    if "flow_id" in changes:
        await require_in_tenant(tx.session, tenant.id, {"flow_id": (IvrFlow, changes["flow_id"])})
    for key in ("label", "flow_id", "answer_after_s"):
        if key in changes:
            setattr(row, key, changes[key])
    await _flush(tx.session)
    fields = sorted(changes)
    tx.audit(tenant.id, "number.updated", "phone_number", row.id, e164=row.e164, fields=fields)
    tx.emit("number.updated", tenant.id, id=row.id, fields=fields)
    return row


async def delete_number(tx: Tx, row: PhoneNumber) -> None:
    await tx.session.delete(row)
    await tx.session.flush()
    tx.audit(row.tenant_id, "number.deleted", "phone_number", row.id, e164=row.e164)
    tx.emit("number.deleted", row.tenant_id, id=row.id)


# --- trunks ----------------------------------------------------------------------------------------------------


async def _username_free(session: AsyncSession, username: str | None, own: int | None) -> None:
    """Usernames are unique across tenants: a trunk's credentials name it wherever the call comes from."""
    if username is None:
        return
    found = await session.scalar(select(Trunk.id).where(Trunk.username == username))
    if found is not None and found != own:
        raise Conflict(f"username: {username!r} is taken", code="username_taken", details={"field": "username"})


def _set_credentials(trunk: Trunk, tenant: Tenant, changes: Mapping[str, Any]) -> None:
    """Apply ``username`` and ``password`` from ``changes`` (either may be absent): the digests include the
    username, so a new username needs the password again, and a password needs a username."""
    username = changes.get("username", trunk.username)
    password = changes.get("password")
    if username is None and password is not None:
        raise Invalid("password: a password needs a username", code="trunk_credentials", details={"field": "password"})
    if username is not None and username != trunk.username and password is None:
        raise Invalid(
            "password: a new username needs its password (only digests of both are kept)",
            code="trunk_credentials",
            details={"field": "password"},
        )
    trunk.username = username
    if username is None:
        trunk.ha1_md5 = trunk.ha1_sha256 = None
    elif password is not None:
        realm = sip_realm(tenant)
        trunk.ha1_md5 = ha1("md5", username, realm, password)
        trunk.ha1_sha256 = ha1("sha256", username, realm, password)


def _admits_someone(trunk: Trunk) -> None:
    if not trunk.allowed_sources and trunk.username is None:
        raise Invalid(
            "allowed_sources: a trunk needs allowed sources, or a username and password, or both",
            code="trunk_unreachable",
            details={"field": "allowed_sources"},
        )


async def create_trunk(tx: Tx, tenant: Tenant, data: TrunkIn) -> Trunk:
    await _name_free(tx.session, Trunk, tenant.id, data.name, "trunk", None)
    await _username_free(tx.session, data.username, None)
    trunk = Trunk(
        tenant_id=tenant.id, name=data.name, allowed_sources=data.allowed_sources, active=data.active,
        dial_to=data.dial_to, caller_id=data.caller_id,
    )  # fmt: skip
    _set_credentials(trunk, tenant, {"username": data.username, "password": data.password})
    _admits_someone(trunk)
    tx.session.add(trunk)
    await _flush(tx.session)
    fields = sorted(data.model_dump(exclude_none=True))  # the password by name only, as every field
    tx.audit(tenant.id, "trunk.created", "trunk", trunk.id, fields=fields)
    tx.emit("trunk.created", tenant.id, id=trunk.id)
    return trunk


async def update_trunk(tx: Tx, tenant: Tenant, trunk: Trunk, data: TrunkPatch) -> Trunk:
    changes = data.model_dump(include=data.model_fields_set)
    if "name" in changes:  # every check that queries before the first change: a query would flush a half-made one
        await _name_free(tx.session, Trunk, tenant.id, changes["name"], "trunk", trunk.id)
    await _username_free(tx.session, changes.get("username"), trunk.id)
    _set_credentials(trunk, tenant, changes)
    for key in ("name", "allowed_sources", "active", "dial_to", "caller_id"):
        if key in changes:
            setattr(trunk, key, changes[key])
    if trunk.dial_to is not None and trunk.caller_id is None:
        raise Invalid("caller_id: needed with dial_to (the number customers see)", details={"field": "caller_id"})
    _admits_someone(trunk)
    await _flush(tx.session)
    fields = sorted(changes)
    tx.audit(tenant.id, "trunk.updated", "trunk", trunk.id, fields=fields)
    tx.emit("trunk.updated", tenant.id, id=trunk.id, fields=fields)
    return trunk


async def dialing_trunk(session: AsyncSession, tenant_id: int) -> Trunk | None:
    """The trunk the tenant's calls to customers go out through: its first active trunk with ``dial_to``."""
    return await session.scalar(
        select(Trunk)
        .where(Trunk.tenant_id == tenant_id, Trunk.active.is_(True), Trunk.dial_to.is_not(None))
        .order_by(Trunk.id)
        .limit(1)
    )


async def delete_trunk(tx: Tx, trunk: Trunk) -> None:
    await tx.session.delete(trunk)
    await tx.session.flush()
    tx.audit(trunk.tenant_id, "trunk.deleted", "trunk", trunk.id)
    tx.emit("trunk.deleted", trunk.tenant_id, id=trunk.id)
