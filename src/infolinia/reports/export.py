"""A report's rows as CSV and XLSX (the same columns, in the same order), and one KPI over the intervals as an SVG
line chart. Every text that reaches the SVG is escaped; CSV and XLSX cells that a spreadsheet would run as a formula
are prefixed with an apostrophe."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from openpyxl import Workbook

__all__ = ["chart_svg", "to_csv", "to_xlsx"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else _cell(row.get(c)) for c in columns])
    return out.getvalue()


def to_xlsx(columns: Sequence[str], rows: Sequence[dict[str, Any]], title: str = "Report") -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31] or "Report")
    sheet.append(list(columns))
    for row in rows:
        sheet.append([_cell(row.get(c)) for c in columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def chart_svg(title: str, labels: Sequence[str], values: Sequence[float | None], unit: str = "") -> str:
    """A line chart of ``values`` (None: no figure, a gap) over the ``labels``, 800 x 320 pixels."""
    width, height, left, right, top, bottom = 800, 320, 60, 20, 40, 60
    plot_w, plot_h = width - left - right, height - top - bottom
    known = [v for v in values if v is not None]
    high = max(known) if known else 1.0
    high = high if high > 0 else 1.0
    n = max(len(values), 1)

    def x(i: int) -> float:
        return left + (plot_w * (i + 0.5) / n)

    def y(v: float) -> float:
        return top + plot_h - plot_h * v / high

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}"'
        ' font-family="sans-serif" font-size="11">',
        f"<title>{escape(title)}</title>",
        f'<text x="{left}" y="20" font-size="14">{escape(title)}</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#555"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#555"/>',
    ]
    for step in range(5):
        value = high * step / 4
        parts.append(f'<text x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end">'
                     f"{escape(_fmt(value) + unit)}</text>")  # fmt: skip
    segment: list[str] = []
    segments: list[list[str]] = []
    for i, v in enumerate(values):
        if v is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        segment.append(f"{x(i):.1f},{y(v):.1f}")
        parts.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="2.5" fill="#1f6feb">'
                     f"<title>{escape(labels[i])}: {escape(_fmt(v) + unit)}</title></circle>")  # fmt: skip
    if segment:
        segments.append(segment)
    for points in segments:
        parts.append(
            f'<polyline fill="none" stroke="#1f6feb" stroke-width="1.5" points={quoteattr(" ".join(points))}/>'
        )
    every = max(1, n // 8)
    for i, label in enumerate(labels):
        if i % every == 0:
            parts.append(f'<text x="{x(i):.1f}" y="{top + plot_h + 16}" text-anchor="middle">'
                         f"{escape(label[:16])}</text>")  # fmt: skip
    parts.append("</svg>")
    return "\n".join(parts)
