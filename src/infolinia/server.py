"""``infolinia serve``: migrate, optionally seed the demo, then run every part in one uvloop event loop."""

from __future__ import annotations

import asyncio
import logging
import socket

import uvicorn
import uvloop

from infolinia import demo
from infolinia.app import Infolinia
from infolinia.channels.email.listener import smtp_socket
from infolinia.config import Settings
from infolinia.store import db as store
from infolinia.voice.sip.transport import tcp_socket, udp_socket

log = logging.getLogger(__name__)


class ListenError(OSError):
    pass


def _listen(host: str, port: int) -> socket.socket:
    """Bind the HTTP socket first, so a port in use is reported before anything else happens."""
    try:
        sock = socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET)
    except OSError as exc:
        raise ListenError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    sock.set_inheritable(True)
    return sock


def _listen_udp(host: str, port: int) -> socket.socket:
    """Bind the SIP/UDP socket before anything else too, for the same reason."""
    try:
        return udp_socket(host, port)
    except OSError as exc:
        raise ListenError(f"cannot listen on SIP/UDP {host}:{port}: {exc.strerror or exc}") from exc


def _listen_sip(host: str, port: int, tcp: bool) -> tuple[socket.socket, socket.socket | None]:
    """SIP/UDP and, with ``tcp``, SIP/TCP on the same port (port 0: one free for both)."""
    for _ in range(20):
        udp = _listen_udp(host, port)
        if not tcp:
            return udp, None
        try:
            return udp, tcp_socket(host, udp.getsockname()[1])
        except OSError as exc:
            udp.close()
            if port:
                raise ListenError(f"cannot listen on SIP/TCP {host}:{port}: {exc.strerror or exc}") from exc
    raise ListenError(f"no port free for both SIP/UDP and SIP/TCP on {host}")


def _listen_smtp(settings: Settings) -> socket.socket | None:
    """The SMTP socket (when SMTP is on), bound before anything else too."""
    if not settings.smtp:
        return None
    try:
        return smtp_socket(settings.host, settings.smtp_port)
    except OSError as exc:
        raise ListenError(f"cannot listen on SMTP {settings.host}:{settings.smtp_port}: {exc.strerror or exc}") from exc


def run(settings: Settings, *, demo_data: bool = False, log_level: str = "info") -> None:
    sock = _listen(settings.host, settings.http_port)
    try:
        sip_sock, sip_tcp = _listen_sip(settings.host, settings.sip_port, settings.sip_tcp)
    except ListenError:
        sock.close()
        raise
    try:
        smtp = _listen_smtp(settings)
    except ListenError:
        for s in (sock, sip_sock, sip_tcp):
            if s is not None:
                s.close()
        raise
    try:
        store.upgrade(settings.database_url)
        uvloop.run(_serve(settings, sock, sip_sock, sip_tcp, smtp, seed_demo=demo_data, log_level=log_level))
    finally:
        sock.close()
        sip_sock.close()
        if sip_tcp is not None:
            sip_tcp.close()
        if smtp is not None:
            smtp.close()


async def _serve(
    settings: Settings,
    sock: socket.socket,
    sip_sock: socket.socket,
    sip_tcp: socket.socket | None,
    smtp: socket.socket | None,
    *,
    seed_demo: bool,
    log_level: str,
) -> None:
    center = Infolinia(settings, sip_socket=sip_sock, sip_tcp_socket=sip_tcp, smtp_socket=smtp)
    base_url = f"http://{settings.host}:{settings.http_port}"
    await center.prompts.start()  # here, not only in the app's start-up, so a failure ends serve with its reason
    if seed_demo:
        seeded = await demo.seed(center.db)
        print("Seeded the demo tenants." if seeded else "Database already has tenants; demo not re-seeded.")
        print(demo.logins_text(base_url), flush=True)
    config = uvicorn.Config(
        center.http_app(),
        host=settings.host,
        port=settings.http_port,
        log_level=log_level,
        access_log=False,
        lifespan="on",
        ws="websockets-sansio",
        # no permessage-deflate: the sockets carry small JSON frames, which compression barely shrinks, and it was a
        # measured share of the chat's CPU per line (bench/chat.py, docs/chat.md)
        ws_per_message_deflate=False,
        ws_max_size=settings.max_body_bytes,
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies or None,
    )
    server = uvicorn.Server(config)
    log.info(
        "infolinia listening on %s (database %s)",
        base_url,
        store.parse_url(settings.database_url).render_as_string(),
    )
    await server.serve(sockets=[sock])
    await asyncio.sleep(0)
