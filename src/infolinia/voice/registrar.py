"""The registrar (RFC 3261 §10.3): authenticates REGISTER with digest auth and keeps the bindings in memory.

Tenant: the digest realm ``<slug>.infolinia`` identifies it. A REGISTER with credentials names its realm; one
without is challenged in the realm its To domain names (``sip:1002@demo.infolinia``), else in that of the only
tenant with that extension (a phone configured with the server's address as its domain). Extension: the To URI's
user, which must also be the digest username. Bindings are per (tenant, extension), held by ``BindingTable``.

Challenges offer MD5 alone by default (``PHONE_ALGORITHMS``): phones built on libre up to 1.x (baresip 1.0.0 of
Debian 12) give up on a 401 as soon as one of its challenges names an algorithm they lack, even when an MD5
challenge stands beside it, so offering SHA-256 as well locks them out. ``algorithms`` widens the offer.
"""

from __future__ import annotations

import logging
import secrets
from typing import Protocol

from infolinia.voice.bindings import Binding, BindingTable, OutOfOrder, TooBrief, Update
from infolinia.voice.directory import SipTenant, slug_of
from infolinia.voice.sip import (
    Authorized,
    BadRequest,
    Challenge,
    DigestChallenger,
    DigestCredentials,
    Request,
    Response,
    SipError,
    SipUri,
    response_to,
)
from infolinia.voice.sip.grammar import find_param
from infolinia.voice.sip.headers import parse_expires

log = logging.getLogger(__name__)


class Directory(Protocol):
    async def tenant(self, slug: str) -> SipTenant | None: ...

    async def tenants_with(self, extension: str) -> list[SipTenant]: ...

    async def ha1(self, tenant: SipTenant, extension: str, algorithm: str) -> str | None: ...


Peer = tuple[str, int]
PHONE_ALGORITHMS = ("MD5",)
"""The digest algorithms a REGISTER is challenged with unless told otherwise (see above)."""


class Registrar:
    def __init__(
        self,
        directory: Directory,
        table: BindingTable | None = None,
        secret: bytes | None = None,
        algorithms: tuple[str, ...] = PHONE_ALGORITHMS,
    ) -> None:
        self.directory = directory
        self.table = table if table is not None else BindingTable()
        self.algorithms = algorithms
        self._secret = secret or secrets.token_bytes(32)
        self._challengers: dict[str, DigestChallenger] = {}

    def contacts(self, tenant_id: int, extension: str, now: float) -> list[Binding]:
        """Where agent ``extension`` of tenant ``tenant_id`` can be reached now (for the agent leg of a call)."""
        return self.table.contacts((tenant_id, extension), now)

    async def handle(self, request: Request, source: Peer, now: float) -> Response:
        """The final response to a REGISTER received from ``source`` at ``now`` (wall-clock seconds)."""
        try:
            return await self._handle(request, source, now)
        except SipError as error:
            log.debug("REGISTER from %s refused: %s", source, error.reason)
            return response_to(request, 400, f"Bad Request ({error.reason})"[:80])

    async def _handle(self, request: Request, source: Peer, now: float) -> Response:
        to = request.to.uri
        if not isinstance(to, SipUri) or not to.user:
            return response_to(request, 404, "Not Found")
        tenant = await self._tenant(request, to)
        if tenant is None:
            return response_to(request, 404, "Not Found")
        challenger = self.challenger(tenant.realm)
        read = challenger.read(request, now)
        if not isinstance(read, DigestCredentials):
            return digest_refusal(request, read)
        if read.username != to.user:
            return response_to(request, 403, "Forbidden")
        known = challenger.nonce_time(read.nonce) is not None  # no query for a nonce that is not ours
        ha1 = await self.directory.ha1(tenant, to.user, read.algorithm) if known else None
        verdict = challenger.verify(read, ha1, now)
        if not isinstance(verdict, Authorized):
            log.debug("REGISTER %s@%s challenged: %s", to.user, tenant.realm, verdict.reason.value)
            return digest_refusal(request, verdict)
        return self._bind(request, (tenant.id, to.user), source, now)

    async def _tenant(self, request: Request, to: SipUri) -> SipTenant | None:
        realms = [value.get("realm") or "" for value in request.auth("Authorization")]
        named = [slug for slug in map(slug_of, [*realms, to.host]) if slug is not None]
        if named:
            return await self.directory.tenant(named[0])
        found = await self.directory.tenants_with(to.user or "")
        return found[0] if len(found) == 1 else None

    def challenger(self, realm: str) -> DigestChallenger:
        """The digest challenger of ``realm`` (one per realm, all with this registrar's secret and algorithms):
        phones registering and trunks calling in that realm are checked the same way."""
        challenger = self._challengers.get(realm)
        if challenger is None:
            challenger = self._challengers[realm] = DigestChallenger(realm, self._secret, algorithms=self.algorithms)
        return challenger

    def _bind(self, request: Request, aor: tuple[int, str], source: Peer, now: float) -> Response:
        cseq, call_id = request.cseq.number, request.call_id
        if request.contact_star:
            if request.contacts or request.expires != 0:
                return response_to(request, 400, "Bad Request (Contact: * needs Expires: 0 alone)")
            outcome = self.table.remove_all(aor, call_id, cseq, now)
        else:
            outcome = self.table.register(aor, requested_updates(request), source, call_id, cseq, now)
        return _answer(request, outcome, now)


def digest_refusal(request: Request, result: Challenge | BadRequest) -> Response:
    if isinstance(result, BadRequest):
        return response_to(request, 400, "Bad Request")
    response = response_to(request, result.status)
    # MD5 first: many phones (and SIPp 3.6) answer only the first challenge and know no SHA-256; both are offered
    for name, value in sorted(result.headers(), key=lambda header: "MD5" not in header[1]):
        response.headers.add(name, value)
    return response


def _answer(request: Request, outcome: list[Binding] | TooBrief | OutOfOrder, now: float) -> Response:
    if isinstance(outcome, TooBrief):
        response = response_to(request, 423, "Interval Too Brief")
        response.headers.add("Min-Expires", str(outcome.min_expires))
        return response
    if isinstance(outcome, OutOfOrder):
        return response_to(request, 500, "Server Internal Error (out of order REGISTER)")
    response = response_to(request, 200, "OK")
    for binding in outcome:
        response.headers.add("Contact", f"<{binding.uri}>;expires={binding.expires_in(now)}")
    return response


def requested_updates(request: Request) -> list[Update]:
    """Each Contact of a REGISTER with the expiry it asks for: its ``expires`` parameter, else the Expires header."""
    default = request.expires
    updates = []
    for contact in request.contacts:
        param = find_param(contact.params, "expires")
        value = param[1] if param is not None else None
        updates.append(Update(str(contact.uri), default if value is None else parse_expires(value)))
    return updates


__all__ = ["PHONE_ALGORITHMS", "Directory", "Registrar", "requested_updates"]
