"""The call control's read side on the real database: the demo number in every dialled form, unknown and ambiguous
numbers, trunks by source and by credentials, and every change made through the API seen at once."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

import pytest

from infolinia.app import Infolinia
from infolinia.voice.ivr import demo_flow
from infolinia.voice.telephony import TelephonyDirectory, TrunkAccount
from tests.tenant_api import TenantApi, acme_admin, demo_admin

demo, acme = demo_admin, acme_admin  # the fixtures, under the names these tests use


@pytest.fixture
def directory(center: Infolinia) -> TelephonyDirectory:
    return center.telephony


@pytest.fixture
async def tenants(demo: TenantApi, acme: TenantApi) -> dict[str, int]:
    return {
        "demo": (await demo.call("GET", "/tenants"))[0]["id"],
        "acme": (await acme.call("GET", "/tenants"))[0]["id"],
    }


@pytest.mark.parametrize(
    "form",
    ["800100200", "+48800100200", "48800100200", "0048800100200", "%2B48800100200", "800-100-200",
     "sip:800100200@127.0.0.1", "sip:+48800100200@127.0.0.1:5060;user=phone"],
)  # fmt: skip
async def test_the_demo_number_in_every_dialled_form(directory: TelephonyDirectory, form: str) -> None:
    route = await directory.number(form)
    assert route is not None
    assert (route.tenant_slug, route.e164, route.timezone, route.languages) == (
        "demo", "+48800100200", "Europe/Warsaw", ("pl", "en"),
    )  # fmt: skip
    assert route.flow == demo_flow() and route.flow_version is not None and route.flow_id is not None
    assert route.answer_after_s == 0 and route.record_calls is False


@pytest.mark.parametrize("form", ["800100201", "+48800100201", "+44800100200", "support", "", "sip:@host", "1" * 80])
async def test_unknown_numbers_are_none(directory: TelephonyDirectory, form: str) -> None:
    assert await directory.number(form) is None


async def test_changes_through_the_api_are_seen_at_once(
    directory: TelephonyDirectory, demo: TenantApi, tenants: dict[str, int]
) -> None:
    assert await directory.number("221002050") is None  # cached as unknown
    flow = await demo.call(
        "POST", "/ivr-flows", {"name": "Directory flow", "definition": demo_flow().model_dump()}, 201
    )
    number = await demo.call("POST", "/numbers", {"number": "22 100 20 50", "flow_id": flow["id"]}, 201)
    route = await directory.number("221002050")
    assert route is not None and route.flow_id == flow["id"] and route.flow_version == 1
    await demo.call(
        "PUT", f"/ivr-flows/{flow['id']}", {"name": "Directory flow", "definition": demo_flow().model_dump()}
    )
    route = await directory.number("+48221002050")
    assert route is not None and route.flow_version == 2
    await demo.call("PATCH", f"/numbers/{number['id']}", {"answer_after_s": 3, "flow_id": None})
    route = await directory.number("221002050")
    assert route is not None and route.flow is None and route.flow_id is None and route.answer_after_s == 3
    try:
        await demo.call("PATCH", f"/tenants/{tenants['demo']}", {"record_calls": True, "languages": ["pl"]})
        route = await directory.number("221002050")
        assert route is not None and route.record_calls is True and route.languages == ("pl",)
    finally:
        await demo.call("PATCH", f"/tenants/{tenants['demo']}", {"record_calls": False, "languages": ["pl", "en"]})
    await demo.call("DELETE", f"/numbers/{number['id']}", status=204)
    assert await directory.number("221002050") is None
    await demo.call("DELETE", f"/ivr-flows/{flow['id']}", status=204)


async def test_a_national_form_that_two_tenants_have_matches_neither(
    directory: TelephonyDirectory, demo: TenantApi, acme: TenantApi, tenants: dict[str, int]
) -> None:
    ours = await demo.call("POST", "/numbers", {"number": "800 100 300"}, 201)  # +48 800 100 300
    try:
        route = await directory.number("800100300")
        assert route is not None and route.tenant_id == tenants["demo"]
        theirs = await acme.call("POST", "/numbers", {"number": "0800 100 300"}, 201)  # +44 800 100 300 in acme's GB
        try:
            assert theirs["national"] == ours["national"] == "800100300"
            for ambiguous in ("800100300", "0800100300", "800-100-300"):
                assert await directory.number(ambiguous) is None
            for e164, tenant in (("+48800100300", "demo"), ("0044800100300", "acme"), ("44800100300", "acme")):
                route = await directory.number(e164)
                assert route is not None and route.tenant_id == tenants[tenant], e164
        finally:
            await acme.call("DELETE", f"/numbers/{theirs['id']}", status=204)
        route = await directory.number("800100300")
        assert route is not None and route.tenant_id == tenants["demo"]
    finally:
        await demo.call("DELETE", f"/numbers/{ours['id']}", status=204)


def ha1(algorithm: str, username: str, password: str) -> str:
    return hashlib.new(algorithm, f"{username}:demo.infolinia:{password}".encode()).hexdigest()


@pytest.fixture
async def carriers(demo: TenantApi) -> AsyncIterator[dict[str, int]]:
    """Trunk "sourced" (198.51.100.0/24 AND credentials) and "roaming" (credentials from anywhere)."""
    both = {"name": "sourced", "allowed_sources": ["198.51.100.0/24"], "username": "sourced-carrier"}
    sourced = await demo.call("POST", "/trunks", both | {"password": "sourced password"}, 201)
    anywhere = {"name": "roaming", "username": "roaming-carrier", "password": "roaming password"}
    roaming = await demo.call("POST", "/trunks", anywhere, 201)
    yield {"sourced": sourced["id"], "roaming": roaming["id"]}
    for trunk in (sourced, roaming):
        await demo.call("DELETE", f"/trunks/{trunk['id']}", status=204)


async def test_trunks_admit_by_source_and_by_credentials(
    directory: TelephonyDirectory, demo: TenantApi, tenants: dict[str, int], carriers: dict[str, int]
) -> None:
    tenant = tenants["demo"]
    for local in ("127.0.0.1", "::1", "::ffff:127.0.0.1"):
        match = await directory.trunk_for(local, tenant)
        assert match is not None and not match.auth_required, local
        account = match.account()
        assert account is not None and account.name == "local" and match.account("sourced-carrier") is None
    # from the carrier's network: its own credentials, or those of a trunk without sources
    match = await directory.trunk_for("198.51.100.7", tenant)
    assert match is not None and match.auth_required and match.account() is None
    assert {t.username for t in match.trunks} == {"sourced-carrier", "roaming-carrier"}
    sourced = match.account("sourced-carrier")
    assert sourced is not None and sourced.id == carriers["sourced"]
    # from elsewhere: never the sourced trunk's credentials
    match = await directory.trunk_for("203.0.113.9", tenant)
    assert match is not None and match.auth_required
    assert match.account("sourced-carrier") is None and match.account("roaming-carrier") is not None
    for garbage in ("", "not an address", "999.1.1.1"):
        assert await directory.trunk_for(garbage, tenant) is None
    assert await directory.trunk_for("127.0.0.1", tenants["acme"]) is None  # acme has no trunk
    assert await directory.trunk_ha1(tenant, "sourced-carrier", "MD5") == ha1(
        "md5", "sourced-carrier", "sourced password"
    )
    assert await directory.trunk_ha1(tenant, "roaming-carrier", "SHA-256") == ha1(
        "sha256", "roaming-carrier", "roaming password"
    )
    assert await directory.trunk_ha1(tenant, "roaming-carrier", "SHA-512-256") is None
    assert await directory.trunk_ha1(tenant, "nobody", "MD5") is None
    assert await directory.trunk_ha1(tenants["acme"], "roaming-carrier", "MD5") is None
    # deactivated: at once neither by source nor by credentials
    await demo.call("PATCH", f"/trunks/{carriers['roaming']}", {"active": False})
    match = await directory.trunk_for("198.51.100.7", tenant)
    assert match is not None and [t.username for t in match.trunks] == ["sourced-carrier"]
    assert await directory.trunk_for("203.0.113.9", tenant) is None
    assert await directory.trunk_ha1(tenant, "roaming-carrier", "MD5") is None
    # a new password is used at once
    await demo.call("PATCH", f"/trunks/{carriers['sourced']}", {"password": "a fresh password"})
    assert await directory.trunk_ha1(tenant, "sourced-carrier", "MD5") == ha1(
        "md5", "sourced-carrier", "a fresh password"
    )


async def test_an_open_trunk_admits_its_sources_without_credentials(
    directory: TelephonyDirectory, demo: TenantApi, tenants: dict[str, int], carriers: dict[str, int]
) -> None:
    """A source that a trunk without credentials admits needs none, even where a trunk with credentials also
    lists it; among such trunks the most specific network names the trunk."""
    wide = await demo.call("POST", "/trunks", {"name": "wide", "allowed_sources": ["198.0.0.0/8"]}, 201)
    narrow = await demo.call("POST", "/trunks", {"name": "narrow", "allowed_sources": ["198.51.100.7/32"]}, 201)
    try:
        match = await directory.trunk_for("198.51.100.7", tenants["demo"])
        assert match is not None and not match.auth_required
        assert match.trunks == (TrunkAccount(narrow["id"], "narrow", None),)
        match = await directory.trunk_for("198.51.100.8", tenants["demo"])
        assert match is not None and match.trunks[0].name == "wide"
    finally:
        for trunk in (wide, narrow):
            await demo.call("DELETE", f"/trunks/{trunk['id']}", status=204)
    match = await directory.trunk_for("198.51.100.7", tenants["demo"])
    assert match is not None and match.auth_required
