"""What the call control asks about an INVITE: whose number was dialled, whether its source may send that tenant
calls, and the digests of trunk credentials. The read side of the telephony configuration.

Every answer is cached in memory (``cache.TtlCache``) and read with one short query on a miss. The routes that change
numbers, flows, trunks or a tenant's settings call ``invalidate`` after their commit, so the next call sees the change
at once; another process sharing the database sees it within ``ttl_s``. Any change forgets every cached number (a
number added to one tenant can make a national form ambiguous that pointed at another) and the changed tenant's
trunks.

Matching a dialled number (``dialed.dialed`` gives its forms): an E.164 form that matches a stored number exactly
wins; otherwise the national forms are matched against the numbers' national significant numbers, and a national
form that more than one number has (tenants in different countries) matches none: such a call is refused rather than
put through to a tenant chosen by chance.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import and_, select

from infolinia.store.db import Database
from infolinia.store.models import IvrFlow, PhoneNumber, Tenant, Trunk
from infolinia.voice.directory import REALM_SUFFIX
from infolinia.voice.ivr import Flow
from infolinia.voice.telephony.cache import TtlCache
from infolinia.voice.telephony.dialed import Dialed, dialed

__all__ = ["NumberRoute", "TelephonyDirectory", "TrunkAccount", "TrunkMatch"]

log = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class NumberRoute:
    """Where a call to a number goes: the tenant (with what the call needs of it) and the flow callers enter.
    ``flow`` None: the number is not in service (no flow, or a stored flow that no longer validates)."""

    tenant_id: int
    tenant_slug: str
    timezone: str
    languages: tuple[str, ...]
    e164: str
    flow: Flow | None
    flow_id: int | None
    flow_version: int | None
    answer_after_s: float
    record_calls: bool
    country: str = "PL"  # ISO 3166 region: how a caller's national number is read
    business_hours: Mapping[str, Any] = field(default_factory=dict)  # the tenant calendar, as stored

    @property
    def realm(self) -> str:
        """The tenant's SIP realm (and the domain its agents' phones register in)."""
        return f"{self.tenant_slug}{REALM_SUFFIX}"


@dataclass(frozen=True, slots=True)
class TrunkAccount:
    """A trunk as the call control sees it: ``username`` None for one that admits by source alone."""

    id: int
    name: str
    username: str | None


@dataclass(frozen=True, slots=True)
class TrunkMatch:
    """How a source may send a tenant calls.

    ``auth_required`` False: ``trunks`` holds the one trunk that admits the source as it is. True: the caller must
    authenticate (digest, realm ``<slug>.infolinia``) as one of ``trunks``: those whose allowed sources contain the
    source, and those without allowed sources (credentials alone). A trunk with both is never used from outside its
    sources: its account is not in a match for them."""

    tenant_id: int
    auth_required: bool
    trunks: tuple[TrunkAccount, ...]

    def account(self, username: str | None = None) -> TrunkAccount | None:
        """The trunk a call came over: the admitting one (no username), or the one ``username`` authenticated as
        (None when that username may not call from this source)."""
        if not self.auth_required:
            return self.trunks[0] if username is None else None
        return next((trunk for trunk in self.trunks if username is not None and trunk.username == username), None)


@dataclass(frozen=True, slots=True)
class _TrunkRule:
    account: TrunkAccount
    networks: tuple[Network, ...]
    ha1: dict[str, str]  # digest algorithm name -> HA1

    def admits(self, address: Address) -> bool:
        return any(address in network for network in self.networks)

    def specificity(self) -> int:
        return max((network.prefixlen for network in self.networks), default=0)


class TelephonyDirectory:
    """Reads through the project's ``Database``; ``ttl_s`` bounds how stale a cached answer can be."""

    def __init__(
        self, db: Database, ttl_s: float = 30.0, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.db = db
        self._numbers: TtlCache[Dialed, NumberRoute | None] = TtlCache(ttl_s, max_entries, clock)
        self._trunks: TtlCache[int, tuple[_TrunkRule, ...]] = TtlCache(ttl_s, max_entries, clock)

    def invalidate(self, tenant_id: int | None = None) -> None:
        """Forget what is cached about tenant ``tenant_id`` (every tenant when None), after a change committed."""
        self._numbers.invalidate()
        self._trunks.invalidate(tenant_id)

    # --- numbers -------------------------------------------------------------------------------------------------

    async def number(self, dialed_text: str) -> NumberRoute | None:
        """The route for the number ``dialed_text`` names (a Request-URI user part); None: unknown, not a number,
        or ambiguous."""
        forms = dialed(dialed_text)
        if forms is None:
            return None
        cached = self._numbers.get(forms)
        if cached is not None:
            return cached.value
        generation = self._numbers.generation
        route = await self._find(forms)
        self._numbers.put(forms, route, generation)
        return route

    async def _find(self, forms: Dialed) -> NumberRoute | None:
        async with self.db.session() as session:
            for column, values in ((PhoneNumber.e164, forms.e164), (PhoneNumber.national, forms.national)):
                if not values:
                    continue
                rows = (await session.execute(_ROUTE.where(column.in_(values)).limit(2))).all()
                if len(rows) == 1:
                    return _route(rows[0])
                if rows:
                    log.warning("dialled number %s matches numbers of several tenants: refused", values[0])
                    return None
        return None

    # --- trunks --------------------------------------------------------------------------------------------------

    async def trunk_for(self, source_ip: str, tenant_id: int) -> TrunkMatch | None:
        """How ``source_ip`` may send tenant ``tenant_id`` calls over its active trunks; None: it may not."""
        address = _address(source_ip)
        if address is None:
            return None
        rules = await self._rules(tenant_id)
        sourced = [rule for rule in rules if rule.admits(address)]
        open_ = sorted(
            (r for r in sourced if r.account.username is None), key=lambda r: (-r.specificity(), r.account.id)
        )
        if open_:
            return TrunkMatch(tenant_id, False, (open_[0].account,))
        authed = [rule.account for rule in rules if rule.account.username and (not rule.networks or rule in sourced)]
        return TrunkMatch(tenant_id, True, tuple(authed)) if authed else None

    async def trunk_ha1(self, tenant_id: int, username: str, algorithm: str) -> str | None:
        """The stored HA1 (``MD5`` or ``SHA-256``) of the active trunk of tenant ``tenant_id`` with ``username``."""
        for rule in await self._rules(tenant_id):
            if rule.account.username == username:
                return rule.ha1.get(algorithm)
        return None

    async def _rules(self, tenant_id: int) -> tuple[_TrunkRule, ...]:
        cached = self._trunks.get(tenant_id)
        if cached is not None:
            return cached.value
        generation = self._trunks.generation
        query = select(Trunk).where(Trunk.tenant_id == tenant_id, Trunk.active.is_(True)).order_by(Trunk.id)
        async with self.db.session() as session:
            rules = tuple(_rule(trunk) for trunk in await session.scalars(query))
        self._trunks.put(tenant_id, rules, generation)
        return rules


#: a number with its tenant's settings and its flow: one query per dialled form tried
_ROUTE = (
    select(PhoneNumber.tenant_id, PhoneNumber.e164, PhoneNumber.flow_id, PhoneNumber.answer_after_s)
    .add_columns(Tenant.slug, Tenant.timezone, Tenant.languages, Tenant.record_calls, Tenant.country)
    .add_columns(Tenant.business_hours)
    .add_columns(IvrFlow.definition, IvrFlow.version)
    .join(Tenant, Tenant.id == PhoneNumber.tenant_id)
    .outerjoin(IvrFlow, and_(IvrFlow.id == PhoneNumber.flow_id, IvrFlow.tenant_id == PhoneNumber.tenant_id))
)


def _route(row: Any) -> NumberRoute:
    return NumberRoute(
        tenant_id=row.tenant_id,
        tenant_slug=row.slug,
        timezone=row.timezone,
        languages=tuple(row.languages),
        e164=row.e164,
        flow=_flow(row.flow_id, row.definition),
        flow_id=row.flow_id,
        flow_version=row.version,
        answer_after_s=row.answer_after_s,
        record_calls=row.record_calls,
        country=row.country,
        business_hours=dict(row.business_hours or {}),
    )


def _flow(flow_id: int | None, definition: dict[str, Any] | None) -> Flow | None:
    if definition is None:
        return None
    try:
        return Flow.model_validate(definition)
    except ValidationError:
        log.error("IVR flow %s as stored is not a valid flow: its numbers are out of service", flow_id)
        return None


def _rule(trunk: Trunk) -> _TrunkRule:
    networks: Sequence[Network] = [ipaddress.ip_network(value) for value in trunk.allowed_sources]
    digests = {"MD5": trunk.ha1_md5, "SHA-256": trunk.ha1_sha256}
    return _TrunkRule(
        TrunkAccount(trunk.id, trunk.name, trunk.username),
        tuple(networks),
        {algorithm: value for algorithm, value in digests.items() if value is not None},
    )


def _address(text: str) -> Address | None:
    """The source address as trunks' networks are written: no zone, IPv4 as IPv4 (not IPv4-mapped IPv6)."""
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
