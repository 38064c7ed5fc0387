"""The browser UI over HTTP (in process, SQLite or PostgreSQL): login with CSRF, the security headers, the IVR
editor saving through the telephony action and showing problems next to their node, tenant isolation, escaping,
languages."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import httpx
import pytest

from infolinia.voice.ivr import demo_flow
from infolinia.web.ui import security
from tests.conftest import Login
from tests.ui_helpers import a_platform_admin, csrf_of, ui_client

API = "/api/v1"


ACME_FLOW = {"start": "orders", "nodes": [{"id": "orders", "type": "queue", "queue": "Orders"}]}


async def a_flow(client: httpx.AsyncClient, login: Login, email: str = "admin@demo.test") -> dict[str, Any]:
    """A new flow of the tenant (a copy of the demo flow, or acme's one queue), made through the API."""
    definition = demo_flow().model_dump(mode="json") if email.endswith("@demo.test") else ACME_FLOW
    body = {"name": f"UI {uuid.uuid4().hex[:8]}", "definition": definition}
    r = await client.post(f"{API}/ivr-flows", json=body, headers=await login(email))
    assert r.status_code == 201, r.text
    flow: dict[str, Any] = r.json()
    return flow


def node_fields(html: str) -> list[str]:
    """The JSON texts of the editor's node fields, in order."""
    import html as html_lib

    return [
        html_lib.unescape(t)
        for t in re.findall(r'<textarea id="node-\d+" name="node"[^>]*>(.*?)</textarea>', html, re.S)
    ]


def problems_at(html: str, index: int) -> str:
    found = re.search(rf'<ul class="problem" id="node-{index}-problems">(.*?)</ul>', html, re.S)
    return found.group(1) if found else ""


async def test_pages_need_a_login_and_carry_the_security_headers(http_app: Any) -> None:
    async with ui_client(http_app) as browser:
        r = await browser.get("/admin/ivr")
        assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Fadmin%2Fivr"
        page = await browser.get("/login")
        assert page.status_code == 200
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "default-src 'none'" in csp and "unsafe-inline" not in csp
        assert page.headers["x-frame-options"] == "DENY"
        assert '<label for="email">' in page.text and '<label for="password">' in page.text
        assert "<script>" not in page.text  # scripts only from files (the CSP forbids inline ones)


async def test_an_unknown_console_page_is_an_error_page(http_app: Any) -> None:
    async with ui_client(http_app, "admin@demo.test") as browser:
        r = await browser.get("/admin/nothing/<b>here")
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
        assert "<b>here" not in r.text and "not_found" in r.text and "content-security-policy" in r.headers


async def test_login_without_the_form_token_is_refused(http_app: Any) -> None:
    async with ui_client(http_app) as browser:
        await browser.get("/login")
        r = await browser.post("/login", data={"email": "admin@demo.test", "password": "demo", "csrf": "forged"})
        assert r.status_code == 403 and "infolinia_session" not in r.headers.get("set-cookie", "")
        r = await browser.post("/login", data={"email": "admin@demo.test", "password": "wrong", "csrf": "x"})
        assert r.status_code == 403


async def test_wrong_password_shows_the_form_again_with_a_message(http_app: Any) -> None:
    async with ui_client(http_app) as browser:
        page = await browser.get("/login")
        r = await browser.post(
            "/login", data={"csrf": csrf_of(page.text), "email": "admin@demo.test", "password": "nope"}
        )
        assert r.status_code == 401 and 'role="alert"' in r.text
        assert "infolinia_session" not in r.headers.get("set-cookie", "")


async def test_login_goes_only_to_local_pages(http_app: Any) -> None:
    async with ui_client(http_app) as browser:
        page = await browser.get("/login")
        data = {"csrf": csrf_of(page.text), "email": "admin@demo.test", "password": "demo", "next": "//evil.test/x"}
        r = await browser.post("/login", data=data)
        assert r.status_code == 303 and r.headers["location"] == "/admin"


async def test_a_login_that_asked_for_no_page_lands_where_the_role_works(http_app: Any) -> None:
    homes = {"agent1@demo.test": "/desk", "supervisor@demo.test": "/wallboard", "admin@demo.test": "/admin"}
    for email, home in homes.items():
        async with ui_client(http_app) as browser:
            page = await browser.get("/login")
            r = await browser.post("/login", data={"csrf": csrf_of(page.text), "email": email, "password": "demo"})
            assert r.status_code == 303 and r.headers["location"] == home, (email, r.headers)
    async with ui_client(http_app) as browser:  # a page asked for wins
        page = await browser.get("/login")
        data = {"csrf": csrf_of(page.text), "email": "agent1@demo.test", "password": "demo", "next": "/admin/kb"}
        r = await browser.post("/login", data=data)
        assert r.status_code == 303 and r.headers["location"] == "/admin/kb"


async def test_logout_needs_the_session_token_and_ends_the_session(http_app: Any) -> None:
    async with ui_client(http_app, "supervisor@demo.test") as browser:
        page = await browser.get("/admin")
        assert page.status_code == 200
        assert (await browser.post("/logout", data={"csrf": "forged"})).status_code == 403
        assert (await browser.get("/admin")).status_code == 200  # still logged in
        r = await browser.post("/logout", data={"csrf": csrf_of(page.text)})
        assert r.status_code == 303 and r.headers["location"] == "/login"
        assert (await browser.get("/admin")).status_code == 303


async def test_the_navigation_follows_the_role(http_app: Any) -> None:
    async with ui_client(http_app, "agent1@demo.test") as browser:
        page = await browser.get("/admin")
        assert 'href="/admin/ivr"' not in page.text and 'href="/admin/users"' not in page.text
        r = await browser.get("/admin/ivr")
        assert r.status_code == 403 and "telephony.read" in r.text
    async with ui_client(http_app, "admin@demo.test") as browser:
        page = await browser.get("/admin")
        assert 'href="/admin/ivr"' in page.text and 'href="/admin/users"' in page.text


async def test_an_admin_saves_a_flow_with_a_new_branch(http_app: Any, client: httpx.AsyncClient, login: Login) -> None:
    flow = await a_flow(client, login)
    async with ui_client(http_app, "admin@demo.test") as browser:
        page = await browser.get(f"/admin/ivr/{flow['id']}")
        assert page.status_code == 200 and "<svg" in page.text and 'data-node="main_menu"' in page.text
        nodes = [json.loads(text) for text in node_fields(page.text) if text]
        menu = next(n for n in nodes if n["id"] == "main_menu")
        menu["digits"]["5"] = "news"
        fields = [json.dumps(n) for n in nodes]
        news = {"id": "news", "type": "announce", "prompt": "payment_deadlines", "next": "main_menu"}
        form = {"csrf": csrf_of(page.text), "name": flow["name"], "start": "hours", "node": [*fields, json.dumps(news)]}
        r = await browser.post(f"/admin/ivr/{flow['id']}", data=form)
        assert r.status_code == 303 and r.headers["location"] == f"/admin/ivr/{flow['id']}?saved=2", r.text
    saved = (await client.get(f"{API}/ivr-flows/{flow['id']}", headers=await login("admin@demo.test"))).json()
    assert saved["version"] == 2
    menu = next(n for n in saved["definition"]["nodes"] if n["id"] == "main_menu")
    assert menu["digits"]["5"] == "news"
    assert any(n["id"] == "news" and n["type"] == "announce" for n in saved["definition"]["nodes"])


async def test_a_broken_flow_is_refused_with_each_problem_at_its_node(
    http_app: Any, client: httpx.AsyncClient, login: Login
) -> None:
    flow = await a_flow(client, login)
    async with ui_client(http_app, "admin@demo.test") as browser:
        page = await browser.get(f"/admin/ivr/{flow['id']}")
        texts = [t for t in node_fields(page.text) if t]
        nodes = [json.loads(t) for t in texts]
        at = next(i for i, n in enumerate(nodes) if n["id"] == "main_menu")
        nodes[at]["digits"]["6"] = "nowhere"
        fields = [json.dumps(n) for n in nodes]
        fields[0] = '{"id": "hours", "type": '  # not JSON at all
        form = {"csrf": csrf_of(page.text), "name": flow["name"], "start": "hours", "node": fields}
        r = await browser.post(f"/admin/ivr/{flow['id']}", data=form)
        assert r.status_code == 422
        assert "Not valid JSON" in problems_at(r.text, 0)
        fields[0] = texts[0]
        r = await browser.post(f"/admin/ivr/{flow['id']}", data=form | {"node": fields})
        assert r.status_code == 422 and 'role="alert"' in r.text
        assert "nowhere" in problems_at(r.text, at) and 'aria-invalid="true"' in r.text
        assert "digits.6" in problems_at(r.text, at)
        assert problems_at(r.text, 0) == ""
        assert fields[at] in node_fields(r.text)  # what was typed is kept
    saved = (await client.get(f"{API}/ivr-flows/{flow['id']}", headers=await login("admin@demo.test"))).json()
    assert saved["version"] == 1  # nothing saved


async def test_check_validates_without_saving_and_escapes_what_was_typed(
    http_app: Any, client: httpx.AsyncClient, login: Login
) -> None:
    flow = await a_flow(client, login)
    async with ui_client(http_app, "admin@demo.test") as browser:
        page = await browser.get(f"/admin/ivr/{flow['id']}")
        hostile = "</textarea><script>alert(1)</script>"
        form = {"csrf": csrf_of(page.text), "name": flow["name"], "start": "hours", "node": [hostile]}
        r = await browser.post(f"/admin/ivr/{flow['id']}/check", data=form, headers={"HX-Request": "true"})
        assert r.status_code == 200 and "<script>alert" not in r.text and "&lt;script&gt;" in r.text
        assert r.text.lstrip().startswith('<section aria-labelledby="editor-heading" id="editor">')
        r = await browser.post(f"/admin/ivr/{flow['id']}/check", data=form | {"csrf": "forged"})
        assert r.status_code == 403
    saved = (await client.get(f"{API}/ivr-flows/{flow['id']}", headers=await login("admin@demo.test"))).json()
    assert saved["version"] == 1


async def test_a_supervisor_reads_flows_but_cannot_save(http_app: Any, client: httpx.AsyncClient, login: Login) -> None:
    flow = await a_flow(client, login)
    async with ui_client(http_app, "supervisor@demo.test") as browser:
        page = await browser.get(f"/admin/ivr/{flow['id']}")
        assert page.status_code == 200 and ">Save</button>" not in page.text and ">Check without saving<" in page.text
        form = {"csrf": csrf_of(page.text), "name": flow["name"], "start": "hours", "node": []}
        r = await browser.post(f"/admin/ivr/{flow['id']}", data=form)
        assert r.status_code == 403 and "telephony.manage" in r.text


async def test_another_tenant_s_flow_is_not_found(http_app: Any, client: httpx.AsyncClient, login: Login) -> None:
    flow = await a_flow(client, login)
    async with ui_client(http_app, "admin@acme.test") as browser:
        page = await browser.get(f"/admin/ivr/{flow['id']}")
        assert page.status_code == 404
        listing = await browser.get("/admin/ivr")
        assert flow["name"] not in listing.text
        form = {"csrf": csrf_of(listing.text), "name": "stolen", "start": "x", "node": ['{"id":"x","type":"hangup"}']}
        assert (await browser.post(f"/admin/ivr/{flow['id']}", data=form)).status_code == 404


@pytest.mark.parametrize("language", ["en", "pl"])
async def test_pages_speak_the_chosen_language(http_app: Any, language: str) -> None:
    words = {"en": ("IVR flows", "Users and agents"), "pl": ("Przepływy IVR", "Użytkownicy i konsultanci")}
    async with ui_client(http_app, "admin@demo.test") as browser:
        r = await browser.get(f"/ui/language?to={language}&next=/admin/users")
        assert r.status_code == 303 and r.headers["location"] == "/admin/users"
        page = await browser.get("/admin/users")
        assert f'<html lang="{language}">' in page.text
        assert all(word in page.text for word in words[language])


async def test_accept_language_picks_the_login_page_s_language(http_app: Any) -> None:
    async with ui_client(http_app, language="") as browser:
        pl = await browser.get("/login", headers={"Accept-Language": "pl-PL,pl;q=0.9,en;q=0.5"})
        assert '<html lang="pl">' in pl.text and "Zaloguj się" in pl.text
        en = await browser.get("/login", headers={"Accept-Language": "de, en;q=0.3"})
        assert '<html lang="en">' in en.text and "Log in" in en.text
        odd = await browser.get("/login", headers={"Accept-Language": ";;q=x,,*"})
        assert odd.status_code == 200 and '<html lang="en">' in odd.text


async def test_agent_skills_are_saved_through_the_agent_action(
    http_app: Any, client: httpx.AsyncClient, login: Login
) -> None:
    headers = await login("admin@acme.test")
    agents = (await client.get(f"{API}/agents", headers=headers)).json()
    agent = next(a for a in agents if a["role"] == "agent")
    async with ui_client(http_app, "admin@acme.test") as browser:
        page = await browser.get(f"/admin/users/{agent['user_id']}")
        assert page.status_code == 200
        token = csrf_of(page.text)
        extension = agent["extension"] or ""
        bad = {"csrf": token, "extension": extension, "skills": "Billing Team=9", "languages": "pl"}
        r = await browser.post(f"/admin/users/{agent['user_id']}", data=bad)
        assert r.status_code == 422 and 'id="f-skills-problem"' in r.text
        skills = ", ".join(f"{k}={v}" for k, v in sorted(agent["skills"].items()))
        good = {"csrf": token, "extension": extension, "skills": skills, "languages": ", ".join(agent["languages"])}
        r = await browser.post(f"/admin/users/{agent['user_id']}", data=good)
        assert r.status_code == 303, r.text
    after = (await client.get(f"{API}/agents/{agent['user_id']}", headers=headers)).json()
    assert after["skills"] == agent["skills"] and after["languages"] == agent["languages"]


async def test_queue_form_shows_problems_next_to_the_field(http_app: Any) -> None:
    async with ui_client(http_app, "admin@acme.test") as browser:
        page = await browser.get("/admin/queues")
        data = {"csrf": csrf_of(page.text), "name": "", "strategy": "fastest_finger", "sl_target": "2"}
        r = await browser.post("/admin/queues", data=data)
        assert r.status_code == 422
        for name in ("name", "strategy", "sl_target"):
            assert f'id="f-{name}-problem"' in r.text, name


async def test_every_field_has_a_label_and_the_pages_have_landmarks(http_app: Any, client: httpx.AsyncClient,
                                                                   login: Login) -> None:  # fmt: skip
    flow = await a_flow(client, login)
    async with ui_client(http_app, "admin@demo.test") as browser:
        for path in (
            "/admin",
            "/admin/users",
            "/admin/queues",
            "/admin/ivr",
            f"/admin/ivr/{flow['id']}",
            "/admin/prompts",
            "/admin/campaigns",
        ):
            html = (await browser.get(path)).text
            assert "<main" in html and "<nav" in html and html.count("<h1") == 1, path
            for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", html):
                if 'type="hidden"' in tag:
                    continue
                ident = re.search(r'id="([^"]+)"', tag)
                assert ident and f'for="{ident.group(1)}"' in html, (path, tag)


def test_security_tokens_compare_safely() -> None:
    assert security.same("a", "a") and not security.same("a", "b") and not security.same(None, None)
    assert not security.same("", "")


async def test_a_platform_admin_adds_a_tenant_works_on_it_and_sets_its_hours(
    http_app: Any, center: Any, client: httpx.AsyncClient, login: Login
) -> None:
    email = await a_platform_admin(center)
    slug = f"ui-{uuid.uuid4().hex[:8]}"
    async with ui_client(http_app, email) as browser:
        r = await browser.get("/admin/ivr")  # no tenant chosen yet: the tenants page
        assert r.status_code == 303 and r.headers["location"] == "/admin/tenants"
        page = await browser.get("/admin/tenants")
        token = csrf_of(page.text)
        bad = {"csrf": token, "slug": "Not A Slug", "name": "", "timezone": "Mars/Olympus", "country": "PL"}
        r = await browser.post("/admin/tenants", data=bad)
        assert r.status_code == 422
        for name in ("slug", "name", "timezone"):
            assert f'id="f-{name}-problem"' in r.text, name
        good = {"csrf": token, "slug": slug, "name": "UI <b>Test</b>", "timezone": "Europe/Warsaw", "country": "PL",
                "languages": "pl, en"}  # fmt: skip
        assert (await browser.post("/admin/tenants", data=good)).status_code == 303
        page = await browser.get("/admin/tenants")
        assert "UI &lt;b&gt;Test&lt;/b&gt;" in page.text and slug in page.text
        r = await browser.post("/admin/tenants/choose", data={"csrf": token, "slug": slug})
        assert r.status_code == 303
        settings = await browser.get("/admin/settings")
        assert settings.status_code == 200 and 'value="pl, en"' in settings.text
        form = {"csrf": token, "name": "UI Test", "timezone": "Europe/Warsaw", "languages": "pl, en",
                "day_mon": "8-20", "holidays": ""}  # fmt: skip
        r = await browser.post("/admin/settings", data=form)
        assert r.status_code == 422 and 'id="f-day_mon-problem"' in r.text
        r = await browser.post("/admin/settings", data=form | {"day_mon": "08:00-12:00, 13:00-24:00",
                                                               "day_sat": "09:00-14:00", "holidays": "2026-12-24",
                                                               "record_calls": "on"})  # fmt: skip
        assert r.status_code == 303, r.text
        assert (await browser.post("/admin/tenants/choose", data={"csrf": token, "slug": "nope"})).status_code == 404
    headers = {**await login(email), "X-Tenant": slug}
    [tenant] = [t for t in (await client.get(f"{API}/tenants", headers=headers)).json() if t["slug"] == slug]
    assert tenant["business_hours"] == {
        "weekly": {"mon": [["08:00", "12:00"], ["13:00", "24:00"]], "sat": [["09:00", "14:00"]]},
        "holidays": ["2026-12-24"],
    }
    assert tenant["record_calls"] is True and tenant["name"] == "UI Test"


async def test_tenant_admins_see_their_settings_but_not_the_tenants(http_app: Any) -> None:
    async with ui_client(http_app, "admin@acme.test") as browser:
        page = await browser.get("/admin/settings")
        assert page.status_code == 200 and "Europe/London" in page.text
        assert 'href="/admin/tenants"' not in page.text
        assert (await browser.get("/admin/tenants")).status_code == 403
    async with ui_client(http_app, "supervisor@demo.test") as browser:
        page = await browser.get("/admin/settings")
        assert page.status_code == 200 and ">Save</button>" not in page.text
        assert (await browser.post("/admin/settings", data={"csrf": csrf_of(page.text)})).status_code == 403


def london_number() -> str:
    """A random valid London number without its trunk prefix (read in acme's country, GB)."""
    import phonenumbers

    while True:
        local = f"20{uuid.uuid4().int % 10**8:08d}"
        if phonenumbers.is_valid_number(phonenumbers.parse(local, "GB")) and not local.startswith("207946"):
            return local


async def test_numbers_are_added_and_given_a_flow_through_the_telephony_actions(
    http_app: Any, client: httpx.AsyncClient, login: Login
) -> None:
    headers = await login("admin@acme.test")
    flow = await a_flow(client, login, "admin@acme.test")
    local = london_number()
    async with ui_client(http_app, "admin@acme.test") as browser:
        page = await browser.get("/admin/numbers")
        token = csrf_of(page.text)
        r = await browser.post("/admin/numbers", data={"csrf": token, "number": "not a number", "flow_id": ""})
        assert r.status_code == 422 and 'id="f-number-problem"' in r.text
        r = await browser.post("/admin/numbers", data={"csrf": token, "number": local, "label": "UI", "flow_id": ""})
        assert r.status_code == 303, r.text
        [number] = [n for n in (await client.get(f"{API}/numbers", headers=headers)).json() if n["label"] == "UI"
                    and n["national"] == local]  # fmt: skip
        assert number["e164"] == f"+44{local}" and number["flow_id"] is None
        r = await browser.post(f"/admin/numbers/{number['id']}", data={"csrf": token, "flow_id": str(flow["id"])})
        assert r.status_code == 303
        r = await browser.post(f"/admin/numbers/{number['id']}", data={"csrf": token, "flow_id": "999999"})
        assert r.status_code in (404, 422) and f'id="flow-{number["id"]}-problem"' in r.text
        page = await browser.get("/admin/numbers")
        assert f"+44{local}" in page.text
    after = (await client.get(f"{API}/numbers", headers=headers)).json()
    assert next(n for n in after if n["id"] == number["id"])["flow_id"] == flow["id"]
    demo_numbers = (await client.get(f"{API}/numbers", headers=await login("admin@demo.test"))).json()
    async with ui_client(http_app, "admin@acme.test") as browser:
        token = csrf_of((await browser.get("/admin/numbers")).text)
        r = await browser.post(f"/admin/numbers/{demo_numbers[0]['id']}", data={"csrf": token, "flow_id": ""})
        assert r.status_code == 404  # another tenant's number


async def test_an_editor_changes_an_article_and_a_stale_save_is_refused(
    http_app: Any, client: httpx.AsyncClient, login: Login
) -> None:
    headers = await login("admin@acme.test")
    body = {"language": "en", "slug": f"ui-{uuid.uuid4().hex[:8]}", "title": "Returns", "body": "Old *text*"}
    created = (await client.post(f"{API}/kb/articles", json=body, headers=headers)).json()
    async with ui_client(http_app, "admin@acme.test") as browser:
        page = await browser.get(f"/admin/kb/{created['id']}")
        assert page.status_code == 200 and "<em>text</em>" in page.text  # the saved body, rendered
        token = csrf_of(page.text)
        form = {"csrf": token, "title": "Returns <b>policy</b>", "body": "New <script>x</script>",
                "status": "published", "visibility": "internal", "note": "clearer", "base_version": "1"}  # fmt: skip
        r = await browser.post(f"/admin/kb/{created['id']}", data=form)
        assert r.status_code == 303, r.text
        page = await browser.get(f"/admin/kb/{created['id']}")
        assert "<script>x" not in page.text and "Returns &lt;b&gt;policy&lt;/b&gt;" in page.text
        r = await browser.post(f"/admin/kb/{created['id']}", data=form | {"title": "Mine"})  # still from version 1
        assert r.status_code == 409 and 'role="alert"' in r.text
        r = await browser.post(f"/admin/kb/{created['id']}", data=form | {"status": "gone"})
        assert r.status_code == 422 and 'id="f-status-problem"' in r.text
        listing = await browser.get("/admin/kb")
        assert f'href="/admin/kb/{created["id"]}"' in listing.text
    after = (await client.get(f"{API}/kb/articles/{created['id']}", headers=headers)).json()
    assert after["version"] == 2 and after["status"] == "published" and after["title"] == "Returns <b>policy</b>"
    async with ui_client(http_app, "agent1@acme.test") as browser:
        assert (await browser.get(f"/admin/kb/{created['id']}")).status_code == 403
    async with ui_client(http_app, "admin@demo.test") as browser:
        assert (await browser.get(f"/admin/kb/{created['id']}")).status_code == 404


async def test_an_admin_adds_a_user_through_the_user_action(
    http_app: Any, client: httpx.AsyncClient, login: Login
) -> None:
    email = f"ui-{uuid.uuid4().hex[:8]}@acme.test"
    async with ui_client(http_app, "admin@acme.test") as browser:
        page = await browser.get("/admin/users")
        token = csrf_of(page.text)
        bad = {"csrf": token, "email": email, "display_name": "", "role": "boss", "password": "x"}
        r = await browser.post("/admin/users", data=bad)
        assert r.status_code == 422
        for name in ("display_name", "role"):
            assert f'id="f-{name}-problem"' in r.text, name
        good = {"csrf": token, "email": email, "display_name": "Nowa <Osoba>", "role": "agent",
                "password": "a good long password", "language": "pl"}  # fmt: skip
        r = await browser.post("/admin/users", data=good | {"password": "x"})  # too short: the action says so
        assert r.status_code == 422 and 'id="f-password-problem"' in r.text
        r = await browser.post("/admin/users", data=good | {"role": "platform_admin"})
        assert r.status_code in (403, 422) and 'role="alert"' in r.text
        r = await browser.post("/admin/users", data=good)
        assert r.status_code == 303, r.text
        page = await browser.get("/admin/users")
        assert "Nowa &lt;Osoba&gt;" in page.text
        again = await browser.post("/admin/users", data=good)
        assert again.status_code == 409 and 'id="f-email-problem"' in again.text
    async with ui_client(http_app, "supervisor@demo.test") as browser:
        page = await browser.get("/admin/users")
        assert page.status_code == 200 and 'action="/admin/users"' not in page.text
        assert (await browser.post("/admin/users", data={"csrf": csrf_of(page.text)})).status_code == 403
    users = (await client.get(f"{API}/users", headers=await login("admin@acme.test"))).json()["items"]
    assert any(u["email"] == email and u["role"] == "agent" and u["language"] == "pl" for u in users)


SCRIPT = {"start": "hi", "steps": [
    {"id": "hi", "type": "say", "text": "Hello!", "next": "bye"},
    {"id": "bye", "type": "end", "text": "Goodbye.", "outcome": "resolved"},
]}  # fmt: skip


async def test_a_supervisor_edits_an_agent_script_and_sees_the_validator_s_problems(
    http_app: Any, client: httpx.AsyncClient, login: Login
) -> None:
    headers = await login("admin@acme.test")
    body = {"name": f"UI {uuid.uuid4().hex[:8]}", "language": "en", "definition": SCRIPT}
    r = await client.post(f"{API}/scripts", json=body, headers=headers)
    assert r.status_code == 201, r.text
    made = r.json()
    async with ui_client(http_app, "admin@acme.test") as browser:
        assert f'href="/admin/scripts/{made["id"]}"' in (await browser.get("/admin/scripts")).text
        page = await browser.get(f"/admin/scripts/{made['id']}")
        token = csrf_of(page.text)
        broken = {**SCRIPT, "steps": [{**SCRIPT["steps"][0], "next": "nowhere"}, SCRIPT["steps"][1]]}
        form = {"csrf": token, "name": body["name"], "language": "en", "description": "", "active": "on",
                "definition": json.dumps(broken), "attachments": "{}"}  # fmt: skip
        r = await browser.post(f"/admin/scripts/{made['id']}", data=form)
        assert r.status_code == 422 and "definition.steps[0].next" in r.text and 'id="f-definition-problem"' in r.text
        r = await browser.post(f"/admin/scripts/{made['id']}", data=form | {"attachments": "{oops"})
        assert r.status_code == 422 and 'id="f-attachments-problem"' in r.text and "Not valid JSON" in r.text
        fixed = {**SCRIPT, "steps": [{**SCRIPT["steps"][0], "text": "Good <morning>!"}, SCRIPT["steps"][1]]}
        r = await browser.post(f"/admin/scripts/{made['id']}", data=form | {"definition": json.dumps(fixed)})
        assert r.status_code == 303, r.text
        page = await browser.get(f"/admin/scripts/{made['id']}")
        assert "Good &lt;morning&gt;!" in page.text
    after = (await client.get(f"{API}/scripts/{made['id']}", headers=headers)).json()
    assert after["version"] == 2 and after["definition"]["steps"][0]["text"] == "Good <morning>!"
    async with ui_client(http_app, "agent1@acme.test") as browser:
        assert (await browser.get(f"/admin/scripts/{made['id']}")).status_code == 403
    async with ui_client(http_app, "admin@demo.test") as browser:
        assert (await browser.get(f"/admin/scripts/{made['id']}")).status_code == 404
