"""``infolinia simulate`` and ``infolinia schedule``: workforce planning from the shell.

``simulate`` takes a center from arguments (one queue, one pool of agents), from a JSON or YAML description (the
body of ``POST /api/v1/wfm/simulate``), or from a tenant's configured queues and agents with volumes, handle times
and patience estimated from its contact history (``wfm/center.py``). ``schedule`` takes a requirement CSV (one
row per interval: ``interval,agents``, or just ``agents``) and a rules file (JSON or YAML: templates, agents, the
under-cover penalty) and writes the schedule as CSV (one row per shift) or JSON."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError

if TYPE_CHECKING:
    from infolinia.wfm.schedule import Schedule
    from infolinia.wfm.simulate import SimulationResult

# the commands import numpy and OR-Tools when they run, so that other commands start as fast as before
app = typer.Typer(add_completion=False)


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(1)


def _explain(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg']}" for e in exc.errors())


def _load(path: Path) -> Any:
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(f"cannot read {path}: {exc}") from exc
    try:
        return json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise _fail(f"{path} is not valid {'JSON' if path.suffix.lower() == '.json' else 'YAML'}: {exc}") from exc


def _numbers(text: str, kind: type[int] | type[float], what: str) -> list[Any]:
    try:
        return [kind(part) for part in text.replace(";", ",").split(",") if part.strip()]
    except ValueError as exc:
        raise _fail(f"{what}: comma-separated numbers expected ({exc})") from exc


@app.command()
def simulate(
    center: Annotated[Path | None, typer.Option(help="JSON or YAML center description (as the API takes).")] = None,
    tenant: Annotated[
        str | None, typer.Option(help="Simulate this tenant's queues and agents, volumes from its history.")
    ] = None,
    calls: Annotated[str | None, typer.Option(help="Expected calls per interval, comma-separated.")] = None,
    agents: Annotated[str | None, typer.Option(help="Agents per interval, comma-separated, or one number.")] = None,
    aht: Annotated[float, typer.Option(help="Mean handle time, seconds.")] = 180.0,
    handle: Annotated[str, typer.Option(help="exponential or lognormal")] = "exponential",
    handle_sd: Annotated[float, typer.Option(help="Standard deviation of a lognormal handle time, seconds.")] = 0.0,
    patience: Annotated[float | None, typer.Option(help="Mean patience, seconds (none: nobody hangs up).")] = None,
    interval_minutes: Annotated[int, typer.Option(help="Length of an interval.")] = 30,
    sl_seconds: Annotated[float, typer.Option(help="Service level threshold, seconds.")] = 20.0,
    callback_share: Annotated[float, typer.Option(help="Share of callers out of patience asking for a callback.")] = 0,
    callback_delay: Annotated[float, typer.Option(help="Seconds from a callback request to its call.")] = 0.0,
    days: Annotated[int, typer.Option(help="With --tenant: days of history to learn from.")] = 28,
    scale: Annotated[float, typer.Option(help="With --tenant: multiply the historical volumes (what-if).")] = 1.0,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same figures.")] = 0,
    engine: Annotated[str, typer.Option(help="auto, fast (single skill) or routing (the routing engine).")] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Print the full result as JSON.")] = False,
    db: Annotated[str | None, typer.Option("--db", help="Database URL (with --tenant).")] = None,
) -> None:
    """Simulate the center: offered, answered, abandoned, service level, ASA, AHT, occupancy per interval."""
    from infolinia.errors import DomainError
    from infolinia.wfm.distributions import SimulationError
    from infolinia.wfm.multiskill import simulate_multi
    from infolinia.wfm.sim_schemas import CenterIn
    from infolinia.wfm.simulate import simulate_single

    sources = sum(x is not None for x in (center, tenant, calls))
    if sources != 1:
        raise _fail("give exactly one of --center FILE, --tenant SLUG, or --calls (with --agents)")
    try:
        if center is not None:
            data = _load(center)
            if not isinstance(data, dict):
                raise _fail(f"{center}: a center description is a mapping (queues, groups, ...)")
            data.setdefault("seed", seed)
            data.setdefault("engine", engine)
            described = CenterIn.model_validate(data)
        elif tenant is not None:
            from sqlalchemy.exc import SQLAlchemyError

            from infolinia.store.db import DatabaseURLError
            from infolinia.wfm.center import center_from_history

            try:
                described = asyncio.run(center_from_history(tenant, db, days, interval_minutes, scale))
            except (DomainError, DatabaseURLError) as exc:
                raise _fail(str(exc)) from exc
            except (SQLAlchemyError, OSError) as exc:
                first = str(exc).splitlines()[0]
                raise _fail(f"cannot use the database: {exc.__class__.__name__}: {first}") from exc
            described = described.model_copy(update={"seed": seed, "engine": engine})
        else:
            per_interval = _numbers(calls or "", float, "--calls")
            heads = _numbers(agents or "", int, "--agents")
            if len(heads) == 1:
                heads = heads * len(per_interval)
            queue = {"name": "main", "calls": per_interval, "patience_s": patience, "sl_seconds": sl_seconds,
                     "callback_share": callback_share, "callback_delay_s": callback_delay,
                     "handle": {"kind": handle, "mean_s": aht, "sd_s": handle_sd}}  # fmt: skip
            described = CenterIn.model_validate({"interval_minutes": interval_minutes, "queues": [queue],
                                                 "groups": [{"name": "agents", "agents": heads}],
                                                 "seed": seed, "engine": engine})  # fmt: skip
    except ValidationError as exc:
        raise _fail(_explain(exc)) from exc
    try:
        if described.uses_fast_path():
            result, used = simulate_single(described.single(), described.seed), "fast"
        else:
            result, used = simulate_multi(described.multi(), described.seed), "routing"
    except SimulationError as exc:
        raise _fail(str(exc)) from exc
    if as_json:
        typer.echo(json.dumps({"engine": used, "elapsed_s": result.elapsed_s, **result.as_dict()}))
        return
    typer.echo(_table(result, used))


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _secs(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _table(result: SimulationResult, engine: str) -> str:
    out = io.StringIO()
    out.write(f"{'interval':>8} {'offered':>8} {'answered':>8} {'abandoned':>9} {'SL':>7} {'ASA s':>7} "
              f"{'AHT s':>7} {'occup.':>7} {'aband.':>7} {'callbk':>6}\n")  # fmt: skip
    rows = [(str(i), k) for i, k in enumerate(result.intervals)] + [("all", result.overall)]
    for label, k in rows:
        out.write(f"{label:>8} {k.offered:>8} {k.answered:>8} {k.abandoned:>9} {_pct(k.service_level):>7} "
                  f"{_secs(k.asa_s):>7} {_secs(k.aht_s):>7} {_pct(k.occupancy):>7} {_pct(k.p_abandon):>7} "
                  f"{k.callbacks_requested:>6}\n")  # fmt: skip
    for name, k in result.by_queue.items():
        out.write(f"queue {name}: offered {k.offered}, SL {_pct(k.service_level)}, ASA {_secs(k.asa_s)} s, "
                  f"abandoned {_pct(k.p_abandon)}\n")  # fmt: skip
    out.write(f"engine {engine}, seed {result.seed}, {result.overall.offered} calls in {result.elapsed_s:.2f} s")
    return out.getvalue()


def read_requirement(text: str) -> list[int]:
    """Agents needed per interval from CSV: ``agents`` or ``interval,agents`` per row; a header row is skipped."""
    values: list[int] = []
    for number, row in enumerate(csv.reader(io.StringIO(text)), 1):
        cells = [c.strip() for c in row if c.strip()]
        if not cells:
            continue
        try:
            values.append(int(float(cells[-1])))
        except ValueError:
            if number == 1 and not values:
                continue  # a header
            raise ValueError(f"row {number}: {cells[-1]!r} is not a number of agents") from None
    if not values:
        raise ValueError("no intervals in the requirement")
    return values


def _schedule_csv(schedule: Schedule, minutes: int) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["agent", "template", "start", "end", "start_time", "end_time", "breaks"])

    def clock(i: int) -> str:
        day, minute = divmod(i * minutes, 1440)
        return f"d{day + 1} {minute // 60:02d}:{minute % 60:02d}"

    for agent, shifts in schedule.shifts.items():
        for s in shifts:
            breaks = " ".join(f"{clock(b0)}-{clock(b1)}" for b0, b1 in s.breaks)
            writer.writerow([agent, s.template, s.start, s.end, clock(s.start), clock(s.end), breaks])
    return out.getvalue()


@app.command()
def schedule(
    requirement: Annotated[Path, typer.Argument(help="CSV: agents needed per interval.")],
    rules: Annotated[Path, typer.Option(help="JSON or YAML: templates, agents, interval_minutes, under_penalty.")],
    out: Annotated[Path | None, typer.Option(help="Write here (.csv or .json); default: CSV on stdout.")] = None,
    time_limit: Annotated[float | None, typer.Option(help="Seconds the solver may take (default: the rules').")] = None,
    workers: Annotated[int, typer.Option(help="Solver threads.")] = 2,
) -> None:
    """Shifts per agent covering the requirement at least cost (OR-Tools CP-SAT)."""
    from infolinia.wfm.schedule import ScheduleError, solve
    from infolinia.wfm.sim_schemas import ScheduleRulesIn

    try:
        needed = read_requirement(requirement.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise _fail(f"{requirement}: {exc}") from exc
    data = _load(rules)
    if not isinstance(data, dict):
        raise _fail(f"{rules}: the rules are a mapping (templates, agents, ...)")
    try:
        parsed = ScheduleRulesIn.model_validate(data)
        problem = parsed.problem(needed)
        result = solve(problem, time_limit or parsed.time_limit_s, workers=workers)
    except ValidationError as exc:
        raise _fail(_explain(exc)) from exc
    except ScheduleError as exc:
        raise _fail(str(exc)) from exc
    as_json = out is not None and out.suffix.lower() == ".json"
    text = json.dumps(result.as_dict(), indent=1) if as_json else _schedule_csv(result, problem.interval_minutes)
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
    typer.secho(f"{result.status}: cost {result.cost:.2f} (shifts {result.shift_cost:.2f}), "
                f"{sum(result.short)} agent-intervals short, {result.wall_s:.1f} s", err=True)  # fmt: skip
