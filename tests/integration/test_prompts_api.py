"""The prompts API: list, upload (raw WAV body with its own size limit), listen, replace, delete; refusals with
their codes; roles; and tenant isolation (names are looked up in the caller's tenant only)."""

from __future__ import annotations

import io
import wave
from collections.abc import Callable, Iterator

import httpx
import numpy as np
import pytest

from infolinia.app import Infolinia
from infolinia.voice.ivr.demo import DEMO_PROMPTS
from infolinia.voice.prompts.upload import MAX_BYTES
from tests.conftest import Login

P = "/api/v1/prompts"


def wav(seconds: float = 1.5, rate: int = 16000, channels: int = 2, hz: float = 440.0) -> bytes:
    t = np.arange(int(rate * seconds)) / rate
    frames = np.repeat((0.4 * np.sin(2 * np.pi * hz * t))[:, None], channels, axis=1).reshape(-1)
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.round(frames * 32767).astype("<i2").tobytes())
    return out.getvalue()


def heard(response: httpx.Response) -> tuple[float, float]:
    """(seconds, dominant frequency) of a WAV answer, which must be 8 kHz mono 16-bit."""
    with wave.open(io.BytesIO(response.content), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 8000)
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)
    spectrum = np.abs(np.fft.rfft(samples))
    return len(samples) / 8000, float(np.argmax(spectrum) * 8000 / len(samples))


async def put(
    client: httpx.AsyncClient,
    name: str,
    body: bytes,
    headers: dict[str, str],
    language: str | None = "pl",
    content_type: str = "audio/wav",
) -> httpx.Response:
    params = {"language": language} if language else {}
    return await client.put(
        f"{P}/{name}", params=params, content=body, headers={**headers, "Content-Type": content_type}
    )


def by_source(items: list[dict[str, object]], source: str) -> dict[str, dict[str, dict[str, object]]]:
    """name -> language -> version, for the items of one source."""
    found: dict[str, dict[str, dict[str, object]]] = {}
    for item in items:
        if item["source"] == source:
            versions = item["languages"]
            assert isinstance(versions, list)
            found[str(item["name"])] = {str(v["language"]): v for v in versions}
    return found


async def test_list_shows_the_tenants_own_and_the_system_prompts(client: httpx.AsyncClient, login: Login) -> None:
    r = await client.get(P, headers=await login("agent1@demo.test"))
    assert r.status_code == 200
    own, system = by_source(r.json(), "tenant"), by_source(r.json(), "system")
    assert set(own) >= DEMO_PROMPTS
    for name in DEMO_PROMPTS:
        assert set(own[name]) == {"pl", "en"}
        for version in own[name].values():
            assert isinstance(version["duration_ms"], int) and 500 < version["duration_ms"] < 30_000
            assert isinstance(version["sha256"], str) and len(version["sha256"]) == 64
    assert system["queue_position"]["pl"]["text"] == "Twój numer w kolejce to"
    assert system["queue_position"]["en"]["text"] == "Your position in the queue is"
    assert 20_000 <= system["music_on_hold"]["pl"]["duration_ms"] <= 40_000  # type: ignore[operator]
    assert system["music_on_hold"]["pl"]["text"] is None


@pytest.fixture
def events(center: Infolinia) -> Iterator[Callable[[], list[dict[str, object]]]]:
    """``events()``: the prompt events published since the test began, type and data."""
    with center.bus.subscribe(wanted=lambda e: e.type.startswith("prompt.")) as sub:

        def published() -> list[dict[str, object]]:
            seen = []
            while not sub.queue.empty():
                event = sub.queue.get_nowait()
                seen.append({"type": event.type, **event.data})
            return seen

        yield published


async def test_upload_listen_replace_delete(
    client: httpx.AsyncClient, login: Login, events: Callable[[], list[dict[str, object]]]
) -> None:
    admin = await login("admin@demo.test")
    r = await put(client, "test_promo", wav(1.5, 16000, 2, 440), admin)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["name"] == "test_promo" and created["language"] == "pl"
    assert abs(created["duration_ms"] - 1500) <= 1

    r = await client.get(f"{P}/test_promo/audio", params={"language": "pl"}, headers=admin)
    assert r.status_code == 200 and r.headers["content-type"] == "audio/wav"
    assert (r.headers["x-prompt-source"], r.headers["content-language"]) == ("tenant", "pl")
    seconds, hz = heard(r)
    assert abs(seconds - 1.5) < 0.01 and abs(hz - 440) < 2

    r = await put(client, "test_promo", wav(2.0, 44100, 1, 880), admin)  # replace: the cache must not keep 440 Hz
    assert r.status_code == 200, r.text
    assert r.json()["sha256"] != created["sha256"] and r.json()["created_at"] == created["created_at"]
    seconds, hz = heard(await client.get(f"{P}/test_promo/audio", params={"language": "pl"}, headers=admin))
    assert abs(seconds - 2.0) < 0.01 and abs(hz - 880) < 2
    own = by_source((await client.get(P, headers=admin)).json(), "tenant")
    assert own["test_promo"]["pl"]["sha256"] == r.json()["sha256"]

    r = await client.delete(f"{P}/test_promo", params={"language": "pl"}, headers=admin)
    assert r.status_code == 204
    r = await client.get(f"{P}/test_promo/audio", params={"language": "pl"}, headers=admin)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = await client.delete(f"{P}/test_promo", params={"language": "pl"}, headers=admin)
    assert r.status_code == 404 and "no prompt 'test_promo' in 'pl'" in r.json()["error"]["message"]

    published = events()
    assert [(e["type"], e["name"], e["language"]) for e in published] == [
        ("prompt.created", "test_promo", "pl"),
        ("prompt.updated", "test_promo", "pl"),
        ("prompt.deleted", "test_promo", "pl"),
    ]
    assert len({e["id"] for e in published}) == 1
    where = {"object_type": "prompt", "object_id": published[0]["id"]}
    r = await client.get("/api/v1/audit", params=where, headers=admin)
    audited = [(a["action"], a["actor_label"]) for a in reversed(r.json()["items"])]
    assert audited == [(action, "admin@demo.test") for action in ("prompt.created", "prompt.updated", "prompt.deleted")]


async def test_replacing_a_system_prompt_and_deleting_the_replacement(client: httpx.AsyncClient, login: Login) -> None:
    sup = await login("supervisor@demo.test")
    r = await client.get(f"{P}/technical_problem/audio", params={"language": "en"}, headers=sup)
    assert r.status_code == 200 and r.headers["x-prompt-source"] == "system"
    system_audio = r.content
    assert (await put(client, "technical_problem", wav(1.0), sup, language="en")).status_code == 201
    r = await client.get(f"{P}/technical_problem/audio", params={"language": "en"}, headers=sup)
    assert r.headers["x-prompt-source"] == "tenant"
    assert (await client.delete(f"{P}/technical_problem", params={"language": "en"}, headers=sup)).status_code == 204
    r = await client.get(f"{P}/technical_problem/audio", params={"language": "en"}, headers=sup)
    assert r.headers["x-prompt-source"] == "system" and r.content == system_audio
    r = await client.delete(f"{P}/technical_problem", params={"language": "en"}, headers=sup)
    assert r.status_code == 404 and "system prompts cannot be deleted" in r.json()["error"]["message"]


async def test_listening_follows_the_callers_language(client: httpx.AsyncClient, login: Login) -> None:
    demo = await login("agent2@demo.test")
    r = await client.get(f"{P}/queue_position/audio", headers=demo)  # no language: the tenant's first (pl)
    assert (r.headers["x-prompt-source"], r.headers["content-language"]) == ("system", "pl")
    r = await client.get(f"{P}/queue_position/audio", params={"language": "de"}, headers=demo)
    assert r.headers["content-language"] == "en"  # no German system prompts: English
    r = await client.get(f"{P}/queue_position/audio", headers=await login("agent1@acme.test"))
    assert r.headers["content-language"] == "en"  # acme speaks English
    r = await client.get(f"{P}/greeting/audio", params={"language": "en"}, headers=demo)
    assert (r.headers["x-prompt-source"], r.headers["content-language"]) == ("tenant", "en")
    assert 1.0 < heard(r)[0] < 10.0


@pytest.mark.parametrize(
    ("name", "body", "params", "content_type", "status", "code", "message"),
    [
        ("x", wav(), {"language": "pl"}, "application/json", 415, "unsupported_media_type", "audio/wav"),
        ("x", wav(), {"language": "pl"}, "audio/mpeg", 415, "unsupported_media_type", "'audio/mpeg'"),
        ("x", b"ID3\x04" + bytes(500), {"language": "pl"}, "audio/wav", 422, "invalid_audio", "start with 'RIFF'"),
        ("x", wav()[:-1000], {"language": "pl"}, "audio/x-wav", 422, "invalid_audio", "the file is truncated"),
        ("x", wav(0.1), {"language": "pl"}, "audio/wav", 422, "invalid_audio", "too short"),
        ("x", b"", {"language": "pl"}, "audio/wav", 422, "invalid_audio", "too short for a RIFF header"),
        ("x", wav(), {}, "audio/wav", 422, "validation_error", "language"),
        ("x", wav(), {"language": "POL"}, "audio/wav", 422, "validation_error", "language"),
        ("bad name", wav(), {"language": "pl"}, "audio/wav", 422, "invalid_prompt_name", "'bad name'"),
        ("a" * 65, wav(), {"language": "pl"}, "audio/wav", 422, "invalid_prompt_name", "1-64 letters"),
    ],
)
async def test_bad_uploads_are_refused_with_their_reason(
    client: httpx.AsyncClient,
    login: Login,
    name: str,
    body: bytes,
    params: dict[str, str],
    content_type: str,
    status: int,
    code: str,
    message: str,
) -> None:
    admin = await login("admin@demo.test")
    r = await client.put(f"{P}/{name}", params=params, content=body, headers={**admin, "Content-Type": content_type})
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code and message in r.json()["error"]["message"], r.text
    assert name not in by_source((await client.get(P, headers=admin)).json(), "tenant")


async def test_uploads_have_their_own_body_limit(client: httpx.AsyncClient, login: Login) -> None:
    admin = await login("admin@demo.test")
    big = wav(15.0, 48000, 1)  # 1.4 MB: above the 1 MiB every other route takes
    assert 1_048_576 < len(big) < MAX_BYTES
    r = await put(client, "test_big", big, admin)
    assert r.status_code == 201, r.text
    assert (await client.delete(f"{P}/test_big", params={"language": "pl"}, headers=admin)).status_code == 204
    r = await client.post("/api/v1/customers", content=b"{" + b" " * 1_100_000 + b"}", headers=admin)
    assert r.status_code == 413  # the rest of the API keeps the global limit

    too_big = big + bytes(MAX_BYTES)
    r = await put(client, "test_big", too_big, admin)
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"
    assert str(MAX_BYTES) in r.json()["error"]["message"]

    async def chunked() -> object:  # no Content-Length: the limit counts what arrives
        for _ in range(11):
            yield bytes(1024 * 1024)

    r = await client.put(
        f"{P}/test_big", params={"language": "pl"}, content=chunked(), headers={**admin, "Content-Type": "audio/wav"}
    )
    assert r.status_code == 413


async def test_roles(client: httpx.AsyncClient, login: Login) -> None:
    agent, sup = await login("agent3@demo.test"), await login("supervisor@demo.test")
    r = await put(client, "test_roles", wav(), agent)
    assert r.status_code == 403 and r.json()["error"]["details"] == {"permission": "prompts.manage"}
    assert (await put(client, "test_roles", wav(), sup)).status_code == 201
    assert (await client.get(f"{P}/test_roles/audio", headers=agent)).status_code == 200
    r = await client.delete(f"{P}/test_roles", params={"language": "pl"}, headers=agent)
    assert r.status_code == 403
    assert (await client.delete(f"{P}/test_roles", params={"language": "pl"}, headers=sup)).status_code == 204
    back_office = await login("backoffice@demo.test")
    assert (await client.get(P, headers=back_office)).status_code == 403
    assert (await client.get(f"{P}/greeting/audio", headers=back_office)).status_code == 403


async def test_another_tenant_can_neither_hear_nor_delete_demos_prompts(
    client: httpx.AsyncClient, login: Login
) -> None:
    demo, acme = await login("admin@demo.test"), await login("admin@acme.test")
    demo_greeting = by_source((await client.get(P, headers=demo)).json(), "tenant")["greeting"]

    listed = by_source((await client.get(P, headers=acme)).json(), "tenant")
    assert not set(listed) & DEMO_PROMPTS
    r = await client.get(f"{P}/payment_deadlines/audio", headers=acme)
    assert r.status_code == 404
    r = await client.delete(f"{P}/payment_deadlines", params={"language": "pl"}, headers=acme)
    assert r.status_code == 404

    # acme records a "greeting" of its own: a different prompt, demo's stays as it was
    assert (await put(client, "greeting", wav(1.0, hz=660), acme, language="en")).status_code == 201
    r = await client.get(f"{P}/greeting/audio", headers=acme)
    assert r.headers["x-prompt-source"] == "tenant" and abs(heard(r)[1] - 660) < 2
    assert (await client.delete(f"{P}/greeting", params={"language": "en"}, headers=acme)).status_code == 204
    assert by_source((await client.get(P, headers=demo)).json(), "tenant")["greeting"] == demo_greeting
    r = await client.get(f"{P}/payment_deadlines/audio", params={"language": "pl"}, headers=demo)
    assert r.status_code == 200 and r.headers["x-prompt-source"] == "tenant"


async def test_platform_admins_name_the_tenant(client: httpx.AsyncClient, login: Login, center: Infolinia) -> None:
    from infolinia.auth.actions import create_user
    from infolinia.schemas import UserIn
    from infolinia.store.models import Role
    from infolinia.store.uow import SYSTEM, write

    async with write(center.db, None, SYSTEM) as tx:
        user = UserIn(email="prompts-root@platform.test", display_name="R", role=Role.PLATFORM_ADMIN, password="demo")
        await create_user(tx, None, user, min_password_length=0)
    root = await login("prompts-root@platform.test")
    for r in (await client.get(P, headers=root), await put(client, "x", wav(), root)):
        assert r.status_code == 422 and r.json()["error"]["code"] == "tenant_required"
    r = await client.get(f"{P}/greeting/audio", headers={**root, "X-Tenant": "demo"})
    assert r.status_code == 200 and r.headers["x-prompt-source"] == "tenant"
