"""A customer's web chats under data rights: what is exported (each chat with its lines and files described) and
what erasure removes (the name, e-mail, phone and page the visitor gave, every line's text, the files and their
rows). The chat rows stay, with their status, times and the number of lines, so reports still count them."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from infolinia.store.models import ChatFile, ChatMessage, ChatSession, Customer

log = logging.getLogger(__name__)

ERASED = "(erased)"


async def _their_chats(session: AsyncSession, customer: Customer) -> list[ChatSession]:
    query = select(ChatSession).where(
        ChatSession.tenant_id == customer.tenant_id, ChatSession.customer_id == customer.id
    )
    return list(await session.scalars(query.order_by(ChatSession.id)))


async def export_chats(session: AsyncSession, customer: Customer) -> list[dict[str, Any]]:
    chats = await _their_chats(session, customer)
    ids = [c.id for c in chats]
    lines: dict[int, list[dict[str, Any]]] = {}
    files: dict[int, list[dict[str, Any]]] = {}
    if ids:
        for m in await session.scalars(
            select(ChatMessage).where(ChatMessage.chat_id.in_(ids)).order_by(ChatMessage.id)
        ):
            lines.setdefault(m.chat_id, []).append({"from": m.sender, "text": m.body, "at": m.created_at.isoformat()})
        for f in await session.scalars(select(ChatFile).where(ChatFile.chat_id.in_(ids)).order_by(ChatFile.id)):
            files.setdefault(f.chat_id, []).append({"from": f.sender, "filename": f.filename, "size": f.size,
                                                    "content_type": f.content_type, "sha256": f.sha256})  # fmt: skip
    return [
        {"status": c.status, "name": c.name, "email": c.email, "phone": c.phone, "topic": c.topic,
         "page": c.origin, "lines": lines.get(c.id, []), "files": files.get(c.id, [])}
        for c in chats
    ]  # fmt: skip


async def erase_chats(session: AsyncSession, customer: Customer, data_dir: str | Path | None) -> None:
    chats = await _their_chats(session, customer)
    ids = [c.id for c in chats]
    if not ids:
        return
    if data_dir is not None:
        for path in await session.scalars(select(ChatFile.path).where(ChatFile.chat_id.in_(ids))):
            try:
                (Path(data_dir) / path).unlink(missing_ok=True)
            except OSError:
                log.warning("could not remove an erased customer's chat file %s", path)
    await session.execute(
        update(ChatMessage).where(ChatMessage.chat_id.in_(ids)).values(body="", client_id=None, file_id=None)
    )
    await session.execute(delete(ChatFile).where(ChatFile.chat_id.in_(ids)))
    for chat in chats:
        chat.name, chat.email, chat.phone, chat.origin = ERASED, None, None, None
