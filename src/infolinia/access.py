"""Who may do what: the one permission table. Tenant scoping is enforced in ``api/deps.py``, which every
route passes through; this module only answers "may this role do this"."""

from __future__ import annotations

from dataclasses import dataclass, field

from infolinia.store.models import Role

ALL_TENANT_ROLES = frozenset({Role.TENANT_ADMIN, Role.SUPERVISOR, Role.AGENT, Role.BACK_OFFICE})
_ADMIN = frozenset({Role.TENANT_ADMIN})
_SUPERVISORS = frozenset({Role.TENANT_ADMIN, Role.SUPERVISOR})
_FRONT_LINE = frozenset({Role.TENANT_ADMIN, Role.SUPERVISOR, Role.AGENT})

#: permission -> tenant roles holding it. Platform admins hold every permission.
PERMISSIONS: dict[str, frozenset[Role]] = {
    "self": ALL_TENANT_ROLES,
    "tenants.read": ALL_TENANT_ROLES,
    "tenants.update": _ADMIN,
    "tenants.create": frozenset(),
    "users.read": _SUPERVISORS,
    "users.manage": _ADMIN,
    "roles.manage": _ADMIN,
    "teams.read": ALL_TENANT_ROLES,
    "teams.manage": _ADMIN,
    "agents.read": _FRONT_LINE,
    "agents.manage": _ADMIN,
    "queues.read": ALL_TENANT_ROLES,
    "queues.manage": _ADMIN,
    "customers.read": ALL_TENANT_ROLES,
    "customers.write": _FRONT_LINE,
    "customers.restrict": _SUPERVISORS,
    "customers.export": _ADMIN,
    "customers.erase": _ADMIN,
    "consent.write": _FRONT_LINE,
    "interactions.read": ALL_TENANT_ROLES,
    "interactions.write": _FRONT_LINE,
    "audit.read": _SUPERVISORS,
    "callbacks.read": ALL_TENANT_ROLES,
    "callbacks.write": _FRONT_LINE,  # request, record an attempt's outcome, cancel
    "campaigns.read": _FRONT_LINE,
    "campaigns.manage": _SUPERVISORS,  # create, change, start and stop campaigns, import their contacts
    "campaigns.call": _FRONT_LINE,  # take campaign calls: preview, dial or skip a contact, set a disposition
    "outbound.supervise": _SUPERVISORS,  # set the disposition of another agent's callback or campaign call
    "dnc.read": _FRONT_LINE,
    "dnc.write": _FRONT_LINE,  # an agent adds a number when the customer asks; supervisors remove one
    "tasks.read": ALL_TENANT_ROLES,
    "tasks.write": _FRONT_LINE,
    "tasks.handle": ALL_TENANT_ROLES,  # accept, decline, complete a task offered to oneself
    "presence.self": ALL_TENANT_ROLES,
    "presence.manage": _SUPERVISORS,
    "events.read": ALL_TENANT_ROLES,  # what each role receives: api/routes/live.py visible()
    "routing.monitor": _SUPERVISORS,  # the tenant's whole routing state (snapshot) and all its events
    "telephony.read": _SUPERVISORS,  # phone numbers, trunks, IVR flows
    "telephony.manage": _ADMIN,
    "prompts.read": _FRONT_LINE,  # list the voice prompts and listen to them
    "prompts.manage": _SUPERVISORS,  # upload, replace and delete the tenant's own recordings
    "cases.read": ALL_TENANT_ROLES,  # back office: its teams' cases and its own (api/deps.case_scope)
    "cases.write": ALL_TENANT_ROLES,  # file, change, escalate, note, link and merge cases
    "kb.read": ALL_TENANT_ROLES,  # read and search published knowledge-base articles, internal and public
    "kb.manage": _SUPERVISORS,  # write, publish, archive and restore articles; drafts; categories
    "scripts.read": ALL_TENANT_ROLES,  # agent scripts: read, filled in for a contact, suggested for one
    "scripts.manage": _SUPERVISORS,  # write, change and delete agent scripts
    "wrapup.read": ALL_TENANT_ROLES,  # a queue's wrap-up codes (what an agent picks from)
    "wrapup.manage": _SUPERVISORS,  # add, change, deactivate and delete them; require one per queue
    "reports.cases": _SUPERVISORS,  # service-level compliance of cases
    "reports.fcr": _FRONT_LINE,  # first-contact resolution (agents: of their own contacts only)
    "reports.read": _SUPERVISORS,  # contact KPIs per interval, exports, charts, the period and monthly summaries
    "email.read": _FRONT_LINE,  # the tenant's e-mails in and out, their delivery status, attachments
    "email.reply": ALL_TENANT_ROLES,  # answer a case's customer by e-mail (the case as the reader may see it)
    "email.manage": _ADMIN,  # e-mail settings (addresses, relay, queue), sending a failed message again
    "wfm.plan": _SUPERVISORS,  # workforce planning: staffing, simulation of the center, shift schedules
    "chat.read": _FRONT_LINE,  # the tenant's chats, their transcripts and files
    "chat.handle": ALL_TENANT_ROLES,  # write in a chat one accepted (socket or HTTP), send files, end it
    "chat.manage": _ADMIN,  # chat settings: widget key, allowed origins, topics and queues, limits
    "calls.control": _FRONT_LINE,  # hold, resume, transfer, hang up a live voice call one is on (voice/calls/control)
    "calls.supervise": _SUPERVISORS,  # the same on any agent's call
}

#: roles whose view of interactions is limited to their teams' queues and their own contacts
TEAM_SCOPED_ROLES = frozenset({Role.BACK_OFFICE})


@dataclass(frozen=True)
class Actor:
    """The authenticated caller, with the tenant the request acts in."""

    user_id: int
    email: str
    role: Role
    tenant_id: int | None
    #: loaded only for team-scoped roles, the only ones whose view depends on it
    team_ids: frozenset[int] = field(default_factory=frozenset)
    token_id: int | None = None

    @property
    def is_platform_admin(self) -> bool:
        return self.role is Role.PLATFORM_ADMIN

    @property
    def label(self) -> str:
        return self.email


def can(actor: Actor, permission: str) -> bool:
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    return actor.is_platform_admin or actor.role in PERMISSIONS[permission]


def assignable_roles(actor: Actor) -> frozenset[Role]:
    """Roles this actor may give to a user. Only a platform admin makes platform admins."""
    if actor.is_platform_admin:
        return frozenset(Role)
    if can(actor, "roles.manage"):
        return ALL_TENANT_ROLES
    return frozenset()
