"""The chats as the process holds them: per chat its sequence numbers, the client ids it stored, the sockets of
its customer and of its agent; lines go to the writer and, once committed, to every socket of both sides (routing in
memory, no database read per line). A socket's frames go out through its own bounded queue: a client that falls
behind is closed (it resumes from its last sequence number and loses nothing)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

from fastapi import WebSocket
from sqlalchemy import func, select

from infolinia.channels.chat.protocol import dumps
from infolinia.channels.chat.settings import ChatSettings
from infolinia.channels.chat.writer import Line, Writer
from infolinia.store.db import Database
from infolinia.store.models import ChatFile, ChatMessage, ChatSession, Tenant
from infolinia.store.types import utcnow

log = logging.getLogger(__name__)
OVERFLOW = 1013
SEND_QUEUE = 2000


class Conn:
    """One socket's sending side."""

    def __init__(self, websocket: WebSocket, side: str, user_id: int | None = None) -> None:
        self.websocket, self.side, self.user_id = websocket, side, user_id
        self.queue: asyncio.Queue[str | None] = asyncio.Queue(SEND_QUEUE)
        self.closed = False
        self.closing: asyncio.Task[None] | None = None
        #: lines of this socket being stored (the agent's socket does not wait for one before reading the next)
        self.tasks: set[asyncio.Task[None]] = set()
        self.pump = asyncio.create_task(self._pump(), name=f"chat-{side}-send")

    def send(self, frame: dict[str, Any]) -> None:
        self.send_text(dumps(frame))

    def send_text(self, text: str) -> None:
        if self.closed:
            return
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            self.closed = True
            with contextlib.suppress(asyncio.QueueFull):
                self.queue.put_nowait(None)
            self.closing = asyncio.create_task(self._overflow())

    async def _overflow(self) -> None:
        with contextlib.suppress(Exception):
            await self.websocket.close(OVERFLOW, "too far behind: reconnect and resume")

    async def _pump(self) -> None:
        try:
            while (text := await self.queue.get()) is not None:
                await self.websocket.send_text(text)
        except Exception:  # the socket went away: its receiving side notices and unregisters
            self.closed = True

    async def close(self) -> None:
        """Stop sending; lines still being stored finish first (what the writer took is committed anyway)."""
        if self.tasks:
            await asyncio.wait(set(self.tasks), timeout=10)
        self.closed = True
        self.pump.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self.pump


@dataclass
class Live:
    """A chat in memory (loaded on first use)."""

    id: int
    tenant_id: int
    status: str
    agent_id: int | None
    task_id: int | None
    interaction_id: int | None
    queue_id: int | None
    seq: dict[str, int]
    client_ids: dict[tuple[str, str], int]
    pending: dict[tuple[str, str], asyncio.Future[None]] = field(default_factory=dict)
    customers: set[Conn] = field(default_factory=set)
    last_activity: float = 0.0
    idle_timeout_s: float = 900.0
    told: tuple[int | None, int | None] = (None, None)  # the queue position and wait last told the customer


class Hub:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.writer = Writer(db)
        self.chats: dict[int, Live] = {}
        self.agents: dict[int, set[Conn]] = {}  # agent -> their sockets
        self._loading: dict[int, asyncio.Future[Live | None]] = {}
        self.delivered = 0

    async def live(self, chat_id: int) -> Live | None:
        """The chat in memory, loaded from its rows the first time (None: no such chat)."""
        found = self.chats.get(chat_id)
        if found is not None:
            return found
        loading = self._loading.get(chat_id)
        if loading is not None:
            return await asyncio.shield(loading)
        future: asyncio.Future[Live | None] = asyncio.get_running_loop().create_future()
        self._loading[chat_id] = future
        try:
            loaded = await self._load(chat_id)
            if loaded is not None:
                self.chats[chat_id] = loaded
            future.set_result(loaded)
            return loaded
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: nobody else may be waiting
            raise
        finally:
            del self._loading[chat_id]

    async def _load(self, chat_id: int) -> Live | None:
        async with self.db.session() as s:
            row = await s.get(ChatSession, chat_id)
            if row is None:
                return None
            tenant = await s.get(Tenant, row.tenant_id)
            assert tenant is not None
            idle = ChatSettings.of(tenant.chat_settings).idle_timeout_s
            seq = dict.fromkeys(("customer", "agent"), 0)
            for sender, top in await s.execute(
                select(ChatMessage.sender, func.max(ChatMessage.seq)).where(ChatMessage.chat_id == chat_id)
                .group_by(ChatMessage.sender)
            ):  # fmt: skip
                seq[sender] = int(top)
            ids = await s.execute(
                select(ChatMessage.sender, ChatMessage.client_id, ChatMessage.seq).where(
                    ChatMessage.chat_id == chat_id, ChatMessage.client_id.is_not(None)
                )
            )
            client_ids = {(sender, str(cid)): int(n) for sender, cid, n in ids}
        return Live(
            id=row.id, tenant_id=row.tenant_id, status=row.status, agent_id=row.agent_id, task_id=row.routing_task_id,
            interaction_id=row.interaction_id, queue_id=row.queue_id, seq=seq, client_ids=client_ids,
            last_activity=asyncio.get_running_loop().time(), idle_timeout_s=idle,
        )  # fmt: skip

    def forget(self, chat_id: int) -> None:
        self.chats.pop(chat_id, None)

    # --- lines ---------------------------------------------------------------------------------------------------

    async def post(
        self, live: Live, sender: str, text: str, client_id: str | None, *, author_id: int | None = None,
        file: ChatFile | None = None, origin: Conn | None = None,
    ) -> tuple[int, bool]:  # fmt: skip
        """Store a line and deliver it to both sides once committed (but ``origin``, the socket it came from, which
        is acknowledged by its caller): its sequence number, and whether it was a line sent again (stored before:
        nothing new is stored or delivered)."""
        key = (sender, client_id) if client_id is not None else None
        if key is not None:
            if key in live.client_ids:
                return live.client_ids[key], True
            waiting = live.pending.get(key)
            if waiting is not None:  # sent again before the first try committed: its outcome answers both
                with contextlib.suppress(Exception):
                    await asyncio.shield(waiting)
                if key in live.client_ids:
                    return live.client_ids[key], True
        live.seq[sender] += 1
        seq = live.seq[sender]
        line = Line(
            tenant_id=live.tenant_id, chat_id=live.id, sender=sender, seq=seq, client_id=client_id, body=text,
            author_id=author_id, file_id=file.id if file is not None else None, created_at=utcnow(),
        )  # fmt: skip
        done = self.writer.submit(line)
        if key is not None:
            live.pending[key] = done
        live.last_activity = asyncio.get_running_loop().time()
        try:
            await asyncio.shield(done)
        finally:
            if key is not None:
                live.pending.pop(key, None)
        if key is not None:
            live.client_ids[key] = seq
        self.broadcast(live, message_frame(live.id, line, file), skip=origin)
        return seq, False

    def broadcast(
        self, live: Live, frame: dict[str, Any], *, customers: bool = True, agents: bool = True,
        skip: Conn | None = None,
    ) -> None:  # fmt: skip
        text = dumps(frame)
        if customers:
            for conn in live.customers:
                if conn is not skip:
                    conn.send_text(text)
        if agents and live.agent_id is not None:
            for conn in self.agents.get(live.agent_id, ()):
                if conn is not skip:
                    conn.send_text(text)
        self.delivered += 1

    def to_agent(self, agent_id: int, frame: dict[str, Any]) -> None:
        for conn in self.agents.get(agent_id, ()):
            conn.send(frame)

    async def backlog(self, conn: Conn, chat_id: int, after: tuple[int, int]) -> None:
        """The chat's lines above ``after`` (customer's, agent's), in the order they were written."""
        async with self.db.session() as s:
            rows = (await s.execute(
                select(ChatMessage, ChatFile).outerjoin(ChatFile, ChatFile.id == ChatMessage.file_id).where(
                    ChatMessage.chat_id == chat_id,
                    ((ChatMessage.sender == "customer") & (ChatMessage.seq > after[0]))
                    | ((ChatMessage.sender == "agent") & (ChatMessage.seq > after[1])),
                ).order_by(ChatMessage.id)
            )).all()  # fmt: skip
        for row, file in rows:
            conn.send(message_frame(chat_id, row, file))

    # --- sockets -------------------------------------------------------------------------------------------------

    def join_customer(self, live: Live, conn: Conn) -> None:
        live.customers.add(conn)

    def leave_customer(self, live: Live, conn: Conn) -> None:
        live.customers.discard(conn)

    def join_agent(self, conn: Conn) -> None:
        assert conn.user_id is not None
        self.agents.setdefault(conn.user_id, set()).add(conn)

    def leave_agent(self, conn: Conn) -> None:
        assert conn.user_id is not None
        conns = self.agents.get(conn.user_id)
        if conns is not None:
            conns.discard(conn)
            if not conns:
                del self.agents[conn.user_id]


def message_frame(chat_id: int, line: Line | ChatMessage, file: ChatFile | None) -> dict[str, Any]:
    return {
        "type": "message", "chat": chat_id, "sender": line.sender, "seq": line.seq, "client_id": line.client_id,
        "text": line.body, "at": line.created_at.isoformat(),
        "file": None if file is None else {"id": file.id, "name": file.filename, "type": file.content_type,
                                            "size": file.size},
    }  # fmt: skip
