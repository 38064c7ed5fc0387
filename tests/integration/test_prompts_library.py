"""The running prompt library: which recording a tenant's callers hear, the cache and its invalidation, phrases;
against the session's real database and the system prompts the server made at start."""

from __future__ import annotations

import asyncio

import httpx
import numpy as np
import pytest
from sqlalchemy import select

from infolinia.app import Infolinia
from infolinia.schemas import TenantIn
from infolinia.store.models import Tenant
from infolinia.store.uow import SYSTEM, write
from infolinia.tenants.actions import create_tenant
from infolinia.voice.ivr.demo import DEMO_PROMPTS
from infolinia.voice.prompts import speech
from infolinia.voice.prompts.actions import delete_prompt, save_prompt
from infolinia.voice.prompts.audio import RATE, Samples
from infolinia.voice.prompts.catalog import SYSTEM_NAMES
from infolinia.voice.prompts.library import GAP_MS, PromptLibrary
from tests.conftest import Login


def tone(hz: float, ms: int = 300) -> Samples:
    """A recording told apart from the others by its pitch."""
    t = np.arange(RATE * ms // 1000) / RATE
    return np.round(8000 * np.sin(2 * np.pi * hz * t)).astype(np.int16)


@pytest.fixture(scope="module")
async def lab(center: Infolinia) -> int:
    """A tenant of its own (languages pl, then en), so these tests touch no one else's prompts."""
    async with write(center.db, None, SYSTEM) as tx:
        tenant = await create_tenant(
            tx,
            TenantIn(
                slug="prompt-lab", name="Prompt Lab", timezone="Europe/Warsaw", country="PL", languages=["pl", "en"]
            ),
        )
    return tenant.id


async def record(center: Infolinia, tenant_id: int, name: str, language: str, samples: Samples) -> None:
    async with write(center.db, center.bus, SYSTEM) as tx:
        await save_prompt(tx, tenant_id, name, language, samples)
    center.prompts.invalidate(tenant_id)


async def remove(center: Infolinia, tenant_id: int, name: str, language: str) -> None:
    async with write(center.db, center.bus, SYSTEM) as tx:
        await delete_prompt(tx, tenant_id, name, language)
    center.prompts.invalidate(tenant_id)


async def test_names_are_the_system_ones_and_the_tenants_own(center: Infolinia, lab: int) -> None:
    library = center.prompts
    assert library.system_names() == SYSTEM_NAMES
    assert await library.names(lab) == SYSTEM_NAMES
    demo_id = await _tenant_id(center, "demo")
    assert await library.names(demo_id) == SYSTEM_NAMES | DEMO_PROMPTS
    assert "greeting" not in await library.names(await _tenant_id(center, "acme"))


async def _tenant_id(center: Infolinia, slug: str) -> int:
    async with center.db.session() as s:
        found = await s.scalar(select(Tenant.id).where(Tenant.slug == slug))
    assert found is not None
    return int(found)


async def test_resolution_order(center: Infolinia, lab: int) -> None:
    library = center.prompts
    system_pl = library.system_prompt("transfer", "pl")
    system_en = library.system_prompt("transfer", "en")
    assert system_pl is not None and system_en is not None

    # 3. the system prompt in the language asked; 4. else the system one in English
    found = await library.resolve(lab, "transfer", "pl")
    assert found is not None and (found.source, found.language) == ("system", "pl")
    assert found.samples is system_pl
    found = await library.resolve(lab, "transfer", "de")
    assert found is not None and (found.source, found.language) == ("system", "en")

    # 2. the tenant's own in another language outranks the system voice
    await record(center, lab, "transfer", "en", tone(500))
    found = await library.resolve(lab, "transfer", "pl")
    assert found is not None and (found.source, found.language) == ("tenant", "en")
    assert np.array_equal(found.samples, tone(500))

    # 1. the tenant's own in the language asked; for a language it lacks, its first language (pl) before en
    await record(center, lab, "transfer", "pl", tone(700))
    for asked, heard, hz in (("pl", "pl", 700), ("en", "en", 500), ("de", "pl", 700)):
        found = await library.resolve(lab, "transfer", asked)
        assert found is not None and (found.source, found.language) == ("tenant", heard), asked
        assert np.array_equal(found.samples, tone(hz))

    # deleting the recordings brings the system voice back
    await remove(center, lab, "transfer", "pl")
    await remove(center, lab, "transfer", "en")
    found = await library.resolve(lab, "transfer", "pl")
    assert found is not None and found.source == "system"

    assert await library.resolve(lab, "no_such_prompt", "pl") is None
    assert await library.get(lab, "no_such_prompt", "pl") is None


async def test_a_tenant_without_its_own_languages_gets_alphabetical_order(center: Infolinia, lab: int) -> None:
    await record(center, lab, "jingle", "sk", tone(300))
    await record(center, lab, "jingle", "cs", tone(400))
    found = await center.prompts.resolve(lab, "jingle", "pl")  # neither pl nor en: cs before sk
    assert found is not None and (found.source, found.language) == ("tenant", "cs")


async def test_the_cache_serves_until_invalidated(center: Infolinia, lab: int) -> None:
    library = center.prompts
    await record(center, lab, "promo", "pl", tone(440))
    first = await library.get(lab, "promo", "pl")
    assert first is not None and np.array_equal(first, tone(440))
    assert not first.flags.writeable  # shared by every call that plays it

    # a change written without telling the library: still the cached recording, and the old index
    async with write(center.db, None, SYSTEM) as tx:
        await save_prompt(tx, lab, "promo", "pl", tone(880))
        await save_prompt(tx, lab, "promo2", "pl", tone(880))
    assert await library.get(lab, "promo", "pl") is first
    assert "promo2" not in await library.names(lab)

    library.invalidate(lab)
    fresh = await library.get(lab, "promo", "pl")
    assert fresh is not None and np.array_equal(fresh, tone(880))
    assert "promo2" in await library.names(lab)


async def test_invalidating_one_tenant_keeps_the_others(center: Infolinia, lab: int) -> None:
    library = center.prompts
    demo_id = await _tenant_id(center, "demo")
    greeting = await library.get(demo_id, "greeting", "pl")
    library.invalidate(lab)
    assert await library.get(demo_id, "greeting", "pl") is greeting


async def test_phrase_joins_with_gaps_and_leaves_out_what_is_missing(center: Infolinia, lab: int) -> None:
    library = center.prompts
    names = speech.position(23, "pl")
    parts = [await library.get(lab, name, "pl") for name in names]
    assert all(p is not None for p in parts)
    joined = await library.phrase(lab, names, "pl")
    gap = RATE * GAP_MS // 1000
    assert len(joined) == sum(len(p) for p in parts if p is not None) + gap * (len(names) - 1)
    first = parts[0]
    assert first is not None and np.array_equal(joined[: len(first)], first)
    assert np.all(joined[len(first) : len(first) + gap] == 0)
    same = await library.phrase(lab, [names[0], "no_such_prompt", *names[1:]], "pl")
    assert np.array_equal(same, joined)
    assert len(await library.phrase(lab, [], "pl")) == 0


async def test_start_is_once(center: Infolinia) -> None:
    assert center.prompts.started
    assert await center.prompts.start() is center.prompts.loaded
    assert (await center.prompts.start()).audio[("pl", "beep")] is not None


async def test_a_library_before_start_has_no_system_audio(center: Infolinia, lab: int) -> None:
    fresh = PromptLibrary(center.db, "unused")
    assert not fresh.started and fresh.system_names() == SYSTEM_NAMES
    assert await fresh.get(lab, "goodbye", "pl") is None


async def test_a_load_overtaken_by_an_invalidation_is_not_kept(center: Infolinia, lab: int) -> None:
    library = center.prompts
    library.invalidate(lab)
    loading = asyncio.create_task(library.names(lab))
    await asyncio.sleep(0)  # the load has begun and waits for the database
    library.invalidate(lab)  # a change committed meanwhile
    await loading
    assert lab not in library._tenants  # the next use reads the tenant again
    await library.names(lab)
    assert lab in library._tenants


async def test_a_change_of_the_tenants_languages_is_heard(
    client: httpx.AsyncClient, login: Login, center: Infolinia
) -> None:
    """The tenant's first language picks among its own recordings: changing it through the API takes effect."""
    admin = await login("admin@acme.test")
    acme = await _tenant_id(center, "acme")
    await record(center, acme, "hours", "en", tone(500))
    await record(center, acme, "hours", "pl", tone(700))
    found = await center.prompts.resolve(acme, "hours", "de")
    assert found is not None and found.language == "en"  # acme speaks English
    r = await client.patch(f"/api/v1/tenants/{acme}", json={"languages": ["pl", "en"]}, headers=admin)
    assert r.status_code == 200, r.text
    found = await center.prompts.resolve(acme, "hours", "de")
    assert found is not None and found.language == "pl"
    r = await client.patch(f"/api/v1/tenants/{acme}", json={"languages": ["en"]}, headers=admin)
    assert r.status_code == 200
    await remove(center, acme, "hours", "en")
    await remove(center, acme, "hours", "pl")
