"""``infolinia staffing`` and ``infolinia forecast``: the planner's commands (registered by ``register``). numpy and
scipy are imported when a command runs, not when the command line starts."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

#: the largest day file read (rows)
MAX_ROWS = 10_000


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(1)


def _positive(name: str, value: float, *, zero: bool = False, upper: float = math.inf) -> float:
    ok = math.isfinite(value) and (value >= 0 if zero else value > 0) and value <= upper
    if not ok:
        bound = "at least 0" if zero else "above 0"
        raise _fail(f"--{name}: expected a number {bound} and at most {upper:g}, got {value!r}")
    return value


def _read_day(path: Path, default_aht: float | None) -> tuple[list[str], list[float], list[float]]:
    """``start,calls[,aht_s]`` rows (a header line first); ``aht_s`` falls back to ``--aht``."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(f"cannot read {path}: {exc}") from exc
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or "calls" not in reader.fieldnames:
        raise _fail(f"{path}: expected a header with a 'calls' column (and optionally 'start', 'aht_s')")
    starts: list[str] = []
    calls: list[float] = []
    ahts: list[float] = []
    for line, row in enumerate(reader, start=2):
        if len(calls) >= MAX_ROWS:
            raise _fail(f"{path}: more than {MAX_ROWS} intervals")
        try:
            n = float(row.get("calls") or "")
            aht = float(row["aht_s"]) if row.get("aht_s") else default_aht
        except ValueError as exc:
            raise _fail(f"{path}:{line}: {exc}") from exc
        if aht is None:
            raise _fail(f"{path}:{line}: no aht_s column value and no --aht")
        if not (math.isfinite(n) and 0 <= n <= 1e7 and math.isfinite(aht) and 0 < aht <= 86_400):
            raise _fail(f"{path}:{line}: calls must be 0..1e7 and aht_s above 0 and at most 86400")
        starts.append(row.get("start") or str(line - 1))
        calls.append(n)
        ahts.append(aht)
    return starts, calls, ahts


def staffing(
    calls: Annotated[float | None, typer.Option(help="Calls offered in the interval.")] = None,
    intervals: Annotated[
        Path | None, typer.Option(help="CSV of a day: start,calls[,aht_s] per interval (instead of --calls).")
    ] = None,
    interval_minutes: Annotated[float, typer.Option(help="Length of an interval in minutes.")] = 15.0,
    aht: Annotated[float | None, typer.Option(help="Average handle time in seconds.")] = None,
    target_sl: Annotated[float, typer.Option(help="Share of calls answered within --target-seconds.")] = 0.8,
    target_seconds: Annotated[float, typer.Option(help="Answer-time target in seconds.")] = 20.0,
    patience: Annotated[
        float | None, typer.Option(help="Mean patience in seconds: Erlang A (else Erlang C, nobody hangs up).")
    ] = None,
    shrinkage: Annotated[float, typer.Option(help="Share of paid time off the phones (0..1).")] = 0.0,
    max_occupancy: Annotated[float, typer.Option(help="Highest acceptable occupancy (0..1].")] = 1.0,
    max_asa: Annotated[float | None, typer.Option(help="Highest acceptable ASA in seconds.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Agents needed for a service-level target (Erlang C, or Erlang A with --patience), for one interval
    (--calls) or a whole day (--intervals CSV). ``agents`` includes shrinkage; the other figures are for the
    agents on the phones."""
    from infolinia.wfm.staffing import StaffingError, Target, requirement_dict, staff_day, staff_interval

    if (calls is None) == (intervals is None):
        raise _fail("give either --calls or --intervals")
    _positive("interval-minutes", interval_minutes, upper=1440)
    _positive("target-seconds", target_seconds, zero=True, upper=86_400)
    if patience is not None:
        _positive("patience", patience, upper=86_400)
    if max_asa is not None:
        _positive("max-asa", max_asa, zero=True, upper=86_400)
    target = Target(target_sl, target_seconds, max_occupancy, max_asa, patience, shrinkage)
    try:
        if calls is not None:
            _positive("calls", calls, zero=True, upper=1e7)
            if aht is None:
                raise _fail("--aht is required")
            req = staff_interval(calls, _positive("aht", aht, upper=86_400), interval_minutes * 60.0, target)
            result = requirement_dict(req)
            if as_json:
                typer.echo(json.dumps(result))
            else:
                for key, value in result.items():
                    typer.echo(f"{key:>14}  {_fmt(value)}")
            return
        assert intervals is not None
        starts, day_calls, ahts = _read_day(intervals, None if aht is None else _positive("aht", aht, upper=86_400))
        reqs = staff_day(day_calls, ahts, interval_minutes * 60.0, target)
    except StaffingError as exc:
        raise _fail(str(exc)) from exc
    rows = [{"start": s, "calls": r.calls, **requirement_dict(r)} for s, r in zip(starts, reqs, strict=True)]
    if as_json:
        typer.echo(json.dumps({"intervals": rows, "agent_hours": _agent_hours(rows, interval_minutes)}))
        return
    out = csv.writer(_Echo(typer.echo), lineterminator="")
    keys = list(rows[0]) if rows else ["start", "calls", "agents"]
    out.writerow(keys)
    for row in rows:
        out.writerow([_fmt(row[k]) for k in keys])


def _agent_hours(rows: list[dict[str, Any]], interval_minutes: float) -> float:
    return round(sum(int(row["agents"]) for row in rows) * interval_minutes / 60.0, 2)


class _Echo:
    def __init__(self, echo: Callable[[str], None]) -> None:
        self.echo = echo

    def write(self, line: str) -> None:
        self.echo(line)


def _fmt(value: object) -> str:
    if value is None:
        return "inf"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def forecast(
    tenant: Annotated[str, typer.Option(help="Tenant slug.")],
    queue: Annotated[str | None, typer.Option(help="Queue name (default: every queue).")] = None,
    channel: Annotated[str | None, typer.Option(help="voice, email, chat, ... (default: every channel).")] = None,
    days: Annotated[int, typer.Option(help="Days to forecast, from tomorrow (tenant time).")] = 7,
    history_days: Annotated[int, typer.Option(help="Days of history to learn from.")] = 56,
    holdout_days: Annotated[int, typer.Option(help="Last days of history kept out to measure the error.")] = 7,
    interval_minutes: Annotated[int, typer.Option(help="Interval length in minutes (divides 1440).")] = 15,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    db: Annotated[
        str | None, typer.Option("--db", help="Database URL (default: $INFOLINIA_DATABASE_URL or ./infolinia.db)")
    ] = None,
) -> None:
    """Forecast the calls (contacts) per interval from the tenant's own history, with the error on a hold-out."""
    from infolinia.config import database_url_from_env
    from infolinia.errors import DomainError
    from infolinia.store import db as store
    from infolinia.wfm import history

    url = database_url_from_env(db)

    async def go() -> dict[str, Any]:
        database = store.Database(url)
        try:
            async with database.session() as session:
                request = history.Request(days, history_days, holdout_days, interval_minutes)
                return await history.forecast_for(session, tenant, queue, channel, request)
        finally:
            await database.dispose()

    try:
        store.upgrade(url)
        result = asyncio.run(go())
    except DomainError as exc:
        raise _fail(exc.message) from exc
    if as_json:
        typer.echo(json.dumps(result))
        return
    acc = result["accuracy"]
    if acc is None:
        typer.echo("accuracy: not enough history for a hold-out")
    else:
        typer.echo(f"hold-out {acc['days']} day(s): WAPE {_fmt(acc['wape'])}  MAPE (daily) {_fmt(acc['mape'])}  "
                   f"RMSE {_fmt(acc['rmse'])}")  # fmt: skip
    typer.echo(f"{'start':<26} calls")
    for row in result["intervals"]:
        typer.echo(f"{row['start']:<26} {row['calls']:.2f}")


def register(app: typer.Typer) -> None:
    app.command("staffing")(staffing)
    app.command("forecast")(forecast)
