"""Web chat (``channels/chat``) for agents and admins: the tenant's chats and their transcripts, writing in a chat
one accepted (here over HTTP; the agent's socket ``/chat/ws`` does the same and carries the customer's lines and
typing), files, ending a chat, and the chat settings. A chat opens for an agent when they accept its routing task
(``POST /tasks/{id}/accept``). The customer's side is public: ``/chat/...`` (``channels/chat/public.py``)."""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Literal
from urllib.parse import unquote

from fastapi import APIRouter, Depends, Query, Request, WebSocket
from fastapi.responses import Response
from sqlalchemy import select

from infolinia.api.deps import Access, WsAccess, access, ws_access
from infolinia.channels.chat import actions
from infolinia.channels.chat.hub import Conn, Live
from infolinia.channels.chat.public import Refused, file_response, next_frame, store_file
from infolinia.channels.chat.schemas import (
    ChatOut,
    ChatSettingsOut,
    ChatSettingsPatch,
    FileOut,
    LineIn,
    LineOut,
    PostedOut,
)
from infolinia.channels.chat.service import ChatService
from infolinia.channels.chat.settings import MAX_FILE_BYTES, ChatSettings
from infolinia.errors import Conflict, DomainError, NotFound
from infolinia.schemas import Cursor, Id, Page
from infolinia.store.models import ChatFile, ChatMessage, ChatSession
from infolinia.store.uow import Who

router = APIRouter(tags=["chat"])
#: files have their own body limit (the tenant's ``max_file_bytes``, at most this), see ``api/errors.BodyLimit``
BODY_LIMITS = (("POST", re.compile(r"/chat/sessions/[0-9]+/files"), MAX_FILE_BYTES),)


def _service(request: Request | WebSocket) -> ChatService:
    service: ChatService = request.app.state.ctx.chat
    return service


@router.get("/chat/sessions", response_model=Page[ChatOut])
async def list_chats(
    a: Access = Depends(access("chat.read")),
    status: Literal["waiting", "active", "ended"] | None = None,
    agent_id: Id | None = None,
    interaction_id: Id | None = None,
    customer_id: Id | None = None,
    limit: int = Query(50, ge=1, le=200),
    after: Cursor | None = None,
) -> Page[ChatOut]:
    """The tenant's chats by id, filtered (``interaction_id``: the chat of a contact on the customer's timeline)."""
    query = select(ChatSession).where(ChatSession.tenant_id == a.tenant.id)
    filters = ((ChatSession.status, status), (ChatSession.agent_id, agent_id),
               (ChatSession.interaction_id, interaction_id), (ChatSession.customer_id, customer_id))  # fmt: skip
    for column, value in filters:
        if value is not None:
            query = query.where(column == value)
    if after is not None:
        query = query.where(ChatSession.id > after)
    rows = list(await a.session.scalars(query.order_by(ChatSession.id).limit(limit + 1)))
    items = [ChatOut.model_validate(r) for r in rows[:limit]]
    return Page[ChatOut](items=items, next_cursor=items[-1].id if len(rows) > limit else None)


@router.get("/chat/sessions/{chat_id}", response_model=ChatOut)
async def get_chat(a: Access = Depends(access("chat.read"))) -> ChatOut:
    return ChatOut.model_validate(a.obj("chat_id"))


@router.get("/chat/sessions/{chat_id}/messages", response_model=list[LineOut])
async def transcript(a: Access = Depends(access("chat.read"))) -> list[LineOut]:
    """The chat's lines in the order they were stored (its transcript), with the files they sent."""
    chat: ChatSession = a.obj("chat_id")
    rows = await a.session.execute(
        select(ChatMessage, ChatFile).outerjoin(ChatFile, ChatFile.id == ChatMessage.file_id)
        .where(ChatMessage.tenant_id == a.tenant.id, ChatMessage.chat_id == chat.id).order_by(ChatMessage.id)
    )  # fmt: skip
    return [
        LineOut(
            id=m.id,
            sender=m.sender,
            seq=m.seq,
            client_id=m.client_id,
            text=m.body,
            author_id=m.author_id,
            at=m.created_at,
            file=None if f is None else FileOut(id=f.id, name=f.filename, type=f.content_type, size=f.size),
        )
        for m, f in rows
    ]


async def _own_live(service: ChatService, chat: ChatSession, user_id: int) -> Live:
    """The chat, in memory, if it is this agent's and not ended."""
    live = await service.hub.live(chat.id)
    if live is None or live.agent_id != user_id or live.status != "active":
        raise Conflict("this chat is not an active chat of yours", code="not_your_chat")
    return live


@router.post("/chat/sessions/{chat_id}/messages", response_model=PostedOut, status_code=201)
async def post_line(body: LineIn, a: Access = Depends(access("chat.handle"))) -> PostedOut:
    """A line to the customer (as on the socket): stored once per ``client_id``, delivered after the commit."""
    service = _service(a.request)
    live = await _own_live(service, a.obj("chat_id"), a.actor.user_id)
    await a.session.close()
    try:
        seq, duplicate = await service.hub.post(live, "agent", body.text, body.client_id, author_id=a.actor.user_id)
    except RuntimeError as error:
        raise Conflict("the line was not stored: send it again", code="not_stored") from error
    return PostedOut(seq=seq, duplicate=duplicate)


@router.post("/chat/sessions/{chat_id}/end", response_model=ChatOut)
async def end_chat(a: Access = Depends(access("chat.handle"))) -> ChatOut:
    """End one's chat (its contact ends now; the routing task completes and wrap-up follows as for any contact)."""
    chat: ChatSession = a.obj("chat_id")
    if chat.status == "ended":
        raise Conflict("the chat has ended already", code="chat_ended")
    if chat.agent_id != a.actor.user_id:
        raise Conflict("this chat is not an active chat of yours", code="not_your_chat")
    await a.session.close()
    await _service(a.request).end(chat.id, "agent", a.who)
    a.session.expire_all()
    fresh = await a.session.get(ChatSession, chat.id)
    return ChatOut.model_validate(fresh)


@router.post("/chat/sessions/{chat_id}/files", response_model=FileOut, status_code=201)
async def send_file(a: Access = Depends(access("chat.handle"))) -> FileOut:
    """Send a file to the customer (the body, raw; its name in ``X-File-Name``), checked like the customer's."""
    service = _service(a.request)
    chat: ChatSession = a.obj("chat_id")
    live = await _own_live(service, chat, a.actor.user_id)
    settings = ChatSettings.of(a.tenant.chat_settings)
    data = await a.request.body()
    try:
        name = unquote(a.request.headers.get("x-file-name", "file"))
        row = await store_file(service, chat, "agent", data, name, settings, a.who)
    except Refused as refused:
        error = DomainError(refused.message, code=refused.code)
        error.status = refused.status
        raise error from None
    await service.hub.post(live, "agent", row.filename, None, author_id=a.actor.user_id, file=row)
    return FileOut(id=row.id, name=row.filename, type=row.content_type, size=row.size)


@router.get("/chat-files/{chat_file_id}")
async def get_file(a: Access = Depends(access("chat.read"))) -> Response:
    """A file of a chat: its checked type, always as a download, in a sandbox."""
    try:
        return file_response(_service(a.request), a.obj("chat_file_id"), {})
    except Refused as refused:
        raise NotFound(refused.message) from None


@router.get("/chat/settings", response_model=ChatSettingsOut)
async def get_settings(a: Access = Depends(access("chat.manage"))) -> ChatSettings:
    return ChatSettings.of(a.tenant.chat_settings)


@router.patch("/chat/settings", response_model=ChatSettingsOut)
async def update_settings(body: ChatSettingsPatch, a: Access = Depends(access("chat.manage"))) -> ChatSettings:
    """Change the fields given (``null``: left as it is); ``new_widget_key``: a new key (sites must embed it
    again). Turning chat on makes a key when there is none."""
    given = body.model_dump(exclude_unset=True, exclude={"new_widget_key"}, mode="json")
    changes = {name: value for name, value in given.items() if value is not None}  # null: left as it is
    async with a.write() as tx:
        return await actions.update_settings(tx, a.tenant, changes, body.new_widget_key)


# --- the agent's socket ----------------------------------------------------------------------------------------


@router.websocket("/chat/ws")
async def agent_socket(w: WsAccess = Depends(ws_access("chat.handle"))) -> None:
    """The agent's chats over one socket (``channels/chat/protocol.py``): on connect a ``chat`` frame for each
    active chat of theirs; ``open`` sends a chat's lines after ``after``; ``message``, ``typing``, ``end``."""
    service = _service(w.websocket)
    user_id = w.actor.user_id
    conn = Conn(w.websocket, "agent", user_id)
    service.hub.join_agent(conn)
    try:
        conn.send({"type": "ready", "user_id": user_id})
        async with service.db.session() as s:
            ids = list(await s.scalars(select(ChatSession.id).where(
                ChatSession.agent_id == user_id, ChatSession.status == "active").order_by(ChatSession.id)))  # fmt: skip
        for chat_id in ids:
            conn.send({"type": "chat", "chat": await service.chat_view(chat_id)})
        await _agent_loop(service, w.websocket, conn, user_id, w.actor.label)
    finally:
        service.hub.leave_agent(conn)
        await conn.close()


async def _agent_loop(service: ChatService, websocket: WebSocket, conn: Conn, user_id: int, label: str) -> None:
    while (frame := await next_frame(websocket, "agent")) is not None:
        if frame.type == "ping":
            conn.send({"type": "pong"})
            continue
        assert frame.chat is not None
        live = await service.hub.live(frame.chat)
        if live is None or live.agent_id != user_id:
            conn.send({"type": "error", "code": "not_your_chat", "chat": frame.chat, "client_id": frame.client_id,
                       "message": "this chat is not one of yours"})  # fmt: skip
            continue
        if frame.type == "open":
            await service.hub.backlog(conn, live.id, frame.after)
            conn.send(await service.state_frame(live) | {"chat": live.id})
        elif live.status != "active":
            conn.send({"type": "error", "code": "chat_ended", "chat": live.id, "client_id": frame.client_id,
                       "message": "the chat is not active"})  # fmt: skip
        elif frame.type == "message":
            assert frame.text is not None
            # not awaited here: the agent's next frames (their other chats' lines) are read while this one commits,
            # and go into the same commit; the sequence number is given before the first await, so order holds
            posting = asyncio.create_task(_post(service, conn, live, frame.text, frame.client_id, user_id))
            conn.tasks.add(posting)
            posting.add_done_callback(conn.tasks.discard)
        elif frame.type == "typing":
            service.hub.broadcast(live, {"type": "typing", "chat": live.id, "sender": "agent"}, agents=False)
        elif frame.type == "end":
            with contextlib.suppress(DomainError):
                await service.end(live.id, "agent", Who(user_id, label))


async def _post(service: ChatService, conn: Conn, live: Live, text: str, client_id: str | None, user_id: int) -> None:
    try:
        seq, _ = await service.hub.post(live, "agent", text, client_id, author_id=user_id, origin=conn)
    except RuntimeError:
        conn.send({"type": "error", "code": "not_stored", "chat": live.id, "client_id": client_id,
                   "message": "the line was not stored: send it again"})  # fmt: skip
        return
    conn.send({"type": "ack", "chat": live.id, "client_id": client_id, "seq": seq})


__all__ = ["router"]
