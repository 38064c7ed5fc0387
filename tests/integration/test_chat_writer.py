"""The chat's writer on the real database (SQLite or PostgreSQL): lines that arrive together are committed together
(fewer commits than lines), each sender's future is settled only after its commit, and a line the database refuses
fails alone, never its batch."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from sqlalchemy import func, select

from infolinia.channels.chat.writer import Line, Writer
from infolinia.store import db as store
from infolinia.store.db import Database
from infolinia.store.models import ChatMessage, ChatSession, Tenant
from infolinia.store.types import utcnow


async def test_group_commit(fresh_db_url: Callable[[], Awaitable[str]]) -> None:
    url = await fresh_db_url()
    await asyncio.to_thread(store.upgrade, url)
    db = Database(url)
    try:
        async with db.session() as s:
            tenant = Tenant(slug="writer", name="Writer", timezone="UTC", country="PL")
            s.add(tenant)
            await s.flush()
            chat = ChatSession(tenant_id=tenant.id, token_hash="0" * 64, status="active", name="x", topic="question")
            s.add(chat)
            await s.commit()
        writer = Writer(db)
        runner = asyncio.create_task(writer.run())

        def line(seq: int, sender: str = "customer") -> Line:
            return Line(tenant_id=tenant.id, chat_id=chat.id, sender=sender, seq=seq, client_id=f"c{seq}",
                        body=f"line {seq}", author_id=None, file_id=None, created_at=utcnow())  # fmt: skip

        futures = [writer.submit(line(n)) for n in range(1, 501)]
        await asyncio.gather(*futures)
        assert writer.lines == 500 and writer.commits < 50
        # a line that breaks a constraint (its sequence number taken) fails alone; the others of its batch commit
        batch = [line(501), line(5), line(502)]
        results = await asyncio.gather(*(writer.submit(x) for x in batch), return_exceptions=True)
        assert results[0] is None and results[2] is None and isinstance(results[1], RuntimeError)
        async with db.session() as s:
            stored = await s.scalar(select(func.count()).where(ChatMessage.chat_id == chat.id))
            top = await s.scalar(select(func.max(ChatMessage.seq)).where(ChatMessage.chat_id == chat.id))
        assert (stored, top) == (502, 502)
        runner.cancel()
        await writer.flush()  # and its engine let go
    finally:
        await db.dispose()
