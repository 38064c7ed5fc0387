"""The ``infolinia`` command: serve, db, admin, kb."""

from __future__ import annotations

import asyncio
import getpass
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from pydantic import ValidationError

from infolinia.config import Settings, SettingsError, database_url_from_env
from infolinia.errors import DomainError
from infolinia.wfm import cli as wfm_cli
from infolinia.wfm.sim_cli import app as wfm_app

app = typer.Typer(help="infolinia: a self-hosted contact center.", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
admin_app = typer.Typer(help="Tenants and users, from the shell.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(admin_app, name="admin")
kb_app = typer.Typer(help="The knowledge base.", no_args_is_help=True)
app.add_typer(kb_app, name="kb")
wfm_cli.register(app)  # staffing, forecast
app.add_typer(wfm_app)  # simulate, schedule (wfm/sim_cli.py)

DbOption = Annotated[
    str | None, typer.Option("--db", help="Database URL (default: $INFOLINIA_DATABASE_URL or ./infolinia.db)")
]


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(1)


def _explain(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())


@contextmanager
def _errors() -> Iterator[None]:
    """Expected failures end with one ``error:`` line and exit status 1, never a traceback."""
    from sqlalchemy.exc import SQLAlchemyError

    from infolinia.server import ListenError
    from infolinia.store.db import DatabaseURLError
    from infolinia.voice.prompts.generate import PromptError

    try:
        yield
    except (DomainError, SettingsError, DatabaseURLError, ListenError, PromptError) as exc:
        raise _fail(str(exc)) from exc
    except (SQLAlchemyError, OSError) as exc:
        raise _fail(f"cannot use the database: {exc.__class__.__name__}: {str(exc).splitlines()[0]}") from exc


@app.command()
def serve(
    demo: Annotated[bool, typer.Option("--demo", help="Seed the demo tenants into an empty database.")] = False,
    host: Annotated[str | None, typer.Option(help="Address to listen on [$INFOLINIA_HOST or 127.0.0.1].")] = None,
    http_port: Annotated[int | None, typer.Option(help="HTTP port [$INFOLINIA_HTTP_PORT or 8080].")] = None,
    sip_port: Annotated[
        int | None,
        typer.Option(help="SIP port, UDP and TCP [$INFOLINIA_SIP_PORT or 5060] (agents' softphones register here)."),
    ] = None,
    smtp_port: Annotated[
        int | None, typer.Option(help="SMTP port for inbound e-mail [$INFOLINIA_SMTP_PORT or 2525].")
    ] = None,
    rtp_ports: Annotated[
        str | None, typer.Option(help="UDP ports for call audio, LOW-HIGH [$INFOLINIA_RTP_PORTS or 10000-20000].")
    ] = None,
    data_dir: Annotated[
        str | None, typer.Option(help="Folder for prompts, recordings, voicemail [$INFOLINIA_DATA_DIR or data].")
    ] = None,
    demo_always_open: Annotated[
        bool, typer.Option("--demo-always-open", help="Treat every tenant as open at any hour (demos, tests).")
    ] = False,
    db: DbOption = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning, error")] = "info",
) -> None:
    """Run the contact center in one process: migrations, then HTTP (API and health), SIP/RTP and SMTP."""
    from infolinia import server

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with _errors():
        settings = Settings.from_env(
            database_url=db, host=host, http_port=http_port, sip_port=sip_port, smtp_port=smtp_port,
            rtp_ports=rtp_ports, data_dir=data_dir, always_open=demo_always_open or None,
        )  # fmt: skip
        server.run(settings, demo_data=demo, log_level=log_level)


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None, revision: str = "head") -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    from infolinia.store import db as store

    url = database_url_from_env(db)
    with _errors():
        store.upgrade(url, revision)
        typer.echo(f"database at revision {store.current_revision(url)}")


@db_app.command("downgrade")
def db_downgrade(revision: str, db: DbOption = None) -> None:
    """Revert migrations down to REVISION ('base' empties the schema)."""
    from infolinia.store import db as store

    url = database_url_from_env(db)
    with _errors():
        store.downgrade(url, revision)
        typer.echo(f"database at revision {store.current_revision(url) or 'empty'}")


@db_app.command("current")
def db_current(db: DbOption = None) -> None:
    """Print the applied revision."""
    from infolinia.store import db as store

    with _errors():
        typer.echo(store.current_revision(database_url_from_env(db)) or "empty")


@kb_app.command("reindex")
def kb_reindex(
    tenant: Annotated[str | None, typer.Option(help="Tenant slug (default: every tenant).")] = None,
    db: DbOption = None,
) -> None:
    """Stem and index every article again (after an upgrade of the stemmer), and make the semantic search's
    embeddings that are missing or stale (when INFOLINIA_KB_SEMANTIC allows and the model is installed)."""
    from sqlalchemy import select

    from infolinia.kb.actions import fill_embeddings, reindex
    from infolinia.kb.semantic import Embedder
    from infolinia.store import db as store
    from infolinia.store.models import Tenant
    from infolinia.store.uow import Who, write

    url = database_url_from_env(db)

    async def go(embedder: Embedder) -> tuple[int, int]:
        database = store.Database(url)
        try:
            async with write(database, None, Who(None, f"cli:{getpass.getuser()}")) as tx:
                tenant_id = None
                if tenant is not None:
                    tenant_id = await tx.session.scalar(select(Tenant.id).where(Tenant.slug == tenant))
                    if tenant_id is None:
                        raise DomainError(f"no tenant {tenant!r}")
                indexed = await reindex(tx, tenant_id)
            return indexed, await fill_embeddings(database, embedder, tenant_id)
        finally:
            await database.dispose()

    with _errors():
        embedder = Embedder(Settings.from_env().kb_semantic)
        store.upgrade(url)
        indexed, embedded = asyncio.run(go(embedder))
        typer.echo(f"indexed {indexed} article(s)")
        if embedder.state in ("idle", "ready"):
            typer.echo(f"embedded {embedded} article(s)")
        else:
            typer.echo(f"semantic search: {embedder.error or embedder.state.replace('_', ' ')}; no embeddings made")


@admin_app.command("create-tenant")
def create_tenant(
    slug: Annotated[str, typer.Option(help="Short name used in URLs, e.g. 'acme'.")],
    name: Annotated[str, typer.Option(help="Display name.")],
    timezone: Annotated[str, typer.Option(help="IANA time zone.")] = "Europe/Warsaw",
    country: Annotated[str, typer.Option(help="ISO country for phone numbers without a prefix.")] = "PL",
    languages: Annotated[str, typer.Option(help="Comma-separated language codes.")] = "pl,en",
    db: DbOption = None,
) -> None:
    """Create a tenant (a client company), with no business hours until an admin sets them."""
    from infolinia.schemas import TenantIn

    try:
        data = TenantIn(
            slug=slug,
            name=name,
            timezone=timezone,
            country=country,
            languages=[x.strip() for x in languages.split(",") if x.strip()],
        )
    except ValidationError as exc:
        raise _fail(_explain(exc)) from exc
    tenant_id = _run_admin(database_url_from_env(db), "tenant", data, None)
    typer.echo(f"created tenant {slug} (id {tenant_id})")


@admin_app.command("create-user")
def create_user(
    email: Annotated[str, typer.Option(help="Login e-mail.")],
    role: Annotated[str, typer.Option(help="platform_admin, tenant_admin, supervisor, agent or back_office.")],
    tenant: Annotated[str | None, typer.Option(help="Tenant slug (none for platform_admin).")] = None,
    name: Annotated[str | None, typer.Option(help="Display name (default: the e-mail).")] = None,
    password: Annotated[str | None, typer.Option(help="Password; default $INFOLINIA_PASSWORD or a prompt.")] = None,
    db: DbOption = None,
) -> None:
    """Create a user. The password is asked for when not given (or read from $INFOLINIA_PASSWORD)."""
    from infolinia.schemas import UserIn

    secret = password or os.environ.get("INFOLINIA_PASSWORD")
    if secret is None:
        if not sys.stdin.isatty():
            raise _fail("no password: pass --password, set INFOLINIA_PASSWORD, or run in a terminal")
        secret = getpass.getpass("Password: ")
    try:
        data = UserIn(email=email, display_name=name or email, role=role, password=secret)
    except ValidationError as exc:
        raise _fail(_explain(exc)) from exc
    user_id = _run_admin(database_url_from_env(db), "user", data, tenant)
    typer.echo(f"created user {data.email} (id {user_id}, {data.role.value})")


def _run_admin(url: str, kind: str, data: object, tenant_slug: str | None) -> int:
    from sqlalchemy import select

    from infolinia.auth.actions import create_user as create_user_action
    from infolinia.schemas import TenantIn, UserIn
    from infolinia.store import db as store
    from infolinia.store.models import Tenant
    from infolinia.store.uow import Who, write
    from infolinia.tenants.actions import create_tenant as create_tenant_action

    async def go() -> int:
        database = store.Database(url)
        try:
            async with write(database, None, Who(None, f"cli:{getpass.getuser()}")) as tx:
                if isinstance(data, TenantIn):
                    return (await create_tenant_action(tx, data)).id
                assert isinstance(data, UserIn)
                tenant_id = None
                if tenant_slug is not None:
                    tenant_id = await tx.session.scalar(select(Tenant.id).where(Tenant.slug == tenant_slug))
                    if tenant_id is None:
                        raise DomainError(f"no tenant {tenant_slug!r}")
                min_length = Settings.from_env().min_password_length
                return (await create_user_action(tx, tenant_id, data, min_password_length=min_length)).id
        finally:
            await database.dispose()

    with _errors():
        store.upgrade(url)
        return asyncio.run(go())
    raise AssertionError("unreachable")  # pragma: no cover


def main() -> None:
    app()
