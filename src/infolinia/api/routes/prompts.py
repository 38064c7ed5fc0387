"""Voice prompts: the system catalog and the tenant's own recordings. Upload a WAV file as the raw request body
(up to ``upload.MAX_BYTES``: this route has its own body limit, ``BODY_LIMITS``), listen to what callers hear,
delete a recording. Names are looked up in the actor's tenant only."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from pydantic import BaseModel, ConfigDict

from infolinia.api.deps import Access, access
from infolinia.errors import Invalid, NotFound
from infolinia.store.models import Prompt
from infolinia.voice.prompts import actions
from infolinia.voice.prompts.audio import duration_ms, wav_bytes
from infolinia.voice.prompts.catalog import SPEECH
from infolinia.voice.prompts.upload import MAX_BYTES, AudioError, decode_upload

router = APIRouter(tags=["prompts"])

WAV_TYPES = frozenset({"audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave"})
LANGUAGE = r"^[a-z]{2,3}$"
#: (method, path under the API prefix, limit): the upload takes bodies up to MAX_BYTES (see ``api/errors.BodyLimit``)
BODY_LIMITS = (("PUT", re.compile(r"/prompts/[^/]+"), MAX_BYTES),)

_WAV_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": f"a WAV file (RIFF/WAVE), at most {MAX_BYTES} bytes",
        "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in sorted(WAV_TYPES)},
    }
}


class PromptVersionOut(BaseModel):
    """One language of a prompt. System prompts give their ``text``; the tenant's own their ``sha256`` (of the
    8 kHz PCM samples) and when they were last recorded."""

    language: str
    duration_ms: int
    text: str | None = None
    sha256: str | None = None
    updated_at: datetime | None = None


class PromptOut(BaseModel):
    name: str
    source: Literal["tenant", "system"]
    languages: list[PromptVersionOut]


class PromptSaved(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    language: str
    duration_ms: int
    sha256: str
    created_at: datetime
    updated_at: datetime


def _own(rows: list[Prompt]) -> list[PromptOut]:
    by_name: dict[str, list[PromptVersionOut]] = {}
    for row in rows:
        version = PromptVersionOut(
            language=row.language, duration_ms=row.duration_ms, sha256=row.sha256, updated_at=row.updated_at
        )
        by_name.setdefault(row.name, []).append(version)
    return [PromptOut(name=name, source="tenant", languages=versions) for name, versions in by_name.items()]


def _system(a: Access) -> list[PromptOut]:
    found = []
    for name in sorted(a.prompts.system_names()):
        versions = []
        for language in a.prompts.system_languages(name):
            samples = a.prompts.system_prompt(name, language)
            length = duration_ms(samples) if samples is not None else 0
            versions.append(PromptVersionOut(language=language, duration_ms=length, text=SPEECH[language].get(name)))
        found.append(PromptOut(name=name, source="system", languages=versions))
    return found


@router.get("/prompts", response_model=list[PromptOut])
async def list_prompts(a: Access = Depends(access("prompts.read"))) -> list[PromptOut]:
    """The tenant's own prompts, then the system ones (a name in both: the tenant's is what callers hear)."""
    return _own(await actions.list_prompts(a.session, a.tenant.id)) + _system(a)


@router.put(
    "/prompts/{prompt_name}",
    response_model=PromptSaved,
    responses={201: {"model": PromptSaved, "description": "Created"}},
    openapi_extra=_WAV_BODY,
)
async def upload_prompt(
    prompt_name: str,
    response: Response,
    language: str = Query(pattern=LANGUAGE, description="the language of the recording, e.g. pl"),
    a: Access = Depends(access("prompts.manage")),
) -> PromptSaved:
    """Record (201) or replace (200) the tenant's prompt ``prompt_name`` in ``language``."""
    media_type = a.request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type not in WAV_TYPES:
        raise HTTPException(415, f"send the recording as the body with Content-Type audio/wav, not {media_type!r}")
    try:
        samples = await asyncio.to_thread(decode_upload, await a.request.body())
    except AudioError as exc:
        raise Invalid(str(exc), code="invalid_audio") from None
    async with a.write() as tx:
        prompt, created = await actions.save_prompt(tx, a.tenant.id, prompt_name, language, samples)
    a.prompts.invalidate(a.tenant.id)
    response.status_code = 201 if created else 200
    return PromptSaved.model_validate(prompt)


@router.get(
    "/prompts/{prompt_name}/audio",
    response_class=Response,
    responses={200: {"content": {"audio/wav": {}}, "description": "8 kHz mono 16-bit PCM WAV"}},
)
async def prompt_audio(
    prompt_name: str,
    language: str | None = Query(None, pattern=LANGUAGE, description="default: the tenant's first language"),
    a: Access = Depends(access("prompts.read")),
) -> Response:
    """What callers asking for ``language`` hear: ``Content-Language`` says which recording it is, and
    ``X-Prompt-Source`` whose (``tenant`` or ``system``)."""
    wanted = language or (a.tenant.languages[0] if a.tenant.languages else "en")
    found = await a.prompts.resolve(a.tenant.id, prompt_name, wanted)
    if found is None:
        raise NotFound(f"no prompt {prompt_name!r}")
    headers = {"Content-Language": found.language, "X-Prompt-Source": found.source}
    return Response(wav_bytes(found.samples), media_type="audio/wav", headers=headers)


@router.delete("/prompts/{prompt_name}", status_code=204)
async def delete_prompt(
    prompt_name: str,
    language: str = Query(pattern=LANGUAGE, description="the language of the recording to delete"),
    a: Access = Depends(access("prompts.manage")),
) -> None:
    """Delete the tenant's own recording; callers hear the system prompt of that name again, if there is one."""
    async with a.write() as tx:
        await actions.delete_prompt(tx, a.tenant.id, prompt_name, language)
    a.prompts.invalidate(a.tenant.id)
