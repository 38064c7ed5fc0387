"""The admin console's upload forms over HTTP (in process, SQLite or PostgreSQL): voice prompts uploaded as
``multipart/form-data`` through the API's validator and action, refused files shown in place with nothing saved,
the CSRF token required, tenants kept apart."""

from __future__ import annotations

import io
import re
import uuid
import wave
from typing import Any

import httpx
import numpy as np

from tests.conftest import Login
from tests.ui_helpers import csrf_of, ui_client

API = "/api/v1"


def a_wav(seconds: float = 1.0, rate: int = 8000) -> bytes:
    """A mono 16-bit WAV file holding a 440 Hz tone."""
    t = np.arange(int(seconds * rate)) / rate
    samples = (np.sin(2 * np.pi * 440 * t) * 8000).astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return out.getvalue()


def problem_of(html: str, name: str) -> str:
    found = re.search(rf'<p class="problem" id="f-{name}-problem">(.*?)</p>', html, re.S)
    return found.group(1) if found else ""


async def post_prompt(browser: httpx.AsyncClient, name: str, data: bytes, csrf: str | None = "") -> httpx.Response:
    if csrf == "":
        csrf = csrf_of((await browser.get("/admin/prompts")).text)
    fields = {"name": name, "language": "pl"} | ({"csrf": csrf} if csrf is not None else {})
    return await browser.post("/admin/prompts", data=fields, files={"file": ("greeting.wav", data, "audio/wav")})


async def test_an_admin_uploads_a_prompt_and_hears_it(http_app: Any, client: httpx.AsyncClient, login: Login) -> None:
    name = f"ui_{uuid.uuid4().hex[:8]}"
    async with ui_client(http_app, "admin@demo.test") as browser:
        r = await post_prompt(browser, name, a_wav(1.0, rate=16000))
        assert r.status_code == 303 and r.headers["location"] == f"/admin/prompts?saved={name}", r.text
        page = await browser.get(r.headers["location"])
        assert page.status_code == 200 and f"<td>{name}</td>" in page.text
        src = f"/admin/prompts/{name}/audio?language=pl"
        assert f'<audio controls preload="none" src="{src}">' in page.text
        assert "media-src 'self'" in page.headers["content-security-policy"]
        audio = await browser.get(src)
        assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
        assert audio.content.startswith(b"RIFF") and audio.headers["x-prompt-source"] == "tenant"
    listed = (await client.get(f"{API}/prompts", headers=await login("admin@demo.test"))).json()
    mine = next(p for p in listed if p["name"] == name and p["source"] == "tenant")
    assert [(v["language"], v["duration_ms"]) for v in mine["languages"]] == [("pl", 1000)]


async def test_a_bad_file_is_refused_in_place_and_nothing_is_saved(
    http_app: Any, client: httpx.AsyncClient, login: Login
) -> None:
    name = f"ui_{uuid.uuid4().hex[:8]}"
    async with ui_client(http_app, "admin@demo.test") as browser:
        r = await post_prompt(browser, name, b"<script>alert(1)</script> not a wav")
        assert r.status_code == 422 and 'role="alert"' in r.text
        assert problem_of(r.text, "file") and "<script>alert" not in r.text
        r = await post_prompt(browser, name, a_wav(0.05))
        assert r.status_code == 422 and "too short" in problem_of(r.text, "file")
        r = await post_prompt(browser, "bad name!", a_wav(1.0))
        assert r.status_code == 422 and "bad name!" in problem_of(r.text, "name")
        assert f"<td>{name}</td>" not in (await browser.get("/admin/prompts")).text
        r = await browser.post("/admin/prompts", content=b"name=x", headers={"content-type": "text/plain"})
        assert r.status_code == 422 and "bad_form" in r.text
    listed = (await client.get(f"{API}/prompts", headers=await login("admin@demo.test"))).json()
    assert name not in {p["name"] for p in listed}


async def test_an_upload_without_the_form_token_is_refused(http_app: Any) -> None:
    name = f"ui_{uuid.uuid4().hex[:8]}"
    async with ui_client(http_app, "admin@demo.test") as browser:
        assert (await post_prompt(browser, name, a_wav(), csrf=None)).status_code == 403
        assert (await post_prompt(browser, name, a_wav(), csrf="forged")).status_code == 403
        assert f"<td>{name}</td>" not in (await browser.get("/admin/prompts")).text


async def test_prompts_stay_in_their_tenant_and_agents_only_listen(http_app: Any) -> None:
    name = f"ui_{uuid.uuid4().hex[:8]}"
    async with ui_client(http_app, "admin@demo.test") as browser:
        assert (await post_prompt(browser, name, a_wav())).status_code == 303
    async with ui_client(http_app, "admin@acme.test") as browser:
        assert f"<td>{name}</td>" not in (await browser.get("/admin/prompts")).text
        assert (await browser.get(f"/admin/prompts/{name}/audio?language=pl")).status_code == 404
    async with ui_client(http_app, "agent1@demo.test") as browser:
        page = await browser.get("/admin/prompts")
        assert page.status_code == 200 and f"<td>{name}</td>" in page.text and 'type="file"' not in page.text
        r = await browser.post("/admin/prompts", data={"csrf": csrf_of(page.text)}, files={"file": ("a.wav", a_wav())})
        assert r.status_code == 403 and "prompts.manage" in r.text


async def test_a_file_above_the_limit_is_refused_before_it_is_read(http_app: Any) -> None:
    async with ui_client(http_app, "admin@demo.test") as browser:
        r = await post_prompt(browser, "big", b"\0" * (11 * 1024 * 1024))
        assert r.status_code == 413


# --- campaigns from a CSV file -----------------------------------------------------------------------------------


def a_pl_number() -> str:
    """A random valid Warsaw number (read in the demo tenant's country, PL)."""
    return f"22{uuid.uuid4().int % 10_000_000:07d}"


async def queue_id(client: httpx.AsyncClient, login: Login, email: str, name: str) -> int:
    queues = (await client.get(f"{API}/queues", headers=await login(email))).json()
    return int(next(q["id"] for q in queues if q["name"] == name))


async def post_campaign(
    browser: httpx.AsyncClient, name: str, queue: int, csv_text: str | bytes, csrf: str | None = ""
) -> httpx.Response:
    if csrf == "":
        csrf = csrf_of((await browser.get("/admin/campaigns")).text)
    fields = {"name": name, "purpose": "service", "mode": "preview", "queue_id": str(queue)}
    if csrf is not None:
        fields["csrf"] = csrf
    data = csv_text.encode() if isinstance(csv_text, str) else csv_text
    return await browser.post("/admin/campaigns", data=fields, files={"file": ("contacts.csv", data, "text/csv")})


async def campaign_named(client: httpx.AsyncClient, login: Login, name: str, email: str = "admin@demo.test") -> Any:
    listed = (await client.get(f"{API}/campaigns", headers=await login(email))).json()
    return next((c for c in listed if c["name"] == name), None)


def row_errors(html: str) -> list[tuple[str, str, str]]:
    table = re.search(r'<table id="row-errors">(.*?)</table>', html, re.S)
    assert table, "no table of refused rows"
    return re.findall(r"<tr><td>(\d+)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", table.group(1))


async def test_a_campaign_is_created_from_a_csv_with_its_refused_rows_listed(
    http_app: Any, client: httpx.AsyncClient, login: Login
) -> None:
    name = f"UI campaign {uuid.uuid4().hex[:8]}"
    first, second = a_pl_number(), a_pl_number()
    lines = ["number;name;timezone;customer_number", f"{first};Anna;Europe/Warsaw;", f"{second};Jan;;",
             "not a number;Ola;;", f"{a_pl_number()};Piotr;Mars/Base;", f"{first};Anna again;;",
             f"{a_pl_number()};Ewa;;<b>x</b>"]  # fmt: skip
    async with ui_client(http_app, "admin@demo.test") as browser:
        r = await post_campaign(browser, name, await queue_id(client, login, "admin@demo.test", "Billing"),
                                "\n".join(lines) + "\n")  # fmt: skip
        assert r.status_code == 200, r.text
        assert "Contacts imported: 2; rows refused: 4." in r.text
        errors = row_errors(r.text)
        assert [(line, column) for line, column, _ in errors] == [
            ("4", "number"), ("5", "timezone"), ("6", "number"), ("7", "customer_number")
        ]  # fmt: skip
        assert "already in the campaign" in errors[2][2] and "&lt;b&gt;x&lt;/b&gt;" in errors[3][2]
        assert "<b>x</b>" not in r.text
        listed = await browser.get("/admin/campaigns")
        assert f">{name}</a></td>" in listed.text
    campaign = await campaign_named(client, login, name)
    assert campaign is not None and campaign["contacts"] == {"pending": 2} and campaign["status"] == "draft"


async def test_a_csv_refused_as_a_whole_leaves_no_campaign(
    http_app: Any, client: httpx.AsyncClient, login: Login
) -> None:
    name = f"UI campaign {uuid.uuid4().hex[:8]}"
    queue = await queue_id(client, login, "admin@demo.test", "Billing")
    async with ui_client(http_app, "admin@demo.test") as browser:
        r = await post_campaign(browser, name, queue, "phone,name\n221234567,Anna\n")
        assert r.status_code == 422 and "no &#39;number&#39; column" in problem_of(r.text, "file")
        r = await post_campaign(browser, name, queue, b"number\n\xff\xfe\n")
        assert r.status_code == 422 and "not UTF-8" in problem_of(r.text, "file")
        r = await post_campaign(browser, "", queue, "number\n")
        assert r.status_code == 422 and problem_of(r.text, "name")
        assert f">{name}</a></td>" not in (await browser.get("/admin/campaigns")).text
    assert await campaign_named(client, login, name) is None


async def test_a_campaign_without_the_form_token_is_refused(
    http_app: Any, client: httpx.AsyncClient, login: Login
) -> None:
    name = f"UI campaign {uuid.uuid4().hex[:8]}"
    queue = await queue_id(client, login, "admin@demo.test", "Billing")
    async with ui_client(http_app, "admin@demo.test") as browser:
        assert (await post_campaign(browser, name, queue, f"number\n{a_pl_number()}\n", csrf=None)).status_code == 403
        assert (await post_campaign(browser, name, queue, f"number\n{a_pl_number()}\n", csrf="x")).status_code == 403
    assert await campaign_named(client, login, name) is None


async def test_campaigns_stay_in_their_tenant(http_app: Any, client: httpx.AsyncClient, login: Login) -> None:
    name = f"UI campaign {uuid.uuid4().hex[:8]}"
    demo_queue = await queue_id(client, login, "admin@demo.test", "Billing")
    async with ui_client(http_app, "admin@demo.test") as browser:
        assert (await post_campaign(browser, name, demo_queue, f"number\n{a_pl_number()}\n")).status_code == 200
    async with ui_client(http_app, "admin@acme.test") as browser:
        assert f">{name}</a></td>" not in (await browser.get("/admin/campaigns")).text
        stolen = f"{name} acme"
        r = await post_campaign(browser, stolen, demo_queue, "number\n2079460000\n")
        assert r.status_code == 422 and "does not exist" in problem_of(r.text, "queue_id")
    assert await campaign_named(client, login, f"{name} acme", "admin@acme.test") is None
    async with ui_client(http_app, "agent1@demo.test") as browser:
        page = await browser.get("/admin/campaigns")
        assert page.status_code == 200 and f">{name}</a></td>" in page.text and 'type="file"' not in page.text
        r = await post_campaign(browser, f"{name} agent", demo_queue, f"number\n{a_pl_number()}\n",
                                csrf=csrf_of(page.text))  # fmt: skip
        assert r.status_code == 403 and "campaigns.manage" in r.text
