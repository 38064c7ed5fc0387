"""An IVR flow drawn as SVG on the server (no script): nodes in columns by their distance from the start, each
edge an arrow labelled with what takes it (a digit, ``open``, ``on_failure``...). Nodes no path reaches stand in a
last column. Every text is escaped; the drawing is styled by the UI's stylesheet (classes, no inline styles)."""

from __future__ import annotations

from collections import deque
from html import escape
from typing import Final

from markupsafe import Markup

from infolinia.voice.ivr.flow import Flow, Node, is_exit, targets

__all__ = ["flow_svg"]

BOX_W: Final = 168
BOX_H: Final = 46
GAP_X: Final = 72
GAP_Y: Final = 22
PAD: Final = 16


def _columns(flow: Flow) -> dict[str, int]:
    """Each node's column: its distance (in edges) from the start; unreachable nodes one past the last."""
    known = {node.id: node for node in flow.nodes}
    depth: dict[str, int] = {}
    if flow.start in known:
        depth[flow.start] = 0
        todo = deque([flow.start])
        while todo:
            here = todo.popleft()
            for _, target in targets(known[here]):
                if target in known and target not in depth:
                    depth[target] = depth[here] + 1
                    todo.append(target)
    last = max(depth.values(), default=-1) + 1
    return {node.id: depth.get(node.id, last) for node in flow.nodes}


def _label(node: Node) -> str:
    detail = getattr(node, "prompt", None) or getattr(node, "queue", None) or getattr(node, "extension", None)
    return f"{node.type}: {detail}" if detail else node.type


def flow_svg(flow: Flow, title: str) -> Markup:
    """The flow's diagram, an ``<svg>`` element with a title for screen readers."""
    column = _columns(flow)
    rows: dict[int, int] = {}
    place: dict[str, tuple[float, float]] = {}
    for node in flow.nodes:
        col = column[node.id]
        row = rows.get(col, 0)
        rows[col] = row + 1
        place[node.id] = (PAD + col * (BOX_W + GAP_X), PAD + row * (BOX_H + GAP_Y))
    width = PAD * 2 + (max(column.values(), default=0) + 1) * (BOX_W + GAP_X) - GAP_X
    height = PAD * 2 + max(rows.values(), default=1) * (BOX_H + GAP_Y) - GAP_Y
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="flow-diagram" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" aria-labelledby="flow-diagram-title">',
        f'<title id="flow-diagram-title">{escape(title)}</title>',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrow-head"/></marker></defs>',
    ]
    for node in flow.nodes:
        parts.extend(_edges(node, place))
    for node in flow.nodes:
        x, y = place[node.id]
        kind = "exit" if is_exit(node) else ("start" if node.id == flow.start else "step")
        parts.append(
            f'<g class="node node-{kind}" data-node="{escape(node.id)}">'
            f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="6"/>'
            f'<text x="{x + 8}" y="{y + 19}" class="node-id">{escape(node.id[:24])}</text>'
            f'<text x="{x + 8}" y="{y + 36}" class="node-kind">{escape(_label(node)[:28])}</text></g>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _edges(node: Node, place: dict[str, tuple[float, float]]) -> list[str]:
    out: list[str] = []
    x, y = place[node.id]
    for field, target in targets(node):
        if target not in place:
            continue
        tx, ty = place[target]
        label = field.removeprefix("digits.")
        if tx > x:  # forwards: from the right side to the left side
            x1, y1, x2, y2 = x + BOX_W, y + BOX_H / 2, tx, ty + BOX_H / 2
            mid = (x1 + x2) / 2
            path = f"M{x1},{y1} C{mid},{y1} {mid},{y2} {x2},{y2}"
            lx, ly = mid, (y1 + y2) / 2 - 4
        elif tx == x:  # within a column: an arc on the right, clear of the boxes
            x1, y1, x2, y2 = x + BOX_W, y + BOX_H / 2, tx + BOX_W, ty + BOX_H / 2
            bulge = x1 + GAP_X / 2
            path = f"M{x1},{y1} C{bulge},{y1} {bulge},{y2} {x2},{y2}"
            lx, ly = bulge - 6, (y1 + y2) / 2
        else:  # back to an earlier column: from the left side into the target's bottom
            x1, y1, x2, y2 = x, y + BOX_H / 2, tx + BOX_W * 0.75, ty + BOX_H
            path = f"M{x1},{y1} C{x1 - GAP_X / 2},{y1} {x2},{y2 + GAP_Y} {x2},{y2}"
            lx, ly = x1 - GAP_X / 4, y1 - 4
        out.append(
            f'<path d="{path}" class="edge" marker-end="url(#arrow)"/>'
            f'<text x="{lx}" y="{ly}" class="edge-label">{escape(label)}</text>'
        )
    return out
