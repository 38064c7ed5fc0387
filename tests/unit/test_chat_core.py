"""The chat's pure parts: frames as the sockets take them, files judged by their content, settings, and whether a
queue can take a chat now (open, closed by its business hours, nobody logged in)."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from infolinia.channels.chat import protocol
from infolinia.channels.chat.files import FileRefused, check, safe_name, sniff
from infolinia.channels.chat.service import ChatService
from infolinia.channels.chat.settings import FILE_TYPES, ChatSettings
from infolinia.config import Settings
from infolinia.routing.model import AgentSpec, Presence, QueueSpec
from infolinia.routing.service import RoutingService
from infolinia.store.db import Database


def frame(**body: object) -> str:
    return json.dumps(body)


def test_customer_frames() -> None:
    hello = protocol.parse("customer", frame(type="hello", chat=3, token="t", after={"customer": 2, "agent": 5}))
    assert (hello.chat, hello.token, hello.after) == (3, "t", (2, 5))
    line = protocol.parse("customer", frame(type="message", client_id="abc-1", text="<script>x</script>"))
    assert line.text == "<script>x</script>" and line.client_id == "abc-1"
    assert protocol.parse("customer", frame(type="typing")).type == "typing"


@pytest.mark.parametrize(
    "raw",
    [
        None,  # a binary frame
        "not json",
        "[]",
        frame(kind="message"),
        frame(type="shout"),
        frame(type="message", text="hi"),  # no client id
        frame(type="message", client_id="a b", text="hi"),
        frame(type="message", client_id="a", text="   "),
        frame(type="message", client_id="a", text="x\x00y"),
        frame(type="message", client_id="a", text="x" * (protocol.MAX_TEXT + 1)),
        frame(type="message", client_id="a", text="hi", extra=1),
        frame(type="hello", chat="3", token="t"),
        frame(type="hello", chat=True, token="t"),
        frame(type="hello", chat=3, token="t", after={"customer": -1}),
        frame(type="hello", chat=3, token="t", after={"nobody": 1}),
        frame(type="open", chat=3),  # an agent's frame
        "x" * (protocol.MAX_FRAME + 1),
    ],
)
def test_malformed_customer_frames(raw: str | None) -> None:
    with pytest.raises(protocol.Malformed):
        protocol.parse("customer", raw)


def test_agent_frames_name_their_chat() -> None:
    assert protocol.parse("agent", frame(type="open", chat=9, after={"agent": 1})).after == (0, 1)
    with pytest.raises(protocol.Malformed):
        protocol.parse("agent", frame(type="message", client_id="a", text="hi"))
    with pytest.raises(protocol.Malformed):
        protocol.parse("agent", frame(type="hello", chat=1, token="t"))


def test_line_budget() -> None:
    """A burst goes through at once, then lines at the rate; a line over the budget is told how long to wait."""
    budget = protocol.LineBudget(per_s=2, burst=3)
    assert [budget.take(10.0) for _ in range(3)] == [None, None, None]
    assert budget.take(10.0) == pytest.approx(0.5)
    assert budget.take(10.25) == pytest.approx(0.25)  # a refused line costs nothing
    assert budget.take(10.5) is None
    assert budget.take(10.5) == pytest.approx(0.5)
    assert [budget.take(100.0) for _ in range(4)] == [None, None, None, pytest.approx(0.5)]  # refilled to the burst
    with pytest.raises(ValidationError):
        ChatSettings.model_validate({"lines_per_s": 0})


def test_files_by_content_not_by_name() -> None:
    assert sniff(b"\x89PNG\r\n\x1a\n....") == "image/png"
    assert sniff(b"\xff\xd8\xff\xe0") == "image/jpeg"
    assert sniff(b"GIF89a..") == "image/gif"
    assert sniff(b"%PDF-1.7") == "application/pdf"
    assert sniff("zwykły tekst\n".encode()) == "text/plain"
    assert sniff(b"MZ\x90\x00") is None  # a program
    assert sniff(b"\x00\x01binary") is None
    assert sniff(b"<html>\x07</html>") is None
    allowed = list(FILE_TYPES)
    assert check(b"%PDF-1.4 x", allowed, 100) == "application/pdf"
    with pytest.raises(FileRefused) as refused:
        check(b"%PDF-" + b"x" * 200, allowed, 100)
    assert refused.value.code == "file_too_large"
    with pytest.raises(FileRefused) as refused:
        check(b"%PDF-1.4", ["image/png"], 100)
    assert refused.value.code == "file_type"
    with pytest.raises(FileRefused):
        check(b"", allowed, 100)


def test_safe_names() -> None:
    assert safe_name("../../etc/passwd", "text/plain") == "passwd.txt"
    assert safe_name("C:\\Users\\x\\photo.PNG", "image/png") == "photo.PNG"
    assert safe_name('<img src=x onerror="1">.jpg', "image/jpeg").endswith(".jpg")
    assert "<" not in safe_name("<b>.pdf", "application/pdf")
    assert safe_name("...", "image/gif") == "file.gif"


def test_settings() -> None:
    s = ChatSettings.model_validate({"enabled": True, "allowed_origins": ["HTTPS://Shop.Example/"]})
    assert s.allowed_origins == ["https://shop.example"]
    for bad in ("shop.example", "ftp://x", "https://x/path", "https://user@x"):
        with pytest.raises(ValidationError):
            ChatSettings.model_validate({"allowed_origins": [bad]})
    assert ChatSettings.of({"enabled": True, "widget_key": "short"}).enabled is False  # a bad row reads as off


@pytest.fixture
def service(tmp_path: object) -> ChatService:
    url = f"sqlite+aiosqlite:///{tmp_path}/unused.db"
    routing = RoutingService(Database(url))
    return ChatService(Settings(database_url=url), routing.db, None, routing)


def test_availability(service: ChatService) -> None:
    engine = service.routing.engine
    engine.set_queue(QueueSpec(id=1, tenant_id=1), 0.0)
    engine.set_queue(QueueSpec(id=2, tenant_id=1, is_open=lambda now: False), 0.0)
    assert service.availability(1) == "no_agents"
    assert service.availability(2) == "closed"
    assert service.availability(3) == "no_queue"
    engine.set_agent(AgentSpec(id=7, tenant_id=1, queues=frozenset({1, 2})), 0.0)
    assert service.availability(1) == "no_agents"  # offline
    engine.set_presence(7, Presence.READY, 1.0)
    assert service.availability(1) == "open"
    assert service.availability(2) == "closed"  # someone is in, but the hours say closed
