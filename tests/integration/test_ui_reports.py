"""The report and planning pages over HTTP (in process, SQLite or PostgreSQL): who may open them, the figures they
show equal the API's (the same contacts read both ways), the downloads equal the API's, bad filters marked at their
field, another tenant's queue refused, both languages."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from babel.numbers import format_decimal
from openpyxl import load_workbook
from pypdf import PdfReader

from infolinia.app import Infolinia
from infolinia.store.models import Interaction
from infolinia.store.types import utcnow
from tests.conftest import Login
from tests.ui_helpers import ui_client

API = "/api/v1"
RATES = {"service_level", "abandon_rate", "transfer_rate", "occupancy"}
KPIS = ("offered", "answered", "abandoned", "service_level", "abandon_rate", "asa_s", "aht_s", "transfers",
        "transfer_rate", "occupancy")  # fmt: skip


def shown(key: str, value: Any, language: str = "en") -> str:
    """A figure as the pages write it."""
    if value is None:
        return "\u2013"  # an en dash
    if key in RATES:
        return f"{format_decimal(round(value * 100, 1), locale=language)} %"
    return format_decimal(value, locale=language)


def cells(page: str, table_id: str) -> list[dict[str, str]]:
    """The KPI cells of each body row of a table: {kpi: text}."""
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', page, re.S)
    assert table, f"no table {table_id}"
    rows = re.findall(r"<tr>(.*?)</tr>", table.group(0).split("<tbody>")[1], re.S)
    return [{k: html.unescape(v) for k, v in re.findall(r'<td data-kpi="([a-z_]+)">(.*?)</td>', row)} for row in rows]


async def a_queue_with_contacts(client: httpx.AsyncClient, headers: dict[str, str], center: Infolinia) -> int:
    """A queue of its own with five contacts on 2 and 3 February 2011 (Warsaw: UTC+1), one of them transferred."""
    queue = await client.post(f"{API}/queues", json={"name": f"UI reports {uuid.uuid4().hex[:8]}", "sl_seconds": 20},
                              headers=headers)  # fmt: skip
    assert queue.status_code == 201, queue.text
    made = []
    for day, hour, answer_s, talk_s in ((2, 9, 10, 200), (2, 9, 40, 100), (2, 14, None, 30), (3, 10, 5, 61),
                                        (3, 11, 15, 300)):  # fmt: skip
        created = datetime(2011, 2, day, hour, 7, tzinfo=UTC)
        body: dict[str, Any] = {"channel": "voice", "direction": "in", "queue_id": queue.json()["id"],
                                "created_at": created.isoformat(), "queued_at": created.isoformat()}  # fmt: skip
        if answer_s is None:
            body["ended_at"] = (created + timedelta(seconds=talk_s)).isoformat()
        else:
            answered = created + timedelta(seconds=answer_s)
            body |= {
                "answered_at": answered.isoformat(),
                "ended_at": (answered + timedelta(seconds=talk_s)).isoformat(),
            }
        r = await client.post(f"{API}/interactions", json=body, headers=headers)
        assert r.status_code == 201, r.text
        made.append(r.json()["id"])
    async with center.db.session() as s:
        row = await s.get(Interaction, made[0])
        assert row is not None
        row.transferred_at = datetime(2011, 2, 2, 9, 10, tzinfo=UTC)
        await s.commit()
    return int(queue.json()["id"])


PERIOD = {"from": "2011-02-02", "to": "2011-02-03"}


async def test_who_may_open_the_pages(http_app: Any) -> None:
    async with ui_client(http_app) as browser:
        r = await browser.get("/reports")
        assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Freports"
    async with ui_client(http_app, "agent1@demo.test") as browser:
        home = await browser.get("/admin")
        assert 'href="/reports"' not in home.text and 'href="/planning"' not in home.text
        for path in ("/reports", "/planning", "/reports/contacts.csv", "/reports/monthly"):
            r = await browser.get(path)
            assert r.status_code == 403, path
        assert "reports.read" in (await browser.get("/reports")).text
        assert "wfm.plan" in (await browser.get("/planning")).text
    async with ui_client(http_app, "supervisor@demo.test") as browser:
        home = await browser.get("/admin")
        assert 'href="/reports"' in home.text and 'href="/planning"' in home.text
        for path in ("/reports", "/planning"):
            r = await browser.get(path)
            assert r.status_code == 200, path
            assert "script-src 'self'" in r.headers["content-security-policy"]
            assert "<script>" not in r.text and " style=" not in r.text


async def test_the_report_shows_the_apis_figures(
    http_app: Any, client: httpx.AsyncClient, login: Login, center: Infolinia
) -> None:
    headers = await login("admin@demo.test")
    queue = await a_queue_with_contacts(client, headers, center)
    params = PERIOD | {"queue_id": str(queue)}
    api = await client.get(f"{API}/reports/contacts", params=params | {"to": "2011-02-04", "interval": "60min"},
                           headers=headers)  # fmt: skip
    assert api.status_code == 200
    expected = api.json()
    assert expected["totals"][0]["offered"] == 5 and expected["totals"][0]["transfers"] == 1
    async with ui_client(http_app, "supervisor@demo.test") as browser:
        page = await browser.get("/reports", params=params | {"interval": "60min", "kpi": "service_level"})
        assert page.status_code == 200, page.text
        total = cells(page.text, "period-totals")
        assert total == [{k: shown(k, expected["totals"][0][k]) for k in KPIS}]
        rows = cells(page.text, "report-rows")
        assert rows == [{k: shown(k, row[k]) for k in KPIS} for row in expected["rows"]]
        assert len(rows) == 48
        # the interactive chart draws the same figures as the API's rows
        found = re.search(r'data-chart="([^"]*)"', page.text)
        assert found
        chart = json.loads(html.unescape(found.group(1)))
        for kpi in KPIS:
            assert chart["kpis"][kpi]["values"] == [row[kpi] for row in expected["rows"]], kpi
        assert chart["kpis"]["transfer_rate"]["rate"] is True
        assert '<script src="/ui/static/chart.js" defer></script>' in page.text
        # the period's other figures are those of /reports/summary
        summary = (await client.get(f"{API}/reports/summary", params=params | {"to": "2011-02-04"},
                                    headers=headers)).json()  # fmt: skip
        fcr = shown("service_level", summary["first_contact_resolution"]["rate"])
        assert f"<dt>First-contact resolution</dt><dd>{fcr}</dd>" in page.text
        # by queue: one group row per queue with the group's name
        grouped = await browser.get("/reports", params=params | {"interval": "day", "group_by": "queue"})
        assert grouped.status_code == 200 and grouped.text.count("UI reports ") >= 3
        # the downloads are the API's
        for suffix in ("csv", "xlsx"):
            mine = await browser.get(f"/reports/contacts.{suffix}", params=params | {"interval": "60min"})
            wanted = params | {"to": "2011-02-04", "interval": "60min"}
            theirs = await client.get(f"{API}/reports/contacts.{suffix}", params=wanted, headers=headers)
            assert mine.status_code == 200 and mine.headers["content-type"] == theirs.headers["content-type"]
            if suffix == "csv":
                assert mine.text == theirs.text
                table = list(csv.reader(io.StringIO(mine.text)))
                assert "transfers" in table[0] and len(table) == 49
            else:
                sheet = load_workbook(io.BytesIO(mine.content), read_only=True).active
                assert sheet is not None
                assert next(list(r) for r in sheet.iter_rows(values_only=True)) == expected["columns"]
        svg = await browser.get("/reports/chart.svg", params=params | {"interval": "day", "kpi": "transfer_rate"})
        assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
        root = ET.fromstring(svg.text)
        titles = [
            c.findtext("{http://www.w3.org/2000/svg}title") for c in root.iter("{http://www.w3.org/2000/svg}circle")
        ]
        assert titles == ["2011-02-02T00:00:00+01:00: 50 %", "2011-02-03T00:00:00+01:00: 0 %"]


async def test_the_monthly_summary_to_print_and_as_pdf(
    http_app: Any, client: httpx.AsyncClient, login: Login, center: Infolinia
) -> None:
    headers = await login("admin@demo.test")
    await a_queue_with_contacts(client, headers, center)
    api = (await client.get(f"{API}/reports/summary", params={"from": "2011-02-01", "to": "2011-03-01"},
                            headers=headers)).json()  # fmt: skip
    async with ui_client(http_app, "supervisor@demo.test") as browser:
        page = await browser.get("/reports/monthly", params={"month": "2011-02"})
        assert page.status_code == 200
        assert "Demo Telecom: monthly report 2011-02" in page.text and "data-print" in page.text
        offered = api["contacts"]["offered"]
        assert f"<dt>Offered</dt><dd>{shown('offered', offered)}</dd>" in page.text
        assert f"<dt>Transfers</dt><dd>{api['contacts']['transfers']}</dd>" in page.text
        pdf = await browser.get("/reports/monthly.pdf", params={"month": "2011-02"})
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
        text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
        assert "monthly report 2011-02" in text
        bad = await browser.get("/reports/monthly", params={"month": "Feb"})
        assert bad.status_code == 422 and "Expected a month (YYYY-MM)." in bad.text


async def test_bad_filters_are_marked_at_their_field(http_app: Any) -> None:
    async with ui_client(http_app, "supervisor@demo.test") as browser:
        r = await browser.get("/reports", params={"from": "yesterday", "interval": "fortnight"})
        assert r.status_code == 422
        assert (
            'id="f-from" name="from" type="date" value="yesterday" required aria-describedby="f-from-problem"'
            ' aria-invalid="true"' in r.text
        )
        assert 'id="f-interval" name="interval" aria-invalid="true"' in r.text
        r = await browser.get("/reports", params={"from": "2011-03-29", "to": "2011-03-01"})
        assert r.status_code == 422 and "from must be before to" in r.text
        r = await browser.get("/reports", params={"from": "2010-06-01", "to": "2011-03-01", "interval": "15min"})
        assert r.status_code == 422 and "choose a longer interval" in r.text
        r = await browser.get("/reports/contacts.csv", params={"from": "nonsense"})
        assert r.status_code == 422
        r = await browser.get("/planning", params={"do": "staffing", "calls": "-5", "aht_s": "180"})
        assert r.status_code == 422 and 'id="f-calls" name="calls" type="number" value="-5"' in r.text
        r = await browser.get("/planning", params={"do": "forecast", "fc_days": "0"})
        assert r.status_code == 422 and "Expected a whole number from 1 to 92." in r.text


async def test_another_tenants_queue_is_not_shown(
    http_app: Any, client: httpx.AsyncClient, login: Login, center: Infolinia
) -> None:
    queue = await a_queue_with_contacts(client, await login("admin@demo.test"), center)
    async with ui_client(http_app, "admin@acme.test") as browser:
        r = await browser.get("/reports", params=PERIOD | {"queue_id": str(queue)})
        assert r.status_code == 422 and f"queue_id {queue} does not exist" in r.text
        assert 'id="period-totals"' not in r.text and "UI reports" not in r.text
        r = await browser.get("/reports/contacts.csv", params=PERIOD | {"queue_id": str(queue)})
        assert r.status_code == 422
        r = await browser.get("/planning", params={"do": "forecast", "fc_queue_id": str(queue)})
        assert r.status_code == 404
        mine = await browser.get("/reports", params=PERIOD)
        assert mine.status_code == 200 and "UI reports" not in mine.text


async def test_the_staffing_calculator_answers_as_the_api(
    http_app: Any, client: httpx.AsyncClient, login: Login
) -> None:
    headers = await login("supervisor@demo.test")
    for extra in ({}, {"patience_s": 120}):
        body = {"calls": 240, "interval_minutes": 30, "aht_s": 300, "target_sl": 0.8, "target_seconds": 20,
                "shrinkage": 0.3} | extra  # fmt: skip
        api = await client.post(f"{API}/wfm/staffing", json=body, headers=headers)
        assert api.status_code == 200
        expected = api.json()["intervals"][0]
        async with ui_client(http_app, "supervisor@demo.test") as browser:
            page = await browser.get("/planning", params={"do": "staffing"} | {k: str(v) for k, v in body.items()})
            assert page.status_code == 200, page.text
            got = dict(re.findall(r'<td data-key="([a-z_]+)">(.*?)</td>', page.text))
            assert got["agents"] == str(expected["agents"]) and got["on_phones"] == str(expected["on_phones"])
            percent = format_decimal(round(expected["service_level"] * 100, 2), locale="en")
            assert got["service_level"] == f"{percent} %"
            assert ("Erlang A" if extra else "Erlang C") in page.text
            both = await browser.get("/planning", params={k: str(v) for k, v in body.items()} | {"fc_days": "3"})
            assert 'id="staffing-result"' in both.text and 'id="forecast-days"' in both.text
            assert f'<input type="hidden" name="calls" value="{body["calls"]}">' in both.text


async def test_the_forecast_and_its_error_as_the_api(http_app: Any, client: httpx.AsyncClient, login: Login) -> None:
    headers = await login("admin@demo.test")
    queue = await client.post(f"{API}/queues", json={"name": f"UI forecast {uuid.uuid4().hex[:8]}"}, headers=headers)
    queue_id = queue.json()["id"]
    today = utcnow().replace(hour=9, minute=0, second=0, microsecond=0)
    for back in range(1, 22):
        for n in range(1 + back % 3):
            at = today - timedelta(days=back, minutes=-7 * n)
            body = {"channel": "voice", "direction": "in", "queue_id": queue_id, "created_at": at.isoformat()}
            assert (await client.post(f"{API}/interactions", json=body, headers=headers)).status_code == 201
    params = {"queue_id": queue_id, "days": 2, "history_days": 21, "holdout_days": 7, "interval_minutes": 60}
    api = (await client.get(f"{API}/wfm/forecast", params=params, headers=headers)).json()
    assert api["history"]["contacts"] > 0 and api["accuracy"] is not None
    async with ui_client(http_app, "supervisor@demo.test") as browser:
        form = {"do": "forecast", "fc_queue_id": queue_id, "fc_days": 2, "fc_history_days": 21, "fc_holdout_days": 7,
                "fc_interval": 60}  # fmt: skip
        page = await browser.get("/planning", params=form)
        assert page.status_code == 200, page.text
        wape = format_decimal(round(api["accuracy"]["wape"] * 100, 1), locale="en")
        assert f"<dt>Error on the hold-out (WAPE)</dt><dd>{wape} %</dd>" in page.text
        assert f"{api['history']['contacts']} contacts." in page.text
        days = re.findall(r'<tr><th scope="row">(\d{4}-\d\d-\d\d)</th><td>([^<]*)</td></tr>', page.text)
        per_day: dict[str, float] = {}
        for row in api["intervals"]:
            per_day[row["start"][:10]] = per_day.get(row["start"][:10], 0.0) + row["calls"]
        assert days == [(d, format_decimal(round(v, 1), locale="en")) for d, v in per_day.items()]
        assert page.text.count('<tr><th scope="row">') >= 2 + 24


async def test_the_pages_in_polish(http_app: Any) -> None:
    async with ui_client(http_app, "supervisor@demo.test", language="pl") as browser:
        page = await browser.get("/reports", params=PERIOD)
        assert page.status_code == 200 and "<h1>Raporty</h1>" in page.text and "Przekazania" in page.text
        page = await browser.get("/planning", params={"do": "staffing", "calls": "100", "aht_s": "180"})
        assert page.status_code == 200 and "Kalkulator obsady" in page.text and "Konsultanci do grafiku" in page.text
