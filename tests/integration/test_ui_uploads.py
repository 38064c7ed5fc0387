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
