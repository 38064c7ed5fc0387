"""A WebSocket client of ``/api/v1/events`` for the tests: reads every message in the background, checks each event
against its schema, and waits for conditions by polling."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from infolinia import event_types

Message = dict[str, Any]


def ws_url(base_url: str) -> str:
    return base_url.replace("http://", "ws://", 1) + "/api/v1/events"


class Feed:
    def __init__(self, conn: ClientConnection) -> None:
        self.conn = conn
        self.messages: list[Message] = []
        self.close_code: int | None = None
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(
        cls,
        base_url: str,
        *,
        token: str | None = None,
        tenant: str | None = None,
        headers: dict[str, str] | None = None,
        origin: str | None = None,
    ) -> Feed:
        """Connect; with ``token``, authenticate by the first message (as a browser does), else by ``headers``."""
        conn = await connect(ws_url(base_url), additional_headers=headers, origin=origin)  # type: ignore[arg-type]
        if token is not None:
            await conn.send(json.dumps({"type": "auth", "token": token, "tenant": tenant}))
        return cls(conn)

    async def _read(self) -> None:
        try:
            async for raw in self.conn:
                message = json.loads(raw)
                if "." in message["type"]:  # an event (control messages have no dot: ready, keepalive, overflow)
                    event_types.parse(message["type"], message["data"])
                self.messages.append(message)
        except ConnectionClosed:
            pass
        self.close_code = self.conn.close_code

    @property
    def events(self) -> list[Message]:
        return [m for m in self.messages if "." in m["type"]]

    async def wait_for(self, check: Callable[[Message], bool], what: str, within_s: float = 10) -> Message:
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            for message in self.messages:
                if check(message):
                    return message
            if self._reader.done():
                break
            await asyncio.sleep(0.02)
        raise AssertionError(f"no {what}; got {[m['type'] for m in self.messages]} (closed: {self.close_code})")

    async def ready(self) -> Message:
        return await self.wait_for(lambda m: m["type"] == "ready", "ready message")

    async def closed(self, within_s: float = 15) -> int | None:
        """Wait for the server to close the socket; the close code."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._reader), within_s)
        assert self._reader.done(), f"still open after {within_s} s; got {[m['type'] for m in self.messages]}"
        return self.close_code

    async def close(self) -> None:
        await self.conn.close()
        await self._reader
