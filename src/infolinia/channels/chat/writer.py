"""The one writer of chat lines: every line that arrives is queued, and one loop commits all the lines queued since
its last commit in a single transaction (group commit), then resolves each sender's future. A line is acknowledged
and delivered only after its commit, so an acknowledged line is never lost; while one transaction commits, the next
batch gathers, so the rate of commits, not of lines, is what the database sees."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert

from infolinia.store.db import Database, create_engine
from infolinia.store.models import ChatMessage

log = logging.getLogger(__name__)
#: at most this many lines in one transaction
MAX_BATCH = 2000


@dataclass
class Line:
    """A chat line to store (``seq`` given by the hub, which numbers each sender's lines)."""

    tenant_id: int
    chat_id: int
    sender: str
    seq: int
    client_id: str | None
    body: str
    author_id: int | None
    file_id: int | None
    created_at: datetime
    done: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())

    def row(self) -> dict[str, Any]:
        return {"tenant_id": self.tenant_id, "chat_id": self.chat_id, "sender": self.sender, "seq": self.seq,
                "client_id": self.client_id, "body": self.body, "author_id": self.author_id,
                "file_id": self.file_id, "created_at": self.created_at}  # fmt: skip


class Writer:
    def __init__(self, db: Database) -> None:
        #: an engine of its own: the lines never wait for a connection behind the HTTP handlers' queries
        self.engine = create_engine(db.url)
        self._pending: list[Line] = []
        self._wake = asyncio.Event()
        self.commits = 0
        self.lines = 0

    def submit(self, line: Line) -> asyncio.Future[None]:
        """Queue ``line``; the future is done when it is committed (or holds the error that refused it)."""
        self._pending.append(line)
        self._wake.set()
        return line.done

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                await self._commit(batch)

    async def flush(self) -> None:
        """Commit what is queued now, then let the engine go (on stop)."""
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            await self._commit(batch)
        await self.engine.dispose()

    async def _commit(self, batch: list[Line]) -> None:
        try:
            await self._insert([line.row() for line in batch])
        except Exception:
            if len(batch) == 1:
                log.exception("a chat line could not be stored")
                _settle(batch[0], RuntimeError("the line could not be stored"))
                return
            for line in batch:  # one bad line must not refuse the others: each on its own
                await self._commit([line])
            return
        self.commits += 1
        self.lines += len(batch)
        for line in batch:
            _settle(line, None)

    async def _insert(self, rows: list[dict[str, Any]]) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(insert(ChatMessage), rows)


def _settle(line: Line, error: Exception | None) -> None:
    if line.done.done():
        return
    if error is None:
        line.done.set_result(None)
    else:
        line.done.set_exception(error)
