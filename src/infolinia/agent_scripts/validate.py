"""Checks a script before it is saved, pure: every problem found, each with where it is and what is wrong.

The shape first (``script.Script``: kinds, fields, sizes); when it holds, the steps: duplicate ids, an unknown
start or ``next``, questions without options or with an option twice, input fields without choices or recorded
twice, placeholders that are not in the whitelist, steps that cannot be reached from the start, and steps from
which no ``end`` can be reached. A loop is fine when one of its steps leads out of it to an end (a question
whose other option goes on); a loop without such a step is reported once, naming its steps.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from infolinia.agent_scripts import placeholders
from infolinia.agent_scripts.script import EndStep, InputStep, QuestionStep, Script, Step, targets, texts
from infolinia.graphs import reachable as reach_from

__all__ = ["ScriptProblem", "check_script", "validate"]


@dataclass(frozen=True, slots=True)
class ScriptProblem:
    """One problem: ``path`` inside the definition (``steps[2].options[1].next``, ``start``), the ``step`` id and
    the step's ``field`` when it concerns one, and what is wrong."""

    path: str
    step: str | None
    field: str | None
    message: str

    def as_json(self) -> dict[str, str | None]:
        return {"path": self.path, "step": self.step, "field": self.field, "message": self.message}

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def check_script(definition: Mapping[str, Any]) -> tuple[Script | None, list[ScriptProblem]]:
    """The script and its problems: its shape first, then, if the shape holds, ``validate``. The script is None
    when its shape is wrong; it may be saved only when the list is empty."""
    try:
        script = Script.model_validate(definition)
    except ValidationError as exc:
        return None, [_shape_problem(definition, error) for error in exc.errors()]
    return script, validate(script)


def validate(script: Script) -> list[ScriptProblem]:
    """All problems of a well-shaped ``script``; an empty list when it is sound."""
    found: list[ScriptProblem] = []
    index: dict[str, int] = {}
    for i, step in enumerate(script.steps):
        if step.id in index:
            found.append(_at(i, step, "id", f"duplicate step id {step.id!r}"))
        else:
            index[step.id] = i
    if script.start not in index:
        found.append(ScriptProblem("start", None, "start", f"start names an unknown step {script.start!r}"))
    fields: dict[str, str] = {}
    edges: dict[str, list[str]] = {step_id: [] for step_id in index}
    for i, step in enumerate(script.steps):
        found.extend(_step_problems(i, step, index, fields))
        if index[step.id] == i:
            edges[step.id] = [target for _, target in targets(step) if target in index]
    if script.start in index:
        found.extend(_graph_problems(script, index, edges))
    return found


def _at(i: int, step: Step, field: str | None, message: str) -> ScriptProblem:
    return ScriptProblem(f"steps[{i}]" + (f".{field}" if field else ""), step.id, field, message)


def _step_problems(i: int, step: Step, index: Mapping[str, int], fields: dict[str, str]) -> list[ScriptProblem]:
    found: list[ScriptProblem] = []
    for field, target in targets(step):
        if target not in index:
            found.append(_at(i, step, field, f"{step.id!r} goes to an unknown step {target!r}"))
    for field, text in texts(step):
        for problem in placeholders.problems(text):
            found.append(_at(i, step, field, f"at character {problem.offset + 1}: {problem.message}"))
    if isinstance(step, QuestionStep):
        if not step.options:
            found.append(_at(i, step, "options", f"question {step.id!r} offers no options"))
        seen: set[str] = set()
        for k, option in enumerate(step.options):
            key = option.label.casefold()
            if key in seen:
                found.append(_at(i, step, f"options[{k}].label", f"option {option.label!r} is offered twice"))
            seen.add(key)
    if isinstance(step, InputStep):
        found.extend(_input_problems(i, step, fields))
    return found


def _input_problems(i: int, step: InputStep, fields: dict[str, str]) -> list[ScriptProblem]:
    found: list[ScriptProblem] = []
    if step.field in fields:
        found.append(_at(i, step, "field", f"field {step.field!r} is recorded by step {fields[step.field]!r} already"))
    else:
        fields[step.field] = step.id
    if step.field_type == "choice" and not step.choices:
        found.append(_at(i, step, "choices", f"{step.id!r} asks for a choice but lists no choices"))
    if step.field_type != "choice" and step.choices:
        found.append(_at(i, step, "choices", f"choices are for field_type 'choice', not {step.field_type!r}"))
    seen: set[str] = set()
    for k, choice in enumerate(step.choices):
        if choice.casefold() in seen:
            found.append(_at(i, step, f"choices[{k}]", f"choice {choice!r} is listed twice"))
        seen.add(choice.casefold())
    return found


def _graph_problems(script: Script, index: Mapping[str, int], edges: Mapping[str, list[str]]) -> list[ScriptProblem]:
    found: list[ScriptProblem] = []
    reachable = reach_from([script.start], edges)
    for step_id, i in index.items():
        if step_id not in reachable:
            found.append(ScriptProblem(f"steps[{i}]", step_id, None, f"{step_id!r} cannot be reached from the start"))
    reverse: dict[str, list[str]] = {step_id: [] for step_id in edges}
    for source, outs in edges.items():
        for target in outs:
            reverse[target].append(source)
    ends = [step.id for i, step in enumerate(script.steps) if index[step.id] == i and isinstance(step, EndStep)]
    leads_out = reach_from(ends, reverse)
    trapped = {step_id for step_id in reachable if step_id not in leads_out}
    for group in _loops(trapped, edges, index):
        first = group[0]
        where = f"steps[{index[first]}]"
        if len(group) > 1 or first in edges[first]:
            ring = " -> ".join([*group, first])
            message = f"loop {ring} has no way out: none of its steps leads to an end"
        elif not edges[first]:
            message = f"{first!r} leads nowhere: no end can be reached from it"
        else:
            message = f"{first!r} leads only into loops without an end"
        found.append(ScriptProblem(where, first, None, message))
    return found


def _loops(steps: set[str], edges: Mapping[str, list[str]], index: Mapping[str, int]) -> list[list[str]]:
    """``steps`` grouped by mutual reachability (each group in the order of the definition, the groups by their
    first step): a loop is one group, a step on no loop a group of its own."""
    inside = {step: [t for t in edges[step] if t in steps] for step in steps}
    reach = {step: reach_from([step], inside) for step in steps}
    groups: list[list[str]] = []
    placed: set[str] = set()
    for step in sorted(steps, key=index.__getitem__):
        if step in placed:
            continue
        group = sorted((other for other in reach[step] if step in reach[other]), key=index.__getitem__)
        placed.update(group)
        groups.append(group)
    return groups


def _shape_problem(definition: Mapping[str, Any], error: Any) -> ScriptProblem:
    loc: Sequence[int | str] = error["loc"]
    message = str(error["msg"]).removeprefix("Value error, ")
    if len(loc) < 2 or loc[0] != "steps" or not isinstance(loc[1], int):
        path = ".".join(str(part) for part in loc) or "definition"
        return ScriptProblem(path, None, path if loc else None, message)
    raw = _raw_step(definition, loc[1])
    rest = [str(part) for part in loc[2:]]
    if rest and rest[0] == raw.get("type"):
        rest = rest[1:]  # the union's tag: the step's own type, not a field
    if not rest and str(error["type"]).startswith("union_tag"):
        rest = ["type"]
    field = _field_path(rest)
    step_id = raw.get("id")
    path = f"steps[{loc[1]}]" + (f".{field}" if field else "")
    return ScriptProblem(path, step_id if isinstance(step_id, str) else None, field, message)


def _field_path(parts: Sequence[str]) -> str | None:
    """``["options", "1", "next"]`` as ``options[1].next``."""
    out = ""
    for part in parts:
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out or None


def _raw_step(definition: Mapping[str, Any], index: int) -> Mapping[str, Any]:
    steps = definition.get("steps")
    step = steps[index] if isinstance(steps, list) and 0 <= index < len(steps) else None
    return step if isinstance(step, dict) else {}
