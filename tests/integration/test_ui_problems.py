"""Problems on the console's Polish pages are in Polish, at their field: a schema's errors (an empty name, a value
out of range, a choice not offered) and the actions' refusals (a password too short, a taken e-mail, queue name or
phone number), while the REST API says the same refusals in English. On a tenant of its own, so the demo tenants'
people, queues and numbers stay as other tests expect them."""

from __future__ import annotations

import random
import uuid
from typing import Any

import httpx

from tests.conftest import Login
from tests.ui_helpers import csrf_of, own_tenant, problem_of, ui_client

API = "/api/v1"
PASSWORD = "the admin's long password"


async def an_admin(center: Any, client: httpx.AsyncClient, login: Login) -> tuple[str, dict[str, str]]:
    """A tenant admin of a new tenant (password ``PASSWORD``) and a platform admin's headers on that tenant."""
    _, headers = await own_tenant(center, client, login)
    email = f"admin-{uuid.uuid4().hex[:8]}@problems.test"
    body = {"email": email, "display_name": "Admin", "role": "tenant_admin", "password": PASSWORD}
    assert (await client.post(f"{API}/users", json=body, headers=headers)).status_code == 201
    return email, headers


async def test_the_users_page_names_problems_in_polish_and_the_api_in_english(
    http_app: Any, center: Any, client: httpx.AsyncClient, login: Login
) -> None:
    email, headers = await an_admin(center, client, login)
    async with ui_client(http_app, email, language="pl", password=PASSWORD) as browser:
        token = csrf_of((await browser.get("/admin/users")).text)
        fresh = f"new-{uuid.uuid4().hex[:8]}@problems.test"
        person = {"csrf": token, "email": fresh, "display_name": "Nowa osoba", "role": "agent", "language": "pl"}
        r = await browser.post("/admin/users", data={**person, "password": "short"})
        assert r.status_code == 422
        assert problem_of(r.text, "password") == "Za krótkie: najmniejsza liczba znaków to 8."
        r = await browser.post("/admin/users", data={**person, "email": email, "password": "a long new password"})
        assert r.status_code == 409
        assert problem_of(r.text, "email") == "Użytkownik z tym adresem e-mail już istnieje."
        r = await browser.post("/admin/users", data={**person, "display_name": " ", "role": "overlord",
                                                     "password": "a long new password"})  # fmt: skip
        assert r.status_code == 422
        assert problem_of(r.text, "display_name") == "To pole nie może być puste."
        assert problem_of(r.text, "role").startswith("Wybierz jedną z: ")
        assert "String should" not in r.text and "Input should" not in r.text
    # the REST API keeps its English messages
    del person["csrf"]
    r = await client.post(f"{API}/users", json={**person, "password": "short"}, headers=headers)
    assert r.status_code == 422 and r.json()["error"]["message"] == "password: use at least 8 characters"
    r = await client.post(f"{API}/users", json={**person, "email": email, "password": "a long new password"},
                          headers=headers)  # fmt: skip
    assert r.status_code == 409 and r.json()["error"]["message"] == f"a user with e-mail {email!r} exists"


async def test_the_queue_page_names_problems_in_polish(
    http_app: Any, center: Any, client: httpx.AsyncClient, login: Login
) -> None:
    email, _ = await an_admin(center, client, login)
    async with ui_client(http_app, email, language="pl", password=PASSWORD) as browser:
        token = csrf_of((await browser.get("/admin/queues")).text)
        bad = {"csrf": token, "name": "", "strategy": "fastest_finger", "sl_target": "2", "sl_seconds": "soon"}
        r = await browser.post("/admin/queues", data=bad)
        assert r.status_code == 422
        assert problem_of(r.text, "name") == "To pole nie może być puste."
        assert problem_of(r.text, "strategy").startswith("Wybierz jedną z: ")
        assert problem_of(r.text, "sl_target") == "Podaj wartość nie większą niż 1.0."
        assert problem_of(r.text, "sl_seconds") == "Podaj liczbę."
        good = {"csrf": token, "name": f"Reklamacje {uuid.uuid4().hex[:6]}", "strategy": "longest_idle"}
        assert (await browser.post("/admin/queues", data=good)).status_code == 303
        r = await browser.post("/admin/queues", data=good)
        assert r.status_code == 409 and problem_of(r.text, "name") == "Ta nazwa jest zajęta."
        # in English, the same page says it in English
        browser.cookies.set("infolinia_lang", "en", domain="infolinia.test")
        r = await browser.post("/admin/queues", data=bad)
        assert problem_of(r.text, "name") == "This field cannot be empty."
        assert problem_of(r.text, "sl_target") == "Enter a value of at most 1.0."


async def test_the_numbers_page_names_a_taken_or_invalid_number_in_polish(
    http_app: Any, center: Any, client: httpx.AsyncClient, login: Login
) -> None:
    email, _ = await an_admin(center, client, login)
    number = f"+4822{random.randrange(10**6, 10**7)}"
    async with ui_client(http_app, email, language="pl", password=PASSWORD) as browser:
        token = csrf_of((await browser.get("/admin/numbers")).text)
        entry = {"csrf": token, "number": number, "label": "Infolinia", "flow_id": ""}
        assert (await browser.post("/admin/numbers", data=entry)).status_code == 303
        r = await browser.post("/admin/numbers", data=entry)
        assert r.status_code == 409
        assert problem_of(r.text, "number") == "Ten numer jest zajęty (numer należy do jednego najemcy)."
        r = await browser.post("/admin/numbers", data={**entry, "number": "+48 12"})
        assert r.status_code == 422 and problem_of(r.text, "number") == "To nie jest poprawny numer telefonu."
