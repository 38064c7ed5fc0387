"""Reading a posted ``multipart/form-data`` body (a form with a file field), byte-exact and bounded: the app's
``BodyLimit`` has already capped the body's size, and here the number of parts is capped too. Every malformed
body is refused with 422 ``bad_form``, never half read."""

from __future__ import annotations

from dataclasses import dataclass, field
from email.message import Message
from typing import Final

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from infolinia.errors import Invalid

__all__ = ["MAX_PARTS", "Posted", "read"]

MAX_PARTS: Final = 50


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


class _Part:
    def __init__(self) -> None:
        self.headers: dict[bytes, bytes] = {}
        self.content = bytearray()


def read(content_type: str, body: bytes) -> Posted:
    """The fields and files of ``body`` (sent with ``content_type``), parsed by python-multipart (Starlette's
    parser); the parts are checked here: each a ``form-data`` with a name, text fields UTF-8."""
    parts: list[_Part] = []
    header: list[bytes] = [b"", b""]

    def begin() -> None:
        if len(parts) >= MAX_PARTS:
            raise _bad(f"more than {MAX_PARTS} parts")
        parts.append(_Part())

    def data(chunk: bytes, start: int, end: int) -> None:
        parts[-1].content += chunk[start:end]

    def header_field(chunk: bytes, start: int, end: int) -> None:
        header[0] += chunk[start:end]

    def header_value(chunk: bytes, start: int, end: int) -> None:
        header[1] += chunk[start:end]

    def header_end() -> None:
        parts[-1].headers[header[0].strip().lower()] = header[1].strip()
        header[0], header[1] = b"", b""

    ended: list[bool] = []
    parser = MultipartParser(boundary_of(content_type), {
        "on_part_begin": begin, "on_part_data": data, "on_header_field": header_field,
        "on_header_value": header_value, "on_header_end": header_end, "on_end": lambda: ended.append(True),
    })  # fmt: skip
    try:
        parser.write(body)
        parser.finalize()
    except MultipartParseError as error:
        raise _bad(str(error).rstrip(".")[:120] or "malformed body") from None
    if not ended:
        raise _bad("the body ends before its closing boundary")
    return _posted(parts)


def _posted(parts: list[_Part]) -> Posted:
    posted = Posted()
    for part in parts:
        kind, options = parse_options_header(part.headers.get(b"content-disposition", b""))
        name = options.get(b"name")
        if kind.lower() != b"form-data" or name is None:
            raise _bad("a part without a field name")
        field_name = name.decode("utf-8", "replace")
        filename = options.get(b"filename")
        if filename is not None:
            posted.files[field_name] = (filename.decode("utf-8", "replace")[:255], bytes(part.content))
            continue
        try:
            text = bytes(part.content).decode("utf-8")
        except UnicodeDecodeError:
            raise _bad(f"the field {field_name[:40]!r} is not UTF-8 text") from None
        posted.fields.setdefault(field_name, []).append(text)
    return posted
