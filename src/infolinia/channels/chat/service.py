"""The chat channel as the process runs it: the hub and its writer, the files, the public endpoints' rate limits, and
the loop that tells waiting customers their place in the queue and ends idle chats. Built by ``app.py``; the routing
API tells it when an agent accepts a chat's task."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from sqlalchemy import select

from infolinia.auth.ratelimit import SlidingWindowLimiter
from infolinia.channels.chat import actions
from infolinia.channels.chat.files import FileStore
from infolinia.channels.chat.hub import Hub, Live
from infolinia.config import Settings
from infolinia.events import EventBus
from infolinia.routing.model import Event, Presence
from infolinia.routing.service import RoutingService
from infolinia.store.db import Database
from infolinia.store.models import ChatSession, RoutingTask, User
from infolinia.store.uow import SYSTEM, Who, write

log = logging.getLogger(__name__)
#: the engine's decisions that end a waiting chat (nobody will take it)
GONE = ("task_exited", "task_abandoned")


class ChatLimits:
    """Requests per address to the public endpoints (one per process)."""

    def __init__(self, starts: int) -> None:
        self.starts = SlidingWindowLimiter(starts, 600.0)  # chats started, messages left, callbacks asked for
        self.files = SlidingWindowLimiter(20, 600.0)  # files per chat
        self.transcripts = SlidingWindowLimiter(3, 3600.0)  # transcripts e-mailed per chat


class ChatService:
    def __init__(self, settings: Settings, db: Database, bus: EventBus | None, routing: RoutingService) -> None:
        self.settings = settings
        self.db = db
        self.bus = bus
        self.routing = routing
        self.hub = Hub(db)
        self.files = FileStore(settings.data_dir)
        self.limits = ChatLimits(settings.chat_starts_per_ip)
        self.tick_s = 1.0
        #: starts one at a time in this process: each may make a customer, whose number is the next free one
        self.start_lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        self._ending: set[asyncio.Task[bool]] = set()
        routing.listeners.append(self._routing_events)

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self.hub.writer.run(), name="chat-writer"),
            asyncio.create_task(self._watch(), name="chat-watch"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.hub.writer.flush()

    def stats(self) -> dict[str, Any]:
        w = self.hub.writer
        return {"chats": len(self.hub.chats), "agents": len(self.hub.agents), "lines": w.lines, "commits": w.commits}

    # --- availability --------------------------------------------------------------------------------------------

    def availability(self, queue_id: int) -> str:
        """``open``; ``closed`` (outside the queue's business hours); ``no_agents`` (nobody of the queue is logged
        in); ``no_queue``."""
        q = self.routing.engine.queues.get(queue_id)
        if q is None:
            return "no_queue"
        is_open = q.spec.is_open
        if is_open is not None and not is_open(time.time()):
            return "closed"
        if not any(a.presence is not Presence.OFFLINE for a in q.members.values()):
            return "no_agents"
        return "open"

    def waiting_view(self, live: Live) -> dict[str, Any]:
        if live.status != "waiting" or live.task_id is None:
            return {"type": "state", "state": live.status}
        position = self.routing.position(live.task_id)
        wait = self.routing.estimated_wait(live.task_id)
        return {"type": "state", "state": "waiting", "position": None if position is None else position + 1,
                "estimated_wait_s": None if wait is None else round(wait)}  # fmt: skip

    async def state_frame(self, live: Live) -> dict[str, Any]:
        if live.status == "active" and live.agent_id is not None:
            async with self.db.session() as s:
                name = await s.scalar(select(User.display_name).where(User.id == live.agent_id))
            return {"type": "state", "state": "active", "agent": name}
        if live.status == "ended":
            async with self.db.session() as s:
                by = await s.scalar(select(ChatSession.ended_by).where(ChatSession.id == live.id))
            return {"type": "state", "state": "ended", "by": by}
        return self.waiting_view(live)

    # --- lifecycle -----------------------------------------------------------------------------------------------

    async def accepted(self, task: RoutingTask, agent_id: int) -> None:
        """The agent accepted a chat's task (``POST /tasks/{id}/accept``): the chat opens for them."""
        async with self.db.session() as s:
            chat_id = await s.scalar(select(ChatSession.id).where(ChatSession.routing_task_id == task.id,
                                                                  ChatSession.tenant_id == task.tenant_id))  # fmt: skip
        if chat_id is None:
            return
        async with write(self.db, self.bus, Who(agent_id, "agent")) as tx:
            chat = await tx.session.get(ChatSession, chat_id)
            if chat is None or chat.status != "waiting":
                return
            await actions.accept(tx, chat, agent_id)
        live = await self.hub.live(chat_id)
        if live is None:
            return
        live.status, live.agent_id = "active", agent_id
        live.last_activity = asyncio.get_running_loop().time()
        self.hub.broadcast(live, await self.state_frame(live), agents=False)
        self.hub.to_agent(agent_id, {"type": "chat", "chat": await self.chat_view(chat_id)})

    async def chat_view(self, chat_id: int) -> dict[str, Any]:
        async with self.db.session() as s:
            chat = await s.get(ChatSession, chat_id)
            assert chat is not None
            return {"id": chat.id, "status": chat.status, "name": chat.name, "topic": chat.topic,
                    "customer_id": chat.customer_id, "interaction_id": chat.interaction_id,
                    "task_id": chat.routing_task_id}  # fmt: skip

    async def end(self, chat_id: int, by: str, who: Who = SYSTEM) -> bool:
        """End the chat: its row and contact, then its task (completed if answered: the agent's wrap-up follows;
        else withdrawn as abandoned), then both sides are told. False if it had ended already."""
        async with write(self.db, self.bus, who) as tx:
            chat = await tx.session.get(ChatSession, chat_id)
            if chat is None or not await actions.end(tx, chat, by):
                return False
            task_id, answered = chat.routing_task_id, chat.answered_at is not None
        if task_id is not None:
            state = self.routing.engine.task_state(task_id).value
            try:
                if answered and state == "assigned":
                    await self.routing.complete(task_id)
                elif state in ("waiting", "reserved", "scheduled"):
                    await self.routing.cancel(task_id)
            except Exception:  # the engine may have moved on (a restart, a timer): the chat has ended anyway
                log.exception("chat %d: closing its routing task %d failed", chat_id, task_id)
        live = await self.hub.live(chat_id)
        if live is not None:
            live.status = "ended"
            self.hub.broadcast(live, {"type": "state", "state": "ended", "by": by, "chat": chat_id})
            self.hub.forget(chat_id)
        return True

    def _routing_events(self, events: list[Event]) -> None:
        """A waiting chat's task that the engine gave up (closed, maximum wait): the chat ends."""
        gone = {ev.task for ev in events if ev.kind in GONE and ev.task is not None}
        if not gone:
            return
        for live in list(self.hub.chats.values()):
            if live.task_id in gone and live.status == "waiting":
                task = asyncio.get_running_loop().create_task(self.end(live.id, "system"))
                self._ending.add(task)
                task.add_done_callback(self._ending.discard)

    async def _watch(self) -> None:
        """Tell waiting customers their place and expected wait when it changed; end chats idle too long."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.tick_s)
            now = loop.time()
            for live in list(self.hub.chats.values()):
                try:
                    if live.status != "ended" and now - live.last_activity > live.idle_timeout_s:
                        await self.end(live.id, "idle")
                    elif live.status == "waiting" and live.customers:
                        frame = self.waiting_view(live)
                        told = (frame.get("position"), frame.get("estimated_wait_s"))
                        if told != live.told:
                            live.told = told
                            self.hub.broadcast(live, frame, agents=False)
                except Exception:
                    log.exception("chat %d: watching it failed", live.id)
