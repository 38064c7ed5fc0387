"""The SIP shell: moves messages between the sockets (UDP, and TCP connections) and the pure
``TransactionLayer``, and time into it.

Bad input never raises out of ``datagram_received`` or a connection's ``data_received``: a request that parsed far
enough is answered 400/416/505, anything else is dropped and counted (``counters``); a TCP stream that cannot be
framed any more is closed (after the 400, when one is due). Responses go back to the request's source (RFC 3581:
``received`` and ``rport`` are filled into the top Via), over the connection it came on when it came over TCP
(RFC 3261 §18.2.2). One ``loop.call_at`` follows ``next_deadline()``.

TCP (RFC 3261 §18): ``SipStream`` is one accepted connection, framed by Content-Length (``Framer``). A peer is
still a (host, port) pair: the transport sends to a peer that has a connection open over it, with its top Via
saying TCP, our Contact asking for TCP, and without retransmits (``reliable`` transactions), and to others over
UDP. A peer whose connection has closed stays known as a TCP peer (the last ``TCP_GONE_KEEP`` of them): a request
to it fails at once (503, as a transport error) instead of going to a UDP port nobody listens on; the phone
registers again over a new connection. The server opens no connections itself. Limits: ``MAX_STREAMS``
connections, ``MAX_STREAMS_PER_HOST`` from one address, a partial message held at most ``PARTIAL_S`` seconds, a
silent connection closed after ``IDLE_S``.
Requests the transaction layer delivers go to a handler per method; OPTIONS is answered here, other methods 405
(known to SIP) or 501.

Calls need more than one answer per request, so three more paths serve them:

- a new INVITE (no To tag) goes to ``on_invite`` as a ``ServerInvite`` the call answers through ``respond`` (1xx
  as often as it likes, then one final response); a CANCEL that matches it is answered 200 here and reported to
  the ``ServerInvite.on_cancel`` the call set; an unmatched CANCEL gets 481;
- a request with a To tag belongs to a dialog: it goes to the ``DialogUser`` registered with ``add_dialog``
  (BYE, re-INVITE, INFO, and the ACK of a 2xx, which has no transaction); no such dialog: 481 (an ACK is dropped);
- ``send_request`` starts a client transaction (an INVITE to an agent's phone, a BYE) and hands each response to
  a callback; a timeout or transport error comes back as a 408 or 503 made here (RFC 3261 §8.1.3.1).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable
from typing import Protocol, cast

from .builders import response_to
from .dialog import DialogId, request_dialog_id
from .errors import SipError
from .framer import Framer
from .grammar import split_list
from .layer import TransactionLayer
from .limits import MAX_MESSAGE_SIZE
from .message import Request, Response
from .parser import parse
from .transaction import Deliver, Event, Rejected, Terminated, TimedOut, TransactionKey, Transmit, TransportError

log = logging.getLogger(__name__)

Peer = tuple[str, int]
Handler = Callable[[Request, Peer], Awaitable[Response]]
ResponseCallback = Callable[[Response], None]
RECEIVE_BUFFER = 4 * 1024 * 1024
MAX_STREAMS = 4096
MAX_STREAMS_PER_HOST = 64
PARTIAL_S = 32.0  # a message begun and not finished within this long: the connection is closed (slow senders)
IDLE_S = 7200.0  # no byte (not even a CRLF keep-alive) for this long: the connection is closed
SWEEP_S = 5.0
TCP_GONE_KEEP = 10_000
KNOWN_METHODS = frozenset(
    {"INVITE", "ACK", "BYE", "CANCEL", "REGISTER", "OPTIONS", "PRACK", "SUBSCRIBE", "NOTIFY", "PUBLISH", "INFO",
     "REFER", "MESSAGE", "UPDATE"}
)  # fmt: skip


def udp_socket(host: str, port: int) -> socket.socket:
    """A bound, non-blocking UDP socket with a large receive buffer (raises OSError when the port is taken)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def tcp_socket(host: str, port: int) -> socket.socket:
    """A bound, listening, non-blocking TCP socket (raises OSError when the port is taken)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(512)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


class ServerInvite:
    """An INVITE waiting for its final response; ``on_cancel`` is called once if the caller cancels it first."""

    __slots__ = ("key", "on_cancel", "peer", "request")

    def __init__(self, key: TransactionKey, request: Request, peer: Peer) -> None:
        self.key, self.request, self.peer = key, request, peer
        self.on_cancel: Callable[[], None] | None = None


class DialogUser(Protocol):
    def in_dialog(self, key: TransactionKey | None, request: Request, peer: Peer) -> None:
        """A request inside the dialog; ``key`` is None for an ACK (answer others with ``SipTransport.respond``)."""


class SipTransport(asyncio.DatagramProtocol):
    def __init__(self, handlers: dict[str, Handler], layer: TransactionLayer | None = None) -> None:
        self.handlers = handlers
        self.on_invite: Callable[[ServerInvite], None] | None = None
        self._invites: dict[TransactionKey, ServerInvite] = {}
        self._dialogs: dict[DialogId, DialogUser] = {}
        self._clients: dict[TransactionKey, tuple[Request, ResponseCallback]] = {}
        self.layer = layer if layer is not None else TransactionLayer()  # an empty layer is falsy (len 0)
        self.counters: Counter[str] = Counter()
        self._transport: asyncio.DatagramTransport | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._armed: float | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._streams: dict[Peer, SipStream] = {}
        self._per_host: Counter[str] = Counter()
        self._tcp_gone: OrderedDict[Peer, None] = OrderedDict()
        self._sweeper: asyncio.TimerHandle | None = None

    # --- lifecycle ---------------------------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self._transport is not None and not self._transport.is_closing()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.DatagramTransport, transport)  # uvloop's is not a subclass

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        if self._timer is not None:
            self._timer.cancel()

    def stream(self) -> SipStream:
        """A protocol for one accepted TCP connection (``loop.create_server(transport.stream, sock=...)``)."""
        return SipStream(self)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for stream in list(self._streams.values()):
            stream.close()
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        if self._transport is not None:
            self._transport.close()
            await asyncio.sleep(0)

    def stats(self) -> dict[str, int]:
        return {
            **self.counters, "transactions": len(self.layer), "stray_responses": self.layer.stray_responses,
            "dialogs": len(self._dialogs), "tcp_connections": len(self._streams),
        }  # fmt: skip

    @property
    def local_address(self) -> Peer | None:
        if self._transport is None:
            return None
        name = self._transport.get_extra_info("sockname")
        return None if name is None else (str(name[0]), int(name[1]))

    # --- for calls ---------------------------------------------------------------------------------------------

    def add_dialog(self, dialog: DialogId, user: DialogUser) -> None:
        self._dialogs[dialog] = user

    def remove_dialog(self, dialog: DialogId) -> None:
        self._dialogs.pop(dialog, None)

    def respond(self, key: TransactionKey, response: Response) -> None:
        """Send ``response`` in server transaction ``key`` (dropped if the transaction is gone)."""
        if response.status >= 200 and response.cseq.method == "INVITE":
            self._invites.pop(key, None)
        self._respond(key, response)

    def send_request(self, request: Request, peer: Peer, on_response: ResponseCallback) -> TransactionKey:
        """Start a client transaction; every response (a made-up 408/503 on timeout/transport error) goes to
        ``on_response``. Raises ``TransactionError`` when the layer is full or the request is not sendable."""
        reliable = peer in self._streams
        key, events = self.layer.send_request(request, self._now(), peer, reliable)
        self._clients[key] = (request, on_response)
        if peer in self._tcp_gone:  # its connection closed: nowhere to send it
            self.counters["tcp_gone"] += 1
            events = self.layer.transport_error(key, self._now())
        self._process(events)
        return key

    def send_stateless(self, message: Request | Response, peer: Peer) -> None:
        """Send without a transaction: the ACK of a 2xx, a 2xx retransmitted after its transaction ended."""
        self._send(message, peer)

    # --- from the network --------------------------------------------------------------------------------------

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        peer = (str(addr[0]), int(addr[1]))
        self.counters["received"] += 1
        if len(data) > MAX_MESSAGE_SIZE:
            self.counters["oversized"] += 1
            return
        if not data.strip(b"\r\n"):  # keep-alive (RFC 5626 §3.5.1)
            return
        try:
            message = parse(data)
        except SipError as error:
            self._malformed(error, peer)
            return
        self._message(message, peer, reliable=False)

    def _message(self, message: Request | Response, peer: Peer, reliable: bool) -> None:
        """A parsed message from ``peer`` (one whose Via cannot be read is answered 400)."""
        if isinstance(message, Request):
            try:
                stamp_via(message, peer)
            except SipError as error:
                self._malformed(SipError(error.reason, status=400, request=message), peer)
                return
        self._process(self.layer.receive(message, self._now(), peer, reliable), peer)

    # --- TCP connections ---------------------------------------------------------------------------------------

    def _stream_opened(self, stream: SipStream) -> bool:
        """A new connection; False (and it is closed) when over the limits."""
        peer = stream.peer
        if len(self._streams) >= MAX_STREAMS or self._per_host[peer[0]] >= MAX_STREAMS_PER_HOST:
            self.counters["tcp_refused"] += 1
            return False
        old = self._streams.get(peer)
        if old is not None:
            old.close()
        self._streams[peer] = stream
        self._per_host[peer[0]] += 1
        self._tcp_gone.pop(peer, None)
        self.counters["tcp_accepted"] += 1
        if self._sweeper is None:
            self._sweeper = asyncio.get_running_loop().call_later(SWEEP_S, self._sweep)
        return True

    def _stream_closed(self, stream: SipStream) -> None:
        peer = stream.peer
        if self._streams.get(peer) is not stream:
            return
        del self._streams[peer]
        self._per_host[peer[0]] -= 1
        if self._per_host[peer[0]] <= 0:
            del self._per_host[peer[0]]
        self._tcp_gone[peer] = None
        while len(self._tcp_gone) > TCP_GONE_KEEP:
            self._tcp_gone.popitem(last=False)

    def _stream_data(self, stream: SipStream, data: bytes) -> None:
        if stream.framer.broken:  # closing already
            return
        try:
            messages = stream.framer.feed(data)
        except SipError as error:
            self.counters["tcp_broken"] += 1
            self._malformed(error, stream.peer)  # the 400 goes out on the stream before it closes
            stream.close()
            return
        for message in messages:
            self.counters["received"] += 1
            self.counters["tcp_received"] += 1
            self._message(message, stream.peer, reliable=True)

    def _sweep(self) -> None:
        now = self._now()
        for stream in list(self._streams.values()):
            if now - stream.last_data >= IDLE_S or (stream.partial_since is not None
                                                    and now - stream.partial_since >= PARTIAL_S):  # fmt: skip
                self.counters["tcp_timed_out"] += 1
                stream.close()
        self._sweeper = asyncio.get_running_loop().call_later(SWEEP_S, self._sweep) if self._streams else None

    def error_received(self, exc: Exception) -> None:
        self.counters["socket_errors"] += 1
        log.debug("SIP socket error: %s", exc)

    def _malformed(self, error: SipError, peer: Peer) -> None:
        self.counters["malformed"] += 1
        log.debug("bad SIP message from %s: %s", peer, error.reason)
        if error.status is not None and error.request is not None:
            try:
                self._send(response_to(error.request, error.status), peer)
            except (SipError, ValueError):
                return
            self.counters["answered_malformed"] += 1

    # --- events from the transaction layer ---------------------------------------------------------------------

    def _process(self, events: list[Event], source: Peer | None = None) -> None:
        for event in events:
            if isinstance(event, Transmit):
                self._send(event.message, event.peer or source)
            elif isinstance(event, Deliver):
                self._delivered(event, event.peer or source)
            elif isinstance(event, Rejected):
                self._rejected(event, event.peer or source)
            elif isinstance(event, TimedOut | TransportError):
                self._client_failed(event.key, 408 if isinstance(event, TimedOut) else 503)
            elif isinstance(event, Terminated):
                self._clients.pop(event.key, None)
                self._invites.pop(event.key, None)
        self._rearm()

    def _delivered(self, event: Deliver, peer: Peer | None) -> None:
        message = event.message
        if isinstance(message, Response):
            client = self._clients.get(event.key) if event.key is not None else None
            if client is not None:
                self._callback(client[1], message)
        elif peer is None:
            return
        elif event.key is None:  # the ACK of a 2xx: the dialog's
            user = self._dialogs.get(request_dialog_id(message)) if message.method == "ACK" else None
            if user is not None:
                self._callback(user.in_dialog, None, message, peer)
        elif message.method == "CANCEL":
            self._cancel(event.key, event.cancels)
        elif message.to.tag is not None:
            self._in_dialog(event.key, message, peer)
        else:
            self._deliver(event.key, message, peer)

    def _in_dialog(self, key: TransactionKey, request: Request, peer: Peer) -> None:
        user = self._dialogs.get(request_dialog_id(request))
        if user is None:
            self.counters["no_dialog"] += 1
            self._respond(key, response_to(request, 481))
            return
        self._callback(user.in_dialog, key, request, peer)

    def _cancel(self, key: TransactionKey, invite_key: TransactionKey | None) -> None:
        tx = self.layer.get(key)
        if tx is None:
            return
        invite = self._invites.pop(invite_key, None) if invite_key is not None else None
        self._respond(key, response_to(tx.request, 481 if invite is None else 200))
        if invite is not None and invite.on_cancel is not None:
            self._callback(invite.on_cancel)

    def _client_failed(self, key: TransactionKey, status: int) -> None:
        client = self._clients.pop(key, None)
        if client is not None:
            self.counters[f"client_{status}"] += 1
            self._callback(client[1], response_to(client[0], status))

    def _callback(self, fn: Callable[..., None], *args: object) -> None:
        try:
            fn(*args)
        except Exception:  # a call's bug must not stop the transport
            log.exception("SIP callback failed")

    def _rejected(self, event: Rejected, peer: Peer | None) -> None:
        self.counters[f"rejected_{event.reason}"] += 1
        if event.message.method != "ACK" and peer is not None:
            self._send(response_to(event.message, 503 if event.reason == "overloaded" else 400), peer)

    def _deliver(self, key: TransactionKey, request: Request, peer: Peer) -> None:
        if request.method == "INVITE" and self.on_invite is not None:
            invite = self._invites[key] = ServerInvite(key, request, peer)
            self._callback(self.on_invite, invite)
            return
        if request.method == "OPTIONS":
            self._respond(key, self._options(request))
            return
        handler = self.handlers.get(request.method)
        if handler is None:
            status = 405 if request.method in KNOWN_METHODS else 501
            self._respond(key, self._with_allow(response_to(request, status)))
            return
        task = asyncio.get_running_loop().create_task(self._handle(handler, key, request, peer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _handle(self, handler: Handler, key: TransactionKey, request: Request, peer: Peer) -> None:
        try:
            response = await handler(request, peer)
        except Exception:  # the peer still gets an answer; the server keeps serving
            log.exception("%s handler failed", request.method)
            response = response_to(request, 500)
        self._respond(key, response)

    def _respond(self, key: TransactionKey, response: Response) -> None:
        if self.layer.get(key) is None:
            return  # the transaction is gone (timed out) while the handler worked
        self._process(self.layer.send_response(key, response, self._now()))

    def _options(self, request: Request) -> Response:
        return self._with_allow(response_to(request, 200))

    def _with_allow(self, response: Response) -> Response:
        calls = ("ACK", "BYE", "CANCEL", "INVITE") if self.on_invite is not None else ()
        response.headers.add("Allow", ", ".join(["OPTIONS", *sorted({*self.handlers, *calls})]))
        return response

    # --- out and time ------------------------------------------------------------------------------------------

    def _send(self, message: Request | Response, peer: Peer | None) -> None:
        if peer is None:
            return
        stream = self._streams.get(peer)
        if stream is not None:
            if isinstance(message, Request):
                via_over_tcp(message)
            if self.local_address is not None:
                contact_over_tcp(message, self.local_address)
            stream.write(bytes(message))
            self.counters["sent"] += 1
            return
        if self._transport is None or peer in self._tcp_gone:
            return
        self._transport.sendto(bytes(message), peer)
        self.counters["sent"] += 1

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    def _rearm(self) -> None:
        due = self.layer.next_deadline()
        if due == self._armed:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._armed = due
        self._timer = None if due is None else asyncio.get_running_loop().call_at(due, self._fire)

    def _fire(self) -> None:
        self._timer = self._armed = None
        self._process(self.layer.timeout(self._now()))


class SipStream(asyncio.Protocol):
    """One accepted TCP connection: bytes in through a ``Framer`` to the transport, bytes out."""

    def __init__(self, owner: SipTransport) -> None:
        self.owner = owner
        self.framer = Framer()
        self.peer: Peer = ("", 0)
        self.last_data = 0.0
        self.partial_since: float | None = None  # when the message now being framed began
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        name = transport.get_extra_info("peername")
        self.peer = (str(name[0]), int(name[1]))
        self.last_data = self.owner._now()
        if not self.owner._stream_opened(self):
            self._transport.abort()
            self._transport = None

    def data_received(self, data: bytes) -> None:
        if self._transport is None:
            return
        self.last_data = now = self.owner._now()
        self.owner._stream_data(self, data)
        pending = self.framer.pending
        self.partial_since = None if not pending else self.partial_since or now

    def eof_received(self) -> bool | None:
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        self.owner._stream_closed(self)

    def write(self, data: bytes) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()  # what was written still goes out


def via_over_tcp(request: Request) -> None:
    """The top Via of a request this end sends over TCP says so (§18.1.1)."""
    fields = request.headers.get_all("Via")
    if not fields or not fields[0].upper().startswith("SIP/2.0/UDP"):
        return
    request.headers.set("Via", ", ".join(["SIP/2.0/TCP" + fields[0][len("SIP/2.0/UDP") :], *fields[1:]]))


def contact_over_tcp(message: Request | Response, us: Peer) -> None:
    """Our own Contact in a message sent over TCP asks for TCP (``;transport=tcp``): the peer's requests in the
    dialog (the ACK, a BYE) then come over TCP too, not over UDP as a bare sip: URI would have them."""
    values = message.headers.get_all("Contact")
    ours = f"@{us[0]}:{us[1]}>"
    if len(values) != 1 or ours not in values[0] or "transport=" in values[0].lower():
        return
    message.headers.set("Contact", values[0].replace(ours, f"@{us[0]}:{us[1]};transport=tcp>", 1))


def stamp_via(request: Request, peer: Peer) -> None:
    """RFC 3261 §18.2.1 and RFC 3581 §4: note in the top Via where the request really came from."""
    vias = request.via
    if not vias:
        return
    top = vias[0]
    params = [p for p in top.params if p[0].lower() not in ("received", "rport")]
    if top.rport is not False or top.host != peer[0]:
        params.append(("received", peer[0]))
    if top.rport is not False:
        params.append(("rport", str(peer[1])))
    first, *rest = request.headers.get_all("Via")
    items = split_list(first)
    items[0] = str(type(top)(top.transport, top.host, top.port, tuple(params), top.protocol))
    request.headers.set("Via", ", ".join([*items, *rest]))  # one field, in the place of the first, order kept
