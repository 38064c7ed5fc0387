"""The chat's API shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from infolinia.channels.chat.protocol import MAX_TEXT
from infolinia.channels.chat.settings import ChatSettings, Origin, Topic
from infolinia.schemas import Id, Input


class ChatOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    status: str
    name: str
    email: str | None
    phone: str | None
    topic: str
    origin: str | None
    customer_id: int | None
    interaction_id: int | None
    queue_id: int | None
    routing_task_id: int | None
    agent_id: int | None
    created_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    ended_by: str | None


class FileOut(BaseModel):
    id: int
    name: str
    type: str
    size: int


class LineOut(BaseModel):
    id: int
    sender: str
    seq: int
    client_id: str | None
    text: str
    author_id: int | None
    file: FileOut | None
    at: datetime


class LineIn(Input):
    text: Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT, pattern=r"^[^\x00]*\S[^\x00]*$")]
    client_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")] | None = None


class PostedOut(BaseModel):
    seq: int
    duplicate: bool


class ChatSettingsPatch(Input):
    enabled: bool | None = None
    allowed_origins: list[Origin] | None = Field(None, max_length=50)
    topics: dict[Topic, Id] | None = Field(None, max_length=20)
    idle_timeout_s: int | None = Field(None, ge=5, le=86_400)
    max_file_bytes: int | None = Field(None, ge=1024, le=26_214_400)
    lines_per_s: int | None = Field(None, ge=1, le=50)
    lines_burst: int | None = Field(None, ge=1, le=200)
    #: make a new widget key (the old one stops working)
    new_widget_key: bool = False


ChatSettingsOut = ChatSettings
