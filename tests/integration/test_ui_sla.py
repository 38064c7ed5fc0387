"""The console's case policy page (``/admin/sla``) and the recording and consent part of the settings page, over
HTTP (in process, SQLite or PostgreSQL). Each test works on a tenant of its own (made by a platform admin), so the
demo tenants' policies stay as other tests expect them."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.conftest import Login
from tests.ui_helpers import a_platform_admin, csrf_of, own_tenant, ui_client, work_on

API = "/api/v1"


def row_problem(html: str, kind: str, index: int) -> str:
    found = re.search(rf'<p class="problem" id="{kind}-{index}-problem">(.*?)</p>', html, re.S)
    return found.group(1) if found else ""


def policy_form(token: str, categories: str, rungs: list[tuple[str, str, str]],
                rules: list[dict[str, str]]) -> dict[str, Any]:  # fmt: skip
    """The page's form: each rung's and rule's fields posted once per row, as a browser posts them."""
    keys = ("category", "priority", "customer_tier", "first_response_minutes", "next_response_minutes",
            "resolution_minutes", "resolution_days", "warn_percent", "around_the_clock",
            "escalate_on_breach")  # fmt: skip
    form: dict[str, Any] = {"csrf": token, "categories": categories}
    form |= {f"rung_{key}": [rung[i] for rung in rungs] for i, key in enumerate(("name", "team_id", "queue_id"))}
    form |= {f"rule_{key}": [rule.get(key, "") for rule in rules] for key in keys}
    return form


async def test_an_admin_edits_the_ladder_and_the_service_levels(
    http_app: Any, center: Any, client: httpx.AsyncClient, login: Login
) -> None:
    slug, headers = await own_tenant(center, client, login)
    team = (await client.post(f"{API}/teams", json={"name": "Complaints desk"}, headers=headers)).json()
    queue = (await client.post(f"{API}/queues", json={"name": "Complaints"}, headers=headers)).json()
    other_team = (await client.get(f"{API}/teams", headers=await login("admin@demo.test"))).json()[0]
    email = await a_platform_admin(center)
    async with ui_client(http_app, email) as browser:
        await work_on(browser, slug)
        page = await browser.get("/admin/sla")
        assert page.status_code == 200 and 'value="Front line"' in page.text and "Complaints desk" in page.text
        token = csrf_of(page.text)
        rungs = [("Front line", "", ""), ("Complaints <desk>", str(team["id"]), str(queue["id"])), ("", "", "")]
        urgent = {"priority": "urgent", "first_response_minutes": "30", "resolution_minutes": "480",
                  "around_the_clock": "yes", "escalate_on_breach": "yes"}  # fmt: skip
        complaint = {"category": "complaint", "first_response_minutes": "240", "resolution_days": "14",
                     "warn_percent": "75", "around_the_clock": "no", "escalate_on_breach": "no"}  # fmt: skip
        blank = {"around_the_clock": "no", "escalate_on_breach": "yes"}  # the empty row to add one: dropped
        # a rule with both resolution targets: refused at its row, every row kept as typed
        both = complaint | {"resolution_minutes": "600"}
        r = await browser.post(
            "/admin/sla", data=policy_form(token, "question, complaint", rungs, [urgent, both, blank])
        )
        assert r.status_code == 422 and 'role="alert"' in r.text
        assert "not both" in row_problem(r.text, "rule", 1) and not row_problem(r.text, "rule", 0)
        assert 'value="600"' in r.text and 'value="Complaints &lt;desk&gt;"' in r.text
        many = urgent | {"warn_percent": "many"}
        r = await browser.post("/admin/sla", data=policy_form(token, "question, complaint", rungs, [many, complaint]))
        assert r.status_code == 422 and "warn_percent" in row_problem(r.text, "rule", 0)
        assert 'name="rule_warn_percent" type="number" value="many"' in r.text
        assert 'aria-invalid="true" aria-describedby="rule-0-problem"' in r.text
        r = await browser.post("/admin/sla", data=policy_form(token, "question, Bad Name", rungs, [urgent]))
        assert r.status_code == 422 and 'id="f-categories-problem"' in r.text
        # another tenant's team: not this tenant's, refused at its rung
        foreign = [rungs[0], ("Elsewhere", str(other_team["id"]), "")]
        r = await browser.post("/admin/sla", data=policy_form(token, "question, complaint", foreign, [urgent]))
        assert r.status_code == 422 and "does not exist" in row_problem(r.text, "rung", 1)
        r = await browser.post("/admin/sla", data=policy_form(token, "question, complaint", rungs,
                                                               [urgent, complaint, blank]))  # fmt: skip
        assert r.status_code == 303 and r.headers["location"] == "/admin/sla?saved=1", r.text
        page = await browser.get(r.headers["location"])
        assert 'role="status"' in page.text and 'value="Complaints &lt;desk&gt;"' in page.text
    [tenant] = [t for t in (await client.get(f"{API}/tenants", headers=headers)).json() if t["slug"] == slug]
    policy = tenant["case_policy"]
    assert policy["categories"] == ["question", "complaint"]
    assert [(r["name"], r["team_id"], r["queue_id"]) for r in policy["ladder"]] == [
        ("Front line", None, None), ("Complaints <desk>", team["id"], queue["id"])]  # fmt: skip
    assert [(r["priority"], r["category"], r["resolution_minutes"], r["resolution_days"], r["warn_percent"],
             r["around_the_clock"], r["escalate_on_breach"]) for r in policy["sla"]] == [
        ("urgent", None, 480, None, 80, True, True), (None, "complaint", None, 14, 75, False, False)]  # fmt: skip
    audit = await client.get(f"{API}/audit?limit=20", headers=headers)
    if audit.status_code == 200:
        assert any(e["action"] == "tenant.updated" for e in audit.json().get("items", audit.json()))


async def test_the_policy_page_needs_its_permission_and_the_token(http_app: Any) -> None:
    async with ui_client(http_app, "supervisor@demo.test") as browser:
        page = await browser.get("/admin/sla")  # read: the ladder shown, nothing to save
        assert page.status_code == 200 and "Front line" in page.text and "<button" not in page.text.split("<main")[1]
        r = await browser.post("/admin/sla", data={"csrf": csrf_of(page.text), "categories": "question"})
        assert r.status_code == 403 and "tenants.update" in r.text
    async with ui_client(http_app, "admin@demo.test") as browser:
        r = await browser.post("/admin/sla", data={"csrf": "forged", "categories": "question"})
        assert r.status_code == 403 and "csrf_failed" in r.text
    async with ui_client(http_app) as browser:
        r = await browser.get("/admin/sla")
        assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Fadmin%2Fsla"


async def test_settings_show_consent_and_save_the_calling_hours(
    http_app: Any, center: Any, client: httpx.AsyncClient, login: Login
) -> None:
    slug, headers = await own_tenant(center, client, login)
    for i, granted in enumerate((False, False, True)):
        body = {"name": f"Customer {i}", "consents": [
            {"purpose": "call_recording", "granted": granted, "channel": "voice", "source": "test"}]}  # fmt: skip
        assert (await client.post(f"{API}/customers", json=body, headers=headers)).status_code == 201
    policy = {"asap_minutes": 20, "max_attempts": 5}  # the policy's other keys, which the page keeps
    [tenant] = [t for t in (await client.get(f"{API}/tenants", headers=headers)).json() if t["slug"] == slug]
    r = await client.patch(f"{API}/tenants/{tenant['id']}", json={"callback_policy": policy}, headers=headers)
    assert r.status_code == 200, r.text
    email = await a_platform_admin(center)
    async with ui_client(http_app, email) as browser:
        await work_on(browser, slug)
        page = await browser.get("/admin/settings")
        assert page.status_code == 200
        recording = re.search(r"<th scope=\"row\">call_recording</th><td>.*?</td><td>(\d+)</td><td>(\d+)</td>",
                              page.text, re.S)  # fmt: skip
        assert recording is not None and recording.groups() == ("1", "2")  # granted 1, refused 2
        token = csrf_of(page.text)
        form = {"csrf": token, "name": "UI policy", "timezone": "Europe/Warsaw", "languages": "pl, en",
                "record_calls": "on", "calling_day_mon": "08:00-21:00", "calling_day_sat": "10:00",
                "calling_holidays": "2026-12-25"}  # fmt: skip
        r = await browser.post("/admin/settings", data=form)
        assert r.status_code == 422 and 'id="f-calling_day_sat-problem"' in r.text and 'value="10:00"' in r.text
        r = await browser.post("/admin/settings", data=form | {"calling_day_sat": "", "calling_day_mon": "",
                                                               "calling_holidays": "2026-12-25"})  # fmt: skip
        assert r.status_code == 422 and 'id="calling-problem"' in r.text  # holidays without any calling day
        r = await browser.post("/admin/settings", data=form | {"calling_day_sat": "10:00-14:00",
                                                               "detect_machines": "on"})  # fmt: skip
        assert r.status_code == 303, r.text
        page = await browser.get("/admin/settings")
        assert 'id="f-calling_day_mon" name="calling_day_mon" type="text" value="08:00-21:00"' in page.text
    [tenant] = [t for t in (await client.get(f"{API}/tenants", headers=headers)).json() if t["slug"] == slug]
    saved = tenant["callback_policy"]
    assert saved["calling_hours"] == {"weekly": {"mon": [["08:00", "21:00"]], "sat": [["10:00", "14:00"]]},
                                      "holidays": ["2026-12-25"]}  # fmt: skip
    assert saved["detect_machines"] is True and saved["asap_minutes"] == 20 and saved["max_attempts"] == 5
    assert tenant["record_calls"] is True
