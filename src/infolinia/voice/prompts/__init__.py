"""Voice prompts: the system catalog spoken by espeak-ng (Polish, English), music on hold and the beep, tenants'
own uploaded recordings, and the library the call control plays them from.

- ``catalog``: what the system prompts say, per language; the demo tenant's prompts
- ``speech``: numbers as prompt names (queue position, estimated wait, a phone number read back), pure
- ``generate``: espeak-ng -> 8 kHz mono int16; ``system``: the system prompts on disk with their manifest
- ``tones``: music on hold and the beep, synthesised
- ``wav``, ``upload``: strict WAV reading, an uploaded file -> samples or an ``AudioError``, pure
- ``audio``: the signal steps (resample, trim, normalise) and WAV writing, pure
- ``actions``: a tenant's prompts stored, replaced, deleted (audit + events)
- ``library``: ``PromptLibrary``, which the call control asks for samples
"""

from infolinia.voice.prompts.audio import RATE, Samples
from infolinia.voice.prompts.library import GAP_MS, PromptLibrary, Resolved

__all__ = ["GAP_MS", "RATE", "PromptLibrary", "Resolved", "Samples"]
