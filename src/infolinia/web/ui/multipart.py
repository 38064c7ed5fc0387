"""Reading a posted ``multipart/form-data`` body (a form with a file field), byte-exact and bounded: the app's
``BodyLimit`` has already capped the body's size, and here the number of parts is capped too. Every malformed
body is refused with 400 ``bad_form``, never half read."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.message import Message
from typing import Final

from infolinia.errors import Invalid

__all__ = ["MAX_PARTS", "Posted", "read"]

MAX_PARTS: Final = 50
_NAME: Final = re.compile(r'(?:^|;)\s*name="([^"]*)"')
_FILENAME: Final = re.compile(r'(?:^|;)\s*filename="([^"]*)"')


@dataclass
class Posted:
    """The form's text fields (as ``parse_qs`` gives them) and its files (field name -> (file name, bytes))."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)


def _bad(message: str) -> Invalid:
    return Invalid(f"the form could not be read: {message}", code="bad_form")


def boundary_of(content_type: str) -> bytes:
    header = Message()
    header["content-type"] = content_type
    if header.get_content_type() != "multipart/form-data":
        raise _bad("send it as multipart/form-data")
    boundary = header.get_param("boundary")
    if not isinstance(boundary, str) or not 1 <= len(boundary) <= 70:
        raise _bad("no multipart boundary")
    return boundary.encode("latin-1", "replace")


def read(content_type: str, body: bytes) -> Posted:
    """The fields and files of ``body`` (sent with ``content_type``)."""
    delimiter = b"--" + boundary_of(content_type)
    if not body.startswith(delimiter):
        raise _bad("the body does not start with its boundary")
    chunks = body.split(b"\r\n" + delimiter)
    if len(chunks) > MAX_PARTS + 1:
        raise _bad(f"more than {MAX_PARTS} parts")
    if not chunks[-1].startswith(b"--"):
        raise _bad("the body ends before its closing boundary")
    posted = Posted()
    for index, chunk in enumerate(chunks[:-1]):
        start = len(delimiter) if index == 0 else 0
        if not chunk.startswith(b"\r\n", start):
            raise _bad("a part without headers")
        head, separator, content = chunk[start + 2 :].partition(b"\r\n\r\n")
        if not separator:
            raise _bad("a part without headers")
        disposition = ""
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(":")
            if key.strip().lower() == "content-disposition":
                disposition = value.strip()
        name = _NAME.search(disposition)
        if not disposition.lower().startswith("form-data") or name is None:
            raise _bad("a part without a field name")
        filename = _FILENAME.search(disposition)
        if filename is not None:
            posted.files[name.group(1)] = (filename.group(1)[:255], content)
            continue
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            raise _bad(f"the field {name.group(1)[:40]!r} is not UTF-8 text") from None
        posted.fields.setdefault(name.group(1), []).append(text)
    return posted
