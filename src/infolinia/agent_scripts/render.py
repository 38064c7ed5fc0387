"""A script as the agent sees it, pure: every text with its placeholders filled from the records' values, and the
placeholders that had none. Plain text in, plain text out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from infolinia.agent_scripts.placeholders import fill
from infolinia.agent_scripts.script import EndStep, InputStep, QuestionStep, SayStep, Script

__all__ = ["render"]


def render(script: Script, values: Mapping[str, str | None]) -> tuple[list[dict[str, Any]], list[str]]:
    """The steps (as ``schemas.RenderedStep``) and the placeholders without a value, in order of first use."""
    missing: list[str] = []

    def filled(text: str) -> str:
        out, lacking = fill(text, values)
        missing.extend(name for name in lacking if name not in missing)
        return out

    steps: list[dict[str, Any]] = []
    for step in script.steps:
        shown: dict[str, Any] = {"id": step.id, "type": step.type}
        if step.text is not None:
            shown["text"] = filled(step.text)
        match step:
            case SayStep():
                shown["next"] = step.next
            case QuestionStep():
                shown["options"] = [{"label": filled(o.label), "next": o.next} for o in step.options]
            case InputStep():
                shown |= {"field": step.field, "label": filled(step.label), "field_type": step.field_type,
                          "choices": list(step.choices), "required": step.required, "next": step.next}  # fmt: skip
            case EndStep():
                shown["outcome"] = step.outcome
        steps.append(shown)
    return steps, missing
