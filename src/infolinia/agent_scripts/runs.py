"""Checks the way an agent went through a script on a contact, pure: the steps taken (from the start, each step one
the previous one leads to) and the answers recorded in its input steps (typed as the step says; required ones
given). A run that stops before an end is kept as not completed; one that reaches an end takes its outcome."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from infolinia.agent_scripts.script import EndStep, InputStep, QuestionStep, Script, Step, targets
from infolinia.agent_scripts.validate import ScriptProblem

__all__ = ["MAX_ANSWER", "MAX_PATH", "CheckedRun", "check_run"]

MAX_PATH = 500
MAX_ANSWER = 2000
Answer = str | float | int | bool
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class CheckedRun:
    """The steps as they are stored (``{"step", "type"}``, with the option a question took and the answer an input
    step recorded), the answers by field, whether it reached an end and that end's outcome."""

    steps: list[dict[str, Any]]
    answers: dict[str, Answer]
    completed: bool
    outcome: str | None


def check_run(
    script: Script, path: Sequence[str], answers: Mapping[str, Any]
) -> tuple[CheckedRun | None, list[ScriptProblem]]:
    """The run, or None and every problem of it."""
    by_id = {step.id: step for step in script.steps}
    found: list[ScriptProblem] = []

    def problem(where: str, message: str, step: str | None = None) -> None:
        found.append(ScriptProblem(where, step, None, message))

    if not path:
        problem("path", "a run goes through at least the start step")
    elif len(path) > MAX_PATH:
        problem("path", f"at most {MAX_PATH} steps")
    elif path[0] != script.start:
        problem("path[0]", f"a run starts at the start step {script.start!r}, not {path[0]!r}", path[0])
    steps: list[dict[str, Any]] = []
    inputs: dict[str, InputStep] = {}
    for i, step_id in enumerate(path[:MAX_PATH]):
        step = by_id.get(step_id)
        if step is None:
            problem(f"path[{i}]", f"the script has no step {step_id!r}", step_id)
            continue
        entry: dict[str, Any] = {"step": step.id, "type": step.type}
        following = path[i + 1] if i + 1 < len(path) else None
        leads = {target for _, target in targets(step)}
        if following is not None and following in by_id and following not in leads:
            problem(f"path[{i + 1}]", f"{step.id!r} does not lead to {following!r}", following)
        if isinstance(step, QuestionStep) and following is not None:
            entry["option"] = next((o.label for o in step.options if o.next == following), None)
        if isinstance(step, InputStep):
            inputs[step.field] = step
            entry["field"] = step.field
        steps.append(entry)
    checked: dict[str, Answer] = {}
    refused: set[str] = set()
    for key, raw in answers.items():
        step = inputs.get(key)
        if step is None:
            problem(f"answers.{key}", f"no input step on the path records {key!r}")
            continue
        value, error = _typed(step, raw)
        if error is not None:
            refused.add(key)
            problem(f"answers.{key}", error, step.id)
        elif value is not None:
            checked[key] = value
    for key, step in inputs.items():
        if step.required and key not in checked and key not in refused:
            problem(f"answers.{key}", f"{step.label!r} is required", step.id)
    if found:
        return None, found
    for entry in steps:
        if "field" in entry and entry["field"] in checked:
            entry["answer"] = checked[entry["field"]]
    last: Step | None = by_id.get(path[-1])
    completed = isinstance(last, EndStep)
    outcome = last.outcome if isinstance(last, EndStep) else None
    return CheckedRun(steps, checked, completed, outcome), []


def _typed(step: InputStep, raw: Any) -> tuple[Answer | None, str | None]:
    """The answer as stored, or the reason it does not fit the step (None and None: left empty)."""
    if raw is None or raw == "":
        return None, None
    match step.field_type:
        case "number":
            if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
                return None, "expected a number"
            return raw, None
        case "yes_no":
            if not isinstance(raw, bool):
                return None, "expected true (yes) or false (no)"
            return raw, None
        case "date":
            if not isinstance(raw, str) or not _DATE.fullmatch(raw):
                return None, "expected a date (YYYY-MM-DD)"
            try:
                return date.fromisoformat(raw).isoformat(), None
            except ValueError:
                return None, f"{raw} is not a date"
        case "choice":
            if raw not in step.choices:
                return None, f"expected one of: {', '.join(step.choices)}"
            return str(raw), None
    if not isinstance(raw, str) or len(raw) > MAX_ANSWER:
        return None, f"expected text of at most {MAX_ANSWER} characters"
    return raw.strip() or None, None
