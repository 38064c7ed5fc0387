"""RFC 3261 §17 transactions: the four machines with explicit time, the layer's matching, two ends in memory."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.lossy import LossyChannel

from infolinia.voice.sip import (
    Deliver,
    Event,
    Headers,
    Rejected,
    Request,
    Response,
    State,
    Terminated,
    TimedOut,
    Timer,
    Timers,
    TransactionError,
    TransactionKey,
    TransactionLayer,
    TransactionLimitError,
    Transmit,
    TransportError,
    new_branch,
    parse,
    parse_uri,
)
from infolinia.voice.sip.transaction import (
    INVITE_CLIENT,
    INVITE_SERVER,
    NON_INVITE_CLIENT,
    NON_INVITE_SERVER,
    ClientTransaction,
    Input,
    InviteClientTransaction,
    InviteServerTransaction,
    NonInviteClientTransaction,
    NonInviteServerTransaction,
    ServerTransaction,
    Table,
    Transaction,
)

PEER = ("192.0.2.20", 5060)


def request(method: str, branch: str, cseq: int = 1, host: str = "192.0.2.10:5060") -> Request:
    headers = Headers(
        [
            ("Via", f"SIP/2.0/UDP {host};branch={branch}"),
            ("Max-Forwards", "70"),
            ("Route", "<sip:proxy.example.com;lr>"),
            ("From", "<sip:alice@example.com>;tag=a1"),
            ("To", "<sip:800100200@pbx.example.com>"),
            ("Call-ID", "c1@example.com"),
            ("CSeq", f"{cseq} {method}"),
            ("Timestamp", "54"),
            ("Content-Length", "0"),
        ]
    )
    return Request(method, parse_uri("sip:800100200@pbx.example.com"), headers)


def response(req: Request, status: int, tag: str | None = "b2") -> Response:
    headers = Headers((n, v) for n, v in req.headers if n in ("Via", "From", "To", "Call-ID", "CSeq"))
    if tag and status > 100:
        headers.set("To", f"{headers.get('To')};tag={tag}")
    headers.add("Content-Length", "0")
    return Response(status, "Reason", headers)


def state(layer: TransactionLayer, key: TransactionKey) -> State | None:
    tx = layer.get(key)
    return None if tx is None else tx.state


def delivered_key(events: list[Event]) -> TransactionKey:
    assert isinstance(events[0], Deliver) and events[0].key is not None
    return events[0].key


def sent(events: list[Event]) -> list[Request | Response]:
    return [e.message for e in events if isinstance(e, Transmit)]


def kinds(events: list[Event]) -> list[str]:
    return [type(e).__name__ for e in events]


def run_timers(layer: TransactionLayer, until: float) -> list[tuple[float, Event]]:
    """Advance time from deadline to deadline up to ``until``; every event with the time it came."""
    out: list[tuple[float, Event]] = []
    while (due := layer.next_deadline()) is not None and due <= until:
        out += [(due, e) for e in layer.timeout(due)]
    return out


def transmit_times(timed: list[tuple[float, Event]]) -> list[float]:
    return [round(t, 6) for t, e in timed if isinstance(e, Transmit)]


# --- INVITE client --------------------------------------------------------------------------------------------


def test_invite_client_retransmits_on_timer_a_and_times_out_on_b() -> None:
    layer = TransactionLayer()
    req = request("INVITE", new_branch())
    key, events = layer.send_request(req, 0.0, PEER)
    assert events == [Transmit(key, req, PEER)]
    assert layer.next_deadline() == 0.5
    timed = run_timers(layer, 100)
    assert transmit_times(timed) == [0.5, 1.5, 3.5, 7.5, 15.5, 31.5]
    assert [(t, type(e)) for t, e in timed[-2:]] == [(32.0, TimedOut), (32.0, Terminated)]
    assert layer.get(key) is None and len(layer) == 0 and layer.next_deadline() is None


def test_over_tcp_an_invite_client_never_retransmits_and_ends_at_once_after_a_failure() -> None:
    layer = TransactionLayer()
    req = request("INVITE", new_branch())
    key, events = layer.send_request(req, 0.0, PEER, reliable=True)
    assert events == [Transmit(key, req, PEER)]
    assert layer.next_deadline() == 32.0  # B only: no A
    busy = response(req, 486)
    events = layer.receive(busy, 1.0)
    assert sorted(kinds(events)) == ["Deliver", "Transmit"] and sent(events)[0].method == "ACK"
    assert layer.next_deadline() == 1.0  # D = 0
    assert kinds(layer.timeout(1.0)) == ["Terminated"] and len(layer) == 0


def test_over_tcp_a_non_invite_client_times_out_on_f_without_retransmits_and_k_is_zero() -> None:
    layer = TransactionLayer()
    layer.send_request(request("OPTIONS", new_branch()), 0.0, PEER, reliable=True)
    timed = run_timers(layer, 100)
    assert transmit_times(timed) == [] and [(t, type(e)) for t, e in timed] == [(32.0, TimedOut), (32.0, Terminated)]
    req = request("OPTIONS", new_branch())
    layer.send_request(req, 0.0, PEER, reliable=True)
    assert kinds(layer.receive(response(req, 200), 2.0)) == ["Deliver"]
    assert layer.next_deadline() == 2.0 and kinds(layer.timeout(2.0)) == ["Terminated"]


def test_over_tcp_a_server_sends_its_final_response_once_and_i_and_j_are_zero() -> None:
    layer = TransactionLayer()
    req = request("INVITE", new_branch())
    key = delivered_key(layer.receive(req, 0.0, PEER, reliable=True))
    layer.send_response(key, response(req, 486), 0.0)
    assert layer.next_deadline() == 32.0  # H only: no G
    assert transmit_times(run_timers(layer, 31.0)) == []
    layer.receive(request("ACK", req.via[0].branch or ""), 1.0, PEER, reliable=True)
    assert state(layer, key) is State.CONFIRMED and layer.next_deadline() == 1.0  # I = 0
    options = request("OPTIONS", new_branch())
    key = delivered_key(layer.receive(options, 2.0, PEER, reliable=True))
    layer.send_response(key, response(options, 200), 2.0)
    assert kinds(layer.timeout(2.0)) == ["Terminated", "Terminated"] and len(layer) == 0  # J = 0, and I


def test_invite_client_provisional_stops_retransmits_then_failure_is_acked() -> None:
    layer = TransactionLayer()
    req = request("INVITE", new_branch())
    key, _ = layer.send_request(req, 0.0)
    assert layer.timeout(0.5) and state(layer, key) is State.CALLING
    events = layer.receive(response(req, 180), 0.7)
    assert kinds(events) == ["Deliver"] and state(layer, key) is State.PROCEEDING
    assert layer.next_deadline() is None  # no A, no B in Proceeding
    busy = response(req, 486)
    events = layer.receive(busy, 5.0)
    assert kinds(events) == ["Transmit", "Deliver"]
    ack = sent(events)[0]
    assert isinstance(ack, Request) and ack.method == "ACK" and ack.uri == req.uri
    assert ack.headers.get("To") == busy.headers.get("To") and ack.cseq.number == 1 and ack.cseq.method == "ACK"
    assert ack.headers.get_all("Route") == req.headers.get_all("Route") and ack.via == req.via[:1]
    assert parse(bytes(ack)) == ack
    assert layer.receive(busy, 6.0) == [Transmit(key, ack, None)]  # retransmitted 486: ACK again, TU not told
    assert layer.receive(response(req, 180), 6.1) == []
    assert layer.next_deadline() == 37.0  # Timer D: 32 s
    assert kinds(layer.timeout(37.0)) == ["Terminated"] and len(layer) == 0


def test_invite_client_2xx_goes_accepted_and_passes_retransmits_and_forks_until_timer_m() -> None:
    layer = TransactionLayer()
    req = request("INVITE", new_branch())
    key, _ = layer.send_request(req, 0.0)
    ok = response(req, 200)
    assert kinds(layer.receive(ok, 0.2)) == ["Deliver"]  # no ACK: the dialog sends it
    assert state(layer, key) is State.ACCEPTED
    assert kinds(layer.receive(ok, 0.7)) == ["Deliver"]
    assert kinds(layer.receive(response(req, 200, tag="fork"), 0.8)) == ["Deliver"]
    assert layer.receive(response(req, 486), 0.9) == []
    assert layer.next_deadline() == pytest.approx(32.2)
    assert kinds(layer.timeout(32.2)) == ["Terminated"]
    assert layer.receive(ok, 33.0) == [] and layer.stray_responses == 1


def test_invite_client_failure_straight_from_calling_and_transport_errors() -> None:
    layer = TransactionLayer()
    req = request("INVITE", new_branch())
    key, _ = layer.send_request(req, 0.0)
    assert kinds(layer.receive(response(req, 503), 0.1)) == ["Transmit", "Deliver"]
    assert state(layer, key) is State.COMPLETED
    assert layer.transport_error(key, 0.2) == [TransportError(key), Terminated(key)]
    key2, _ = layer.send_request(request("INVITE", new_branch()), 1.0)
    assert layer.transport_error(key2, 1.1) == [TransportError(key2), Terminated(key2)] and len(layer) == 0


# --- non-INVITE client ----------------------------------------------------------------------------------------


def test_non_invite_client_timer_e_doubles_up_to_t2_and_f_times_out() -> None:
    layer = TransactionLayer()
    layer.send_request(request("OPTIONS", new_branch()), 0.0)
    timed = run_timers(layer, 100)
    assert transmit_times(timed) == [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    assert [type(e) for _, e in timed[-2:]] == [TimedOut, Terminated] and timed[-1][0] == 32.0


def test_non_invite_client_proceeding_retransmits_every_t2_then_completed_waits_k() -> None:
    layer = TransactionLayer()
    req = request("REGISTER", new_branch())
    key, _ = layer.send_request(req, 0.0)
    assert kinds(layer.receive(response(req, 100), 0.2)) == ["Deliver"]
    assert state(layer, key) is State.PROCEEDING
    assert transmit_times(run_timers(layer, 10)) == [0.5, 4.5, 8.5]  # E was due at 0.5; then T2
    ok = response(req, 200)
    assert kinds(layer.receive(ok, 9.0)) == ["Deliver"] and state(layer, key) is State.COMPLETED
    assert layer.receive(ok, 9.5) == []  # absorbed
    assert layer.next_deadline() == 14.0  # K = T4
    assert kinds(layer.timeout(14.0)) == ["Terminated"] and len(layer) == 0


def test_non_invite_client_final_from_trying() -> None:
    layer = TransactionLayer()
    req = request("OPTIONS", new_branch())
    key, _ = layer.send_request(req, 0.0)
    assert kinds(layer.receive(response(req, 404), 0.1)) == ["Deliver"]
    assert state(layer, key) is State.COMPLETED
    assert layer.transport_error(key, 0.2) == []  # nothing more to send: nothing to fail


# --- INVITE server --------------------------------------------------------------------------------------------


def new_server(method: str = "INVITE", now: float = 0.0) -> tuple[TransactionLayer, Request, TransactionKey]:
    layer = TransactionLayer()
    req = request(method, new_branch())
    events = layer.receive(req, now, PEER)
    assert len(events) == 1 and isinstance(events[0], Deliver) and events[0].message == req
    assert events[0].peer == PEER and events[0].key is not None
    return layer, req, events[0].key


def test_invite_server_sends_100_trying_after_200_ms_and_repeats_it_on_retransmits() -> None:
    layer, req, _ = new_server()
    assert layer.receive(req, 0.1) == []  # nothing sent yet: nothing to repeat
    events = layer.timeout(0.2)
    trying = sent(events)[0]
    assert isinstance(trying, Response) and trying.status == 100
    assert trying.headers.get("Timestamp") == "54" and trying.to.tag is None and trying.cseq == req.cseq
    assert layer.next_deadline() is None
    assert sent(layer.receive(req, 0.5)) == [trying]


def test_invite_server_no_100_when_the_tu_answers_in_time() -> None:
    layer, req, key = new_server()
    ringing = response(req, 180)
    assert sent(layer.send_response(key, ringing, 0.1)) == [ringing]
    assert layer.next_deadline() is None
    assert sent(layer.receive(req, 0.6)) == [ringing]


def test_invite_server_failure_timer_g_doubles_to_t2_and_h_times_out() -> None:
    layer, req, key = new_server()
    layer.send_response(key, response(req, 180), 0.0)
    layer.send_response(key, response(req, 486), 1.0)
    timed = run_timers(layer, 100)
    assert transmit_times(timed) == [1.5, 2.5, 4.5, 8.5, 12.5, 16.5, 20.5, 24.5, 28.5, 32.5]
    assert [type(e) for _, e in timed[-2:]] == [TimedOut, Terminated] and timed[-1][0] == 33.0


def test_invite_server_ack_confirms_and_absorbs_then_timer_i() -> None:
    layer, req, key = new_server()
    busy = response(req, 486)
    layer.send_response(key, busy, 0.0)
    assert sent(layer.receive(req, 0.3)) == [busy]  # INVITE retransmit: final again
    ack = request("ACK", req.via[0].branch or "")
    assert layer.receive(ack, 0.4) == [] and state(layer, key) is State.CONFIRMED
    assert layer.receive(ack, 0.5) == [] and layer.receive(req, 0.6) == []
    assert layer.next_deadline() == 5.4  # I = T4
    assert kinds(layer.timeout(5.4)) == ["Terminated"] and len(layer) == 0
    assert [type(e) for e in layer.receive(ack, 6.0)] == [Deliver]  # late ACK: the TU's


def test_invite_server_2xx_goes_accepted_per_rfc_6026() -> None:
    layer, req, key = new_server()
    ok = response(req, 200)
    assert sent(layer.send_response(key, ok, 0.1)) == [ok]
    assert state(layer, key) is State.ACCEPTED
    assert layer.receive(req, 0.2) == []  # INVITE retransmit absorbed, no new transaction
    assert sent(layer.send_response(key, ok, 0.6)) == [ok]  # the TU's 2xx retransmit goes out
    with pytest.raises(TransactionError):
        layer.send_response(key, response(req, 486), 0.7)
    same_branch_ack = request("ACK", req.via[0].branch or "")
    assert kinds(layer.receive(same_branch_ack, 0.8)) == ["Deliver"]
    assert layer.transport_error(key, 0.9) == [TransportError(key)] and len(layer) == 1
    assert layer.next_deadline() == pytest.approx(32.1)  # L = 64*T1
    assert kinds(layer.timeout(32.1)) == ["Terminated"] and len(layer) == 0


def test_invite_server_refuses_responses_after_the_final_one() -> None:
    layer, req, key = new_server()
    layer.send_response(key, response(req, 404), 0.0)
    with pytest.raises(TransactionError):
        layer.send_response(key, response(req, 200), 0.1)
    with pytest.raises(TransactionError):
        layer.send_response(key, response(req, 700), 0.1)


# --- non-INVITE server ----------------------------------------------------------------------------------------


def test_non_invite_server_states_and_retransmits() -> None:
    layer, req, key = new_server("OPTIONS")
    assert layer.receive(req, 0.1) == []  # Trying: absorbed
    trying = response(req, 100)
    layer.send_response(key, trying, 0.2)
    assert state(layer, key) is State.PROCEEDING
    assert sent(layer.receive(req, 0.3)) == [trying]
    ok = response(req, 200)
    assert sent(layer.send_response(key, ok, 0.4)) == [ok]
    assert sent(layer.receive(req, 0.5)) == [ok]  # lost 200: the retransmit brings it again
    with pytest.raises(TransactionError):
        layer.send_response(key, ok, 0.6)
    assert layer.next_deadline() == pytest.approx(32.4)  # J = 64*T1
    assert kinds(layer.timeout(32.4)) == ["Terminated"] and len(layer) == 0


def test_non_invite_server_final_from_trying_and_transport_error() -> None:
    layer, req, key = new_server("BYE")
    layer.send_response(key, response(req, 200), 0.0)
    assert layer.transport_error(key, 0.1) == [TransportError(key), Terminated(key)]
    with pytest.raises(TransactionError):
        layer.send_response(key, response(req, 200), 0.2)


# --- the layer: matching, bounds ------------------------------------------------------------------------------


def test_cancel_is_its_own_transaction_and_names_the_invite_it_matches() -> None:
    layer, invite, invite_key = new_server()
    branch = invite.via[0].branch or ""
    events = layer.receive(request("CANCEL", branch), 1.0, PEER)
    assert len(events) == 1 and isinstance(events[0], Deliver)
    cancel_key = delivered_key(events)
    assert events[0].cancels == invite_key and cancel_key == TransactionKey(branch, "192.0.2.10:5060", "CANCEL")
    assert len(layer) == 2
    layer.send_response(invite_key, response(invite, 487), 1.1)
    layer.send_response(cancel_key, response(request("CANCEL", branch), 200), 1.1)
    orphan = layer.receive(request("CANCEL", new_branch()), 1.2)
    assert isinstance(orphan[0], Deliver) and orphan[0].cancels is None  # the TU answers 481


def test_matching_needs_branch_sent_by_and_method() -> None:
    layer, req, _ = new_server("OPTIONS")
    other_host = request("OPTIONS", req.via[0].branch or "", host="192.0.2.99:5060")
    other_method = request("INFO", req.via[0].branch or "")
    assert kinds(layer.receive(other_host, 0.1)) == ["Deliver"]
    assert kinds(layer.receive(other_method, 0.1)) == ["Deliver"]
    assert len(layer) == 3


def test_client_matching_is_branch_and_cseq_method() -> None:
    layer = TransactionLayer()
    branch = new_branch()
    invite = request("INVITE", branch)
    layer.send_request(invite, 0.0)
    cancel_key, _ = layer.send_request(request("CANCEL", branch), 1.0)
    assert cancel_key.method == "CANCEL" and len(layer) == 2
    events = layer.receive(response(request("CANCEL", branch), 200), 1.1)
    assert [e.key for e in events if isinstance(e, Deliver)] == [cancel_key] and len(events) == 1
    assert layer.receive(response(request("INVITE", new_branch()), 200), 1.2) == []
    assert layer.stray_responses == 1
    with pytest.raises(TransactionError):
        layer.send_request(request("CANCEL", branch), 1.3)  # that one runs already


def test_requests_without_an_rfc_3261_branch_are_rejected_and_acks_go_to_the_tu() -> None:
    layer = TransactionLayer()
    old = request("INVITE", "1234")
    assert layer.receive(old, 0.0, PEER) == [Rejected(old, "no-branch", PEER)]
    ack = request("ACK", new_branch())
    assert layer.receive(ack, 0.0, PEER) == [Deliver(None, ack, PEER)]
    assert len(layer) == 0
    with pytest.raises(TransactionError):
        layer.send_request(request("OPTIONS", "no-cookie"), 0.0)
    with pytest.raises(TransactionError):
        layer.send_request(ack, 0.0)


def test_the_layer_is_bounded() -> None:
    layer = TransactionLayer(max_transactions=2)
    layer.send_request(request("OPTIONS", new_branch()), 0.0)
    layer.send_request(request("OPTIONS", new_branch()), 0.0)
    with pytest.raises(TransactionLimitError):
        layer.send_request(request("OPTIONS", new_branch()), 0.0)
    incoming = request("INVITE", new_branch())
    assert layer.receive(incoming, 0.0, PEER) == [Rejected(incoming, "overloaded", PEER)]
    run_timers(layer, 40)  # both time out (F) and leave room
    assert len(layer) == 0 and kinds(layer.receive(incoming, 40.0)) == ["Deliver"]


def test_unreadable_messages_are_dropped_and_counted() -> None:
    layer = TransactionLayer()
    bad = request("OPTIONS", new_branch())
    bad.headers.set("CSeq", "x OPTIONS")
    assert layer.receive(bad, 0.0) == [] and layer.dropped == 1
    rsp = response(request("OPTIONS", new_branch()), 200)
    rsp.headers.set("Via", "garbage")
    assert layer.receive(rsp, 0.0) == [] and layer.dropped == 2


def test_timers_are_configurable() -> None:
    layer = TransactionLayer(Timers(t1=0.1, t2=0.4, t4=1.0))
    layer.send_request(request("OPTIONS", new_branch()), 0.0)
    timed = run_timers(layer, 10)
    assert transmit_times(timed) == [
        0.1,
        0.3,
        0.7,
        1.1,
        1.5,
        1.9,
        2.3,
        2.7,
        3.1,
        3.5,
        3.9,
        4.3,
        4.7,
        5.1,
        5.5,
        5.9,
        6.3,
    ]
    assert timed[-1][0] == pytest.approx(6.4)
    with pytest.raises(ValueError):
        Timers(t1=5, t2=4)


def test_a_late_wakeup_sends_one_retransmit_and_keeps_deadlines_ahead() -> None:
    layer = TransactionLayer()
    layer.send_request(request("INVITE", new_branch()), 0.0)
    events = layer.timeout(5.0)  # A was due at 0.5, 1.5, 3.5
    assert kinds(events) == ["Transmit"] and layer.next_deadline() == 7.5


# --- random schedules: invariants -----------------------------------------------------------------------------

METHODS = ["INVITE", "OPTIONS"]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["wait", "rsp", "req", "ack", "tu", "err"]),
            st.floats(0, 40),
            st.sampled_from([100, 180, 200, 404, 486]),
            st.integers(0, 3),
        ),
        max_size=40,
    )
)
def test_random_schedules_keep_the_invariants(steps: list[tuple[str, float, int, int]]) -> None:
    layer = TransactionLayer()
    now = 0.0
    clients = [request(m, new_branch()) for m in METHODS]
    servers = [request(m, new_branch(), host="192.0.2.30:5062") for m in METHODS]
    client_keys = [layer.send_request(r, now)[0] for r in clients]
    server_keys = [delivered_key(layer.receive(r, now)) for r in servers]
    finished: set[TransactionKey] = set()

    def check(events: list[Event]) -> None:
        for event in events:
            key = getattr(event, "key", None)
            assert key not in finished, f"{event} after Terminated"
            if isinstance(event, Terminated):
                finished.add(event.key)
                assert layer.get(event.key) is None
        due = layer.next_deadline()
        assert due is None or due > now
        assert all(layer.get(key) is None for key in finished)

    for action, delay, status, which in steps:
        i = which % 2
        if action == "wait":
            now += delay
            check(layer.timeout(now))
        elif action == "rsp":
            check(layer.receive(response(clients[i], status), now))
        elif action == "req":
            finished.discard(server_keys[i])  # a request after the end starts anew
            check(layer.receive(servers[i], now))
        elif action == "ack":
            check(layer.receive(request("ACK", servers[0].via[0].branch or "", host="192.0.2.30:5062"), now))
        elif action == "tu" and layer.get(server_keys[i]) is not None:
            with contextlib.suppress(TransactionError):  # a response the state cannot take: refused, no change
                check(layer.send_response(server_keys[i], response(servers[i], status), now))
        elif action == "err":
            check(layer.transport_error((client_keys + server_keys)[which], now))
    # what is still open waits for a final response (the TU's Timer C, the TU's answer); give it one
    for i in range(2):
        check(layer.receive(response(clients[i], 486), now))
        server = layer.get(server_keys[i])
        if server is not None and server.state in (State.TRYING, State.PROCEEDING):
            check(layer.send_response(server_keys[i], response(servers[i], 500), now))
    now += 1000  # then everything ends by itself
    check(layer.timeout(now))
    assert len(layer) == 0 and layer.next_deadline() is None


# --- two ends in memory over a lossy channel ------------------------------------------------------------------


class Pair:
    """A client layer (UAC) and a server layer (UAS) with just enough TU on each side: the UAS answers OPTIONS
    with 200 and INVITE with 180 then, a second later, 200 that it retransmits until the ACK comes (§13.3.1.4);
    the UAC ACKs every 2xx the transaction passes up."""

    def __init__(self, loss: tuple[int, int] | None) -> None:
        self.channel = LossyChannel(loss)
        self.uac, self.uas = TransactionLayer(), TransactionLayer()
        self.uac_got: list[Response] = []
        self.uas_got: list[Request] = []
        self.acks_sent = 0
        self.ok: tuple[TransactionKey, Response] | None = None
        self.ok_next: float | None = None  # the UAS TU's own timer: send or retransmit the 2xx
        self.ok_interval = 0.5

    def deliver_uac(self, events: list[Event], now: float) -> None:
        for event in events:
            if isinstance(event, Transmit):
                self.channel.send(now, "uas", event.message)
            elif isinstance(event, Deliver) and isinstance(event.message, Response):
                self.uac_got.append(event.message)
                rsp, tx = event.message, self.uac.get(event.key) if event.key else None
                if rsp.cseq.method == "INVITE" and 200 <= rsp.status < 300 and tx is not None:
                    self.channel.send(now, "uas", ack_of_2xx(tx.request, rsp))
                    self.acks_sent += 1

    def deliver_uas(self, events: list[Event], now: float) -> None:
        for event in events:
            if isinstance(event, Transmit):
                self.channel.send(now, "uac", event.message)
            elif isinstance(event, Deliver) and isinstance(event.message, Request):
                req = event.message
                self.uas_got.append(req)
                if req.method == "ACK":
                    self.ok_next = None
                elif req.method == "OPTIONS" and event.key:
                    self.deliver_uas(self.uas.send_response(event.key, response(req, 200), now), now)
                elif req.method == "INVITE" and event.key:
                    self.deliver_uas(self.uas.send_response(event.key, response(req, 180), now), now)
                    self.ok, self.ok_next = (event.key, response(req, 200)), now + 1.0

    def run(self, until: float = 120.0) -> float:
        now = 0.0
        while True:
            deadlines = (self.uac.next_deadline(), self.uas.next_deadline(), self.ok_next, self.channel.next_arrival())
            times = [t for t in deadlines if t is not None]
            if not times or min(times) > until:
                return now
            assert min(times) >= now
            now = min(times)
            for to, wire in self.channel.arrivals(now):
                layer, deliver = (self.uac, self.deliver_uac) if to == "uac" else (self.uas, self.deliver_uas)
                deliver(layer.receive(parse(wire), now, ("127.0.0.1", 5060)), now)
            self.deliver_uac(self.uac.timeout(now), now)
            self.deliver_uas(self.uas.timeout(now), now)
            if self.ok_next is not None and self.ok_next <= now and self.ok is not None:
                key, ok = self.ok
                if self.uas.get(key) is not None:
                    self.deliver_uas(self.uas.send_response(key, ok, now), now)
                self.ok_next, self.ok_interval = now + self.ok_interval, min(2 * self.ok_interval, 4.0)


LOSSES = [None, (1, 3), (2, 3), (2, 4), (2, 7), (3, 5), (4, 6), (4, 4)]


def ack_of_2xx(invite: Request, ok: Response) -> Request:
    """The UAC dialog's ACK of a 2xx: a new branch, its own transaction-less request (§13.2.2.4)."""
    headers = Headers([("Via", f"SIP/2.0/UDP 192.0.2.10:5060;branch={new_branch()}")])
    for name in ("From", "Call-ID"):
        headers.add(name, invite.headers.get(name) or "")
    headers.add("To", ok.headers.get("To") or "")
    headers.add("CSeq", f"{invite.cseq.number} ACK")
    return Request("ACK", invite.uri, headers)


@pytest.mark.parametrize("loss", LOSSES[:5])
def test_two_ends_complete_options_through_a_lossy_channel(loss: tuple[int, int] | None) -> None:
    pair = Pair(loss)
    options = request("OPTIONS", new_branch())
    pair.deliver_uac(pair.uac.send_request(options, 0.0)[1], 0.0)
    end = pair.run()
    assert [r.status for r in pair.uac_got] == [200]
    assert [r.method for r in pair.uas_got] == ["OPTIONS"]  # retransmits absorbed by the server transaction
    assert len(pair.uac) == len(pair.uas) == 0 and end < 64
    assert (pair.channel.dropped > 0) == (loss is not None)


@pytest.mark.parametrize("loss", LOSSES)
def test_two_ends_complete_invite_200_ack_through_a_lossy_channel(loss: tuple[int, int] | None) -> None:
    pair = Pair(loss)
    invite = request("INVITE", new_branch())
    pair.deliver_uac(pair.uac.send_request(invite, 0.0)[1], 0.0)
    pair.run()
    finals = [r for r in pair.uac_got if r.status >= 200]
    assert finals and {r.status for r in finals} == {200}  # 2xx retransmits reach the TU to be ACKed again
    assert pair.acks_sent == len(finals)
    if loss == (4, 4):  # the first ACK is lost: the UAS retransmits its 200, the UAC transaction passes it up
        assert pair.acks_sent >= 2
    assert [r.method for r in pair.uas_got if r.method != "ACK"] == ["INVITE"]  # one INVITE reaches the TU
    assert "ACK" in [r.method for r in pair.uas_got] and pair.ok_next is None  # the 2xx retransmits stopped
    assert len(pair.uac) == len(pair.uas) == 0
    assert (pair.channel.dropped > 0) == (loss is not None)


# --- every rule of the four tables ----------------------------------------------------------------------------

MACHINES: dict[str, tuple[type[Transaction], str, Table]] = {
    "ict": (InviteClientTransaction, "INVITE", INVITE_CLIENT),
    "nict": (NonInviteClientTransaction, "OPTIONS", NON_INVITE_CLIENT),
    "ist": (InviteServerTransaction, "INVITE", INVITE_SERVER),
    "nist": (NonInviteServerTransaction, "OPTIONS", NON_INVITE_SERVER),
}
STATUS = {"1xx": 180, "2xx": 200, "fail": 486}
INPUTS: dict[str, Input | Timer] = {
    "1xx": Input.PROVISIONAL,
    "2xx": Input.SUCCESS,
    "fail": Input.FAILURE,
    "req": Input.REQUEST,
    "ack": Input.ACK,
    "err": Input.TRANSPORT_ERROR,
    **{timer.value: timer for timer in Timer},
}
T, C, D, E, X = "Transmit", "Deliver", "TimedOut", "TransportError", "Terminated"
RULES: list[tuple[str, tuple[str, ...], str, State, list[str]]] = [
    ("ict", (), "A", State.CALLING, [T]),
    ("ict", (), "B", State.TERMINATED, [D, X]),
    ("ict", (), "1xx", State.PROCEEDING, [C]),
    ("ict", (), "2xx", State.ACCEPTED, [C]),
    ("ict", (), "fail", State.COMPLETED, [T, C]),
    ("ict", (), "err", State.TERMINATED, [E, X]),
    ("ict", ("1xx",), "1xx", State.PROCEEDING, [C]),
    ("ict", ("1xx",), "2xx", State.ACCEPTED, [C]),
    ("ict", ("1xx",), "fail", State.COMPLETED, [T, C]),
    ("ict", ("fail",), "fail", State.COMPLETED, [T]),
    ("ict", ("fail",), "err", State.TERMINATED, [E, X]),
    ("ict", ("fail",), "D", State.TERMINATED, [X]),
    ("ict", ("2xx",), "2xx", State.ACCEPTED, [C]),
    ("ict", ("2xx",), "M", State.TERMINATED, [X]),
    ("nict", (), "E", State.TRYING, [T]),
    ("nict", (), "F", State.TERMINATED, [D, X]),
    ("nict", (), "1xx", State.PROCEEDING, [C]),
    ("nict", (), "2xx", State.COMPLETED, [C]),
    ("nict", (), "fail", State.COMPLETED, [C]),
    ("nict", (), "err", State.TERMINATED, [E, X]),
    ("nict", ("1xx",), "E", State.PROCEEDING, [T]),
    ("nict", ("1xx",), "F", State.TERMINATED, [D, X]),
    ("nict", ("1xx",), "1xx", State.PROCEEDING, [C]),
    ("nict", ("1xx",), "2xx", State.COMPLETED, [C]),
    ("nict", ("1xx",), "fail", State.COMPLETED, [C]),
    ("nict", ("1xx",), "err", State.TERMINATED, [E, X]),
    ("nict", ("2xx",), "K", State.TERMINATED, [X]),
    ("ist", (), "100", State.PROCEEDING, [T]),
    ("ist", (), "1xx", State.PROCEEDING, [T]),
    ("ist", (), "2xx", State.ACCEPTED, [T]),
    ("ist", (), "fail", State.COMPLETED, [T]),
    ("ist", ("1xx",), "req", State.PROCEEDING, [T]),
    ("ist", (), "err", State.TERMINATED, [E, X]),
    ("ist", ("fail",), "req", State.COMPLETED, [T]),
    ("ist", ("fail",), "G", State.COMPLETED, [T]),
    ("ist", ("fail",), "H", State.TERMINATED, [D, X]),
    ("ist", ("fail",), "ack", State.CONFIRMED, []),
    ("ist", ("fail",), "err", State.TERMINATED, [E, X]),
    ("ist", ("fail", "ack"), "I", State.TERMINATED, [X]),
    ("ist", ("2xx",), "2xx", State.ACCEPTED, [T]),
    ("ist", ("2xx",), "ack", State.ACCEPTED, [C]),
    ("ist", ("2xx",), "err", State.ACCEPTED, [E]),
    ("ist", ("2xx",), "L", State.TERMINATED, [X]),
    ("nist", (), "1xx", State.PROCEEDING, [T]),
    ("nist", (), "2xx", State.COMPLETED, [T]),
    ("nist", (), "fail", State.COMPLETED, [T]),
    ("nist", (), "req", State.TRYING, []),
    ("nist", ("1xx",), "1xx", State.PROCEEDING, [T]),
    ("nist", ("1xx",), "2xx", State.COMPLETED, [T]),
    ("nist", ("1xx",), "fail", State.COMPLETED, [T]),
    ("nist", ("1xx",), "req", State.PROCEEDING, [T]),
    ("nist", ("1xx",), "err", State.TERMINATED, [E, X]),
    ("nist", ("2xx",), "req", State.COMPLETED, [T]),
    ("nist", ("2xx",), "err", State.TERMINATED, [E, X]),
    ("nist", ("2xx",), "J", State.TERMINATED, [X]),
]


def apply(tx: Transaction, step: str, now: float) -> tuple[list[Event], float]:
    """Give ``tx`` one input; a timer step first lets the earlier timers fire, and answers only its own events."""
    if step in STATUS:
        rsp = response(tx.request, STATUS[step])
        return (tx.receive(rsp, now) if isinstance(tx, ClientTransaction) else tx.send_response(rsp, now)), now
    if step in ("req", "ack"):
        assert isinstance(tx, ServerTransaction)
        incoming = tx.request if step == "req" else request("ACK", tx.key.branch)
        return tx.receive(incoming, now), now
    if step == "err":
        return tx.transport_error(now), now
    due = tx.deadline(Timer(step))
    assert due is not None, f"{tx!r} does not run timer {step}"
    tx.timeout(due - 1e-6)
    return tx.timeout(due), due


def drive(machine: str, path: tuple[str, ...]) -> tuple[Transaction, float]:
    kind, method, _ = MACHINES[machine]
    req = request(method, new_branch())
    tx = kind(TransactionKey(req.via[0].branch or "", "", method), req, Timers())
    tx.start(0.0)
    now = 0.0
    for step in path:
        now += 0.05
        _, now = apply(tx, step, now)
    return tx, now + 0.05


@pytest.mark.parametrize(("machine", "path", "step", "after", "events"), RULES)
def test_every_rule(machine: str, path: tuple[str, ...], step: str, after: State, events: list[str]) -> None:
    tx, now = drive(machine, path)
    got, _ = apply(tx, step, now)
    assert (tx.state, kinds(got)) == (after, events)
    if after is State.TERMINATED:  # then nothing moves it and nothing comes out of it
        assert tx.next_deadline() is None
        for late in ("1xx", "2xx", "fail", "err", *(("req", "ack") if isinstance(tx, ServerTransaction) else ())):
            if late in STATUS and isinstance(tx, ServerTransaction):
                with pytest.raises(TransactionError):
                    apply(tx, late, now + 1)
            else:
                assert apply(tx, late, now + 1)[0] == []
            assert tx.state is State.TERMINATED


def test_the_rules_cover_every_table_entry_and_nothing_else_moves() -> None:
    covered: set[tuple[str, State, Input | Timer]] = set()
    for machine, path, step, _, _ in RULES:
        covered.add((machine, drive(machine, path)[0].state, INPUTS[step]))
    for machine, (_, _, table) in MACHINES.items():
        assert {(machine, *key) for key in table} == {c for c in covered if c[0] == machine}
        for path in {path for m, path, *_ in RULES if m == machine}:
            for step in ("1xx", "2xx", "fail", "req", "ack", "err"):
                tx, now = drive(machine, path)
                if (tx.state, INPUTS[step]) in table or (step in ("req", "ack") and machine in ("ict", "nict")):
                    continue
                before = tx.state
                tu_input = step in STATUS and isinstance(tx, ServerTransaction)
                if tu_input:
                    with pytest.raises(TransactionError):
                        apply(tx, step, now)
                else:
                    assert apply(tx, step, now)[0] == []
                assert tx.state is before
