"""The agent desk over HTTP (in process): the page and its parts, presence, a callback on the customer's clock, a
case, the disposition, the knowledge base, and what another tenant or role may not do."""

from __future__ import annotations

from typing import Any

from tests.ui_helpers import csrf_of, ui_client


async def test_the_desk_shows_an_agent_their_status(http_app: Any) -> None:
    async with ui_client(http_app, "agent2@demo.test") as browser:
        r = await browser.get("/desk")
        assert r.status_code == 200, r.text
        assert "Agent desk" in r.text and 'id="go-ready"' in r.text
        assert csrf_of(r.text)
