"""The tenant's own voice prompts (``prompts.read`` to list and listen, ``prompts.manage`` to upload):
``/admin/prompts`` lists each recording with a player whose audio this server serves
(``/admin/prompts/{name}/audio``), and a form uploads a WAV file as ``multipart/form-data``. The file goes through
the same validator (``voice/prompts/upload.decode_upload``: format, length, size) and action
(``voice/prompts/actions.save_prompt``) as the API's ``PUT /prompts/{name}``; what they refuse is shown next to the
field it concerns, and nothing is saved."""

from __future__ import annotations

import asyncio
import re
from typing import Final
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from infolinia.access import can
from infolinia.errors import DomainError, Invalid, NotFound
from infolinia.voice.prompts import actions
from infolinia.voice.prompts.audio import wav_bytes
from infolinia.voice.prompts.names import check_name
from infolinia.voice.prompts.upload import MAX_BYTES, MAX_SECONDS, MIN_SECONDS, AudioError, decode_upload
from infolinia.web.ui.gate import Page, gate, page, upload
from infolinia.web.ui.problems import refusal

__all__ = ["BODY_LIMITS", "router"]

router = APIRouter(include_in_schema=False)

LANGUAGE: Final = re.compile(r"[a-z]{2,3}")
#: the upload form's body: the file (``upload.MAX_BYTES``) and the form's few other fields
BODY_LIMITS: Final = (("POST", re.compile(r"/admin/prompts"), MAX_BYTES + 64 * 1024),)


async def _list_page(p: Page, values: dict[str, str], problems: dict[str, str], status: int = 200,
                     saved: str = "") -> Response:  # fmt: skip
    a = p.access
    rows = await actions.list_prompts(a.session, a.tenant.id)
    prompt_languages = list(a.tenant.languages or ["en"])
    return p.render("admin/prompts.html", status, prompts=rows, values=values, problems=problems, saved=saved,
                    prompt_languages=prompt_languages, may_upload=can(a.actor, "prompts.manage"),
                    max_mb=MAX_BYTES // 1024 // 1024, min_seconds=MIN_SECONDS, max_seconds=MAX_SECONDS)  # fmt: skip


@router.get("/admin/prompts")
@page
async def prompts(request: Request) -> Response:
    async with gate(request, "prompts.read") as p:
        return await _list_page(p, {}, {}, saved=request.query_params.get("saved", "")[:100])


@router.post("/admin/prompts")
@page
async def upload_prompt(request: Request) -> Response:
    async with gate(request, "prompts.manage") as p:
        posted = await upload(request, p)
        values = {key: (posted.fields.get(key) or [""])[0].strip()[:100] for key in ("name", "language")}
        problems: dict[str, str] = {}
        try:
            check_name(values["name"])
        except Invalid as exc:
            problems["name"] = refusal(exc, p._)
        if not LANGUAGE.fullmatch(values["language"]):
            problems["language"] = p._("Choose a language.")
        file = posted.files.get("file")
        if file is None or not file[1]:
            problems["file"] = p._("Choose a WAV file.")
        if problems or file is None:
            return await _list_page(p, values, problems, 422)
        try:
            samples = await asyncio.to_thread(decode_upload, file[1])
        except AudioError as exc:
            return await _list_page(p, values, {"file": str(exc)}, 422)
        try:
            async with p.access.write() as tx:
                await actions.save_prompt(tx, p.access.tenant.id, values["name"], values["language"], samples)
        except DomainError as exc:
            await p.reload()
            field = "name" if isinstance(exc, Invalid) else "form"
            return await _list_page(p, values, {field: refusal(exc, p._)}, exc.status)
        p.access.prompts.invalidate(p.access.tenant.id)
        return RedirectResponse(f"/admin/prompts?saved={quote(values['name'])}", status_code=303)


@router.get("/admin/prompts/{prompt_name}/audio")
@page
async def prompt_audio(prompt_name: str, request: Request) -> Response:
    """What callers asking for ``language`` hear (the tenant's recording, else the system one)."""
    async with gate(request, "prompts.read") as p:
        language = request.query_params.get("language", "")
        if not LANGUAGE.fullmatch(language):
            raise Invalid("language: two or three lowercase letters", code="validation_error")
        found = await p.access.prompts.resolve(p.access.tenant.id, prompt_name, language)
        if found is None:
            raise NotFound(f"no prompt {prompt_name!r}")
        headers = {"Content-Language": found.language, "X-Prompt-Source": found.source, "Cache-Control": "no-store",
                   "X-Content-Type-Options": "nosniff"}  # fmt: skip
        return Response(wav_bytes(found.samples), media_type="audio/wav", headers=headers)
