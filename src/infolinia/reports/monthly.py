"""A tenant's month on one page, for the client company an outsourcing center works for: the period's figures, each
day and each queue. The same content as an HTML page to print (print CSS, every text escaped) and as a PDF
(reportlab, pure Python)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from html import escape
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

__all__ = ["TABLE_COLUMNS", "MonthlySummary", "to_html", "to_pdf"]

#: the columns of the day and queue tables: (key, heading)
TABLE_COLUMNS = (
    ("offered", "Offered"),
    ("answered", "Answered"),
    ("abandoned", "Abandoned"),
    ("service_level", "Service level"),
    ("asa_s", "ASA (s)"),
    ("aht_s", "AHT (s)"),
)


@dataclass(frozen=True)
class MonthlySummary:
    tenant: str
    month: str  # YYYY-MM
    timezone: str
    totals: dict[str, Any]  # the contact KPIs of the month
    headline: list[tuple[str, str]]  # (label, formatted figure) of the other reports
    days: list[dict[str, Any]]  # rows with "label" and the contact KPIs
    queues: list[dict[str, Any]]


def fmt(key: str, value: Any) -> str:
    if value is None:
        return "-"
    if key in ("service_level", "abandon_rate") or key.endswith("rate"):
        return f"{value * 100:.1f} %"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def _headline(m: MonthlySummary) -> list[tuple[str, str]]:
    contacts = [(heading, fmt(key, m.totals.get(key))) for key, heading in TABLE_COLUMNS]
    return [*contacts, ("Abandon rate", fmt("abandon_rate", m.totals.get("abandon_rate"))),
            ("Transfers", fmt("transfers", m.totals.get("transfers"))),
            ("Transfer rate", fmt("transfer_rate", m.totals.get("transfer_rate"))), *m.headline]  # fmt: skip


_CSS = """
body { font-family: sans-serif; margin: 2em; color: #111; }
h1 { font-size: 1.4em; margin-bottom: 0; } .sub { color: #555; margin-top: .2em; }
table { border-collapse: collapse; margin: 1em 0; width: 100%; font-size: .9em; }
th, td { border: 1px solid #bbb; padding: .25em .5em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
dl { display: grid; grid-template-columns: max-content auto; gap: .2em 1.5em; }
dt { color: #555; } dd { margin: 0; font-weight: bold; }
@media print {
  @page { size: A4; margin: 15mm; }
  body { margin: 0; } .noprint { display: none; }
  table { page-break-inside: auto; } tr { page-break-inside: avoid; } thead { display: table-header-group; }
}
"""


def _table(caption: str, first: str, rows: list[dict[str, Any]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for _, h in TABLE_COLUMNS)
    body = "".join(
        "<tr><td>" + escape(str(r["label"])) + "</td>"
        + "".join(f"<td>{escape(fmt(k, r.get(k)))}</td>" for k, _ in TABLE_COLUMNS) + "</tr>"
        for r in rows
    )  # fmt: skip
    return (f"<h2>{escape(caption)}</h2><table><thead><tr><th>{escape(first)}</th>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table>")  # fmt: skip


def to_html(m: MonthlySummary) -> str:
    figures = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in _headline(m))
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(m.tenant)} - {escape(m.month)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{escape(m.tenant)}: monthly report {escape(m.month)}</h1>"
        f'<p class="sub">Times in {escape(m.timezone)}. Definitions: docs/reports.md.</p>'
        f'<p class="noprint"><button onclick="window.print()">Print</button></p>'
        f"<h2>The month</h2><dl>{figures}</dl>"
        + _table("Each day", "Day", m.days)
        + _table("Each queue", "Queue", m.queues)
        + "</body></html>"
    )


def _pdf_table(first: str, rows: list[dict[str, Any]]) -> Table:
    data = [[first] + [h for _, h in TABLE_COLUMNS]]
    data += [[str(r["label"])] + [fmt(k, r.get(k)) for k, _ in TABLE_COLUMNS] for r in rows]
    table = Table(data, repeatRows=1)
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
        ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
        ("FONTSIZE", (0, 0), (-1, -1), 8),
    ]))  # fmt: skip
    return table


def to_pdf(m: MonthlySummary) -> bytes:
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
                            bottomMargin=15 * mm, title=f"{m.tenant} {m.month}")  # fmt: skip
    styles = getSampleStyleSheet()

    def para(text: str, style: str) -> Paragraph:
        return Paragraph(escape(text), styles[style])  # Paragraph reads a little markup: escape the text

    story: list[Any] = [para(f"{m.tenant}: monthly report {m.month}", "Title"),
                        para(f"Times in {m.timezone}.", "Normal"), Spacer(1, 4 * mm)]  # fmt: skip
    headline = Table([[k, v] for k, v in _headline(m)], hAlign="LEFT")
    headline.setStyle(TableStyle([("FONTSIZE", (0, 0), (-1, -1), 9), ("ALIGN", (1, 0), (1, -1), "RIGHT")]))
    story += [headline, Spacer(1, 4 * mm), para("Each day", "Heading2"), _pdf_table("Day", m.days),
              para("Each queue", "Heading2"), _pdf_table("Queue", m.queues)]  # fmt: skip
    doc.build(story)
    return out.getvalue()
