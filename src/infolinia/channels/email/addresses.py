"""Which tenant an address belongs to, as the SMTP listener asks at every RCPT: read from ``email_addresses`` and
kept for a few seconds (a change made through the API is seen at once: the route calls ``forget``)."""

from __future__ import annotations

import time

from sqlalchemy import select

from infolinia.store.db import Database
from infolinia.store.models import EmailAddress

TTL_S = 10.0


def normalize(address: str) -> str:
    return address.strip().strip("<>").lower()


class AddressBook:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._cache: dict[str, tuple[int | None, float]] = {}

    async def tenant_of(self, address: str) -> int | None:
        key = normalize(address)
        hit = self._cache.get(key)
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        async with self.db.session() as s:
            tenant_id = await s.scalar(select(EmailAddress.tenant_id).where(EmailAddress.address == key))
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[key] = (tenant_id, time.monotonic() + TTL_S)
        return tenant_id

    def forget(self) -> None:
        self._cache.clear()
