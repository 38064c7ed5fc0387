"""Calls to the demo number with SIPp as the caller, against the real server (demo tenant, always open).

Each test dials ``800100200`` (the demo's ``+48800100200``), walks the demo menu with RFC 2833 digits, and reads
back what the server recorded: the call's Interaction (IVR path, queue, end reason) through the HTTP API.
"""

from __future__ import annotations

import asyncio
import random
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live import LiveServer, free_port, running_server
from tests.sipp import bye, call_scenario, dtmf, info_digits, needs_sipp, pause, run_call, sip_log, wait_bye

pytestmark = needs_sipp


@pytest.fixture(scope="module")
def server(fresh_db_url, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, int]]:  # type: ignore[no-untyped-def]
    url = asyncio.run(fresh_db_url())
    sip_port = free_port()
    low = rtp_low(sip_port)
    with running_server(
        url, tmp_path_factory.mktemp("calls"), "--sip-port", str(sip_port), "--rtp-ports", f"{low}-{low + 199}",
        "--demo-always-open",
    ) as live:  # fmt: skip
        yield live, sip_port


def rtp_low(sip_port: int) -> int:
    """The first of the 200 RTP ports the module's server uses (derived from its SIP port)."""
    return 30000 + (sip_port % 1000) * 20


@contextmanager
def admin(live: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.base_url, timeout=10) as client:
        token = client.post("/api/v1/auth/login", json={"email": "admin@demo.test", "password": "demo"}).json()
        client.headers["Authorization"] = f"Bearer {token['token']}"
        yield client


def last_call(live: LiveServer) -> dict[str, Any]:
    """The newest call's record (the demo's seeded interactions are older than an hour)."""
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    with admin(live) as client:
        page = client.get("/api/v1/interactions", params={"channel": "voice", "since": since, "limit": 200}).json()
    items: list[dict[str, Any]] = page["items"]
    assert items, "no voice interaction recorded"
    return max(items, key=lambda item: int(item["id"]))


def queue_id(live: LiveServer, name: str) -> int:
    with admin(live) as client:
        queues = client.get("/api/v1/queues").json()
    items = queues["items"] if isinstance(queues, dict) else queues
    return int(next(q["id"] for q in items if q["name"] == name))


def dial(live: LiveServer, number: str, flow: dict[str, Any]) -> None:
    """A flow of the demo tenant's and a number that enters it."""
    with admin(live) as client:
        r = client.post("/api/v1/ivr-flows", json={"name": f"flow {number}", "definition": flow})
        assert r.status_code == 201, r.text
        r = client.post("/api/v1/numbers", json={"number": number, "flow_id": r.json()["id"]})
        assert r.status_code == 201, r.text


def ok(result: Any, workdir: Path) -> None:
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:] + sip_log(workdir)


def test_digit_2_lands_the_caller_in_the_technical_queue(server: tuple[LiveServer, int], tmp_path: Path) -> None:
    live, sip_port = server
    ok(run_call(sip_port, tmp_path, call_scenario(pause(1500), dtmf("2"), pause(2500), bye())), tmp_path)
    call = last_call(live)
    assert call["ivr_path"][:3] == ["hours", "greeting", "main_menu"] and call["ivr_path"][-1] == "technical"
    assert call["queue_id"] == queue_id(live, "Technical")
    assert call["queued_at"] is not None and call["ended_at"] is not None
    assert call["end_reason"] == "caller_hangup"


def test_digit_4_plays_the_announcement_and_returns_to_the_menu(server: tuple[LiveServer, int], tmp_path: Path) -> None:
    live, sip_port = server
    steps = (pause(1500), dtmf("4"), pause(1500), dtmf("1"), pause(1500), dtmf("3"), pause(1500), bye())
    ok(run_call(sip_port, tmp_path, call_scenario(*steps)), tmp_path)
    path = last_call(live)["ivr_path"]
    assert "payment_deadlines" in path
    after = path[path.index("payment_deadlines") + 1 :]
    assert after[:1] == ["main_menu"], path  # back to the menu; the 1 typed during the answer cut it short
    assert path[-1] in ("billing", "sales"), path


def test_an_invite_without_an_offer_gets_ours_and_the_ack_answers(
    server: tuple[LiveServer, int], tmp_path: Path
) -> None:
    """A late offer (some PBXs and carriers): our 200 carries the offer, the ACK the answer; the call then runs as
    any other: the greeting plays to the caller's answered address and digit 2 reaches Technical."""
    live, sip_port = server
    steps = (pause(1500), dtmf("2"), pause(2500), bye())
    ok(run_call(sip_port, tmp_path, call_scenario(*steps, late_offer=True)), tmp_path)
    call = last_call(live)
    assert call["ivr_path"][-1] == "technical" and call["end_reason"] == "caller_hangup", call
    # an ACK with no answer in it: no media can flow, so the call ends with BYE
    unanswered = call_scenario(wait_bye(10_000), late_offer=True, answer_in_ack=False)
    ok(run_call(sip_port, tmp_path / "no-answer", unanswered), tmp_path / "no-answer")
    assert last_call(live)["end_reason"] == "no_sdp_answer"


def test_invalid_digits_and_silence_end_at_the_menu_s_failure_branch(
    server: tuple[LiveServer, int], tmp_path: Path
) -> None:
    live, sip_port = server
    # 9 and 8 are not on the menu; then silence after the menu prompt: the third failure takes on_failure
    steps = (pause(1500), dtmf("9"), pause(1500), dtmf("8"), pause(45_000), bye())  # the Polish menu lasts 22 s
    ok(run_call(sip_port, tmp_path, call_scenario(*steps), timeout_s=90), tmp_path)
    path = last_call(live)["ivr_path"]
    assert path[-1] == "operator", path


def test_cancel_before_answer_gets_487(server: tuple[LiveServer, int], tmp_path: Path) -> None:
    live, sip_port = server
    with admin(live) as client:
        numbers = client.get("/api/v1/numbers").json()
        items = numbers["items"] if isinstance(numbers, dict) else numbers
        number = next(n for n in items if n["e164"] == "+48800100200")
        assert client.patch(f"/api/v1/numbers/{number['id']}", json={"answer_after_s": 3}).status_code == 200
        try:
            ok(run_call(sip_port, tmp_path, call_scenario(cancel=True)), tmp_path)
        finally:
            client.patch(f"/api/v1/numbers/{number['id']}", json={"answer_after_s": 0})
    call = last_call(live)
    assert call["end_reason"] == "cancelled" and call["answered_at"] is None


def test_an_unknown_number_gets_404(server: tuple[LiveServer, int], tmp_path: Path) -> None:
    _, sip_port = server
    ok(run_call(sip_port, tmp_path, call_scenario(answer=404), number="800999999"), tmp_path)


def callbacks_of(live: LiveServer, call: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The call's routing tasks by channel."""
    with admin(live) as client:
        tasks = client.get("/api/v1/tasks", params={"limit": 200}).json()["items"]
    mine = {t["channel"]: t for t in tasks if t["interaction_id"] == call["id"]}
    assert len(mine) == len([t for t in tasks if t["interaction_id"] == call["id"]]), tasks
    return mine


def callback_of(live: LiveServer, task_id: int) -> dict[str, Any]:
    """The callback (``outbound``) whose task is ``task_id``."""
    with admin(live) as client:
        found = [c for c in client.get("/api/v1/callbacks", params={"limit": 500}).json()["items"]
                 if c["routing_task_id"] == task_id]  # fmt: skip
    assert len(found) == 1, found
    return dict(found[0])


def test_pressing_1_in_the_queue_leaves_a_callback_that_keeps_the_caller_s_place(
    server: tuple[LiveServer, int], tmp_path: Path
) -> None:
    live, sip_port = server
    # 1 in the queue: the caller's number is read back; 1 again confirms it (sent as INFO: the same key twice)
    steps = (pause(1500), dtmf("2"), pause(4000), dtmf("1"), pause(2000), info_digits("1"), wait_bye(30_000))
    ok(run_call(sip_port, tmp_path, call_scenario(*steps)), tmp_path)
    call = last_call(live)
    assert call["end_reason"] == "callback_kept_place", call
    mine = callbacks_of(live, call)
    assert set(mine) == {"voice", "callback"}, mine
    assert mine["voice"]["state"] == "done"
    assert mine["callback"]["state"] == "waiting" and mine["callback"]["queue_id"] == call["queue_id"]
    assert mine["callback"]["enqueued_at"] == mine["voice"]["enqueued_at"]  # the place it held in the order
    assert mine["callback"]["callback_number"] == "+48601200300"  # the caller ID, confirmed
    promised = callback_of(live, mine["callback"]["id"])
    assert (promised["source"], promised["number"], promised["interaction_id"]) == (
        "keep_place", "+48601200300", call["id"],
    )  # fmt: skip
    assert promised["status"] == "scheduled" and promised["promise_kept"] is None


def test_a_caller_gives_another_number_for_the_keep_place_callback(
    server: tuple[LiveServer, int], tmp_path: Path
) -> None:
    live, sip_port = server
    # 1, then 2 for another number: first one that is no phone number (told so), then a landline, confirmed with 1
    steps = (
        pause(1500), dtmf("2"), pause(4000), dtmf("1"), pause(1500), info_digits("2"), pause(1000),
        info_digits("123#"), pause(1500), info_digits("225551234#"), pause(1500), info_digits("1"), wait_bye(30_000),
    )  # fmt: skip
    ok(run_call(sip_port, tmp_path, call_scenario(*steps), timeout_s=90), tmp_path)
    call = last_call(live)
    assert call["end_reason"] == "callback_kept_place", call
    mine = callbacks_of(live, call)
    assert mine["callback"]["callback_number"] == "+48225551234", mine
    assert mine["callback"]["enqueued_at"] == mine["voice"]["enqueued_at"]


def test_an_unconfirmed_number_leaves_the_caller_waiting_in_the_queue(
    server: tuple[LiveServer, int], tmp_path: Path
) -> None:
    live, sip_port = server
    # an anonymous caller presses 1 and types nothing: after the prompts and their repeats the call is still queued
    # (in Polish: the request 5.5 s, then 6 s of silence, twice "no input" and the request again, 7.5 s each)
    steps = (pause(1500), dtmf("2"), pause(4000), dtmf("1"), pause(44_000), bye())
    ok(run_call(sip_port, tmp_path, call_scenario(*steps, caller="anonymous"), timeout_s=90), tmp_path)
    call = last_call(live)
    assert call["end_reason"] == "caller_hangup" and call["ivr_path"][-1] == "technical", call
    mine = callbacks_of(live, call)
    # it waited on until the caller hung up: abandoned then, not turned into a callback
    assert set(mine) == {"voice"} and (mine["voice"]["state"], mine["voice"]["outcome"]) == ("done", "abandoned")
    assert "callback number for keep_place: not confirmed" in live.output()


def test_the_menu_s_callback_request_confirms_the_number_first(server: tuple[LiveServer, int], tmp_path: Path) -> None:
    live, sip_port = server
    steps = (pause(1500), dtmf("0"), pause(1500), dtmf("1"), pause(2500), info_digits("1"), wait_bye(30_000))
    ok(run_call(sip_port, tmp_path, call_scenario(*steps, caller="+48601200301")), tmp_path)
    call = last_call(live)
    assert call["end_reason"] == "callback_accepted" and call["ivr_path"][-1] == "callback", call
    mine = callbacks_of(live, call)
    assert set(mine) == {"callback"} and mine["callback"]["callback_number"] == "+48601200301", mine
    assert callback_of(live, mine["callback"]["id"])["source"] == "ivr"


def test_a_queue_node_s_messages_play_between_the_music(server: tuple[LiveServer, int], tmp_path: Path) -> None:
    live, sip_port = server
    flow = {
        "start": "wait",
        "nodes": [{"id": "wait", "type": "queue", "queue": "Sales", "announce_every_s": 10,
                   "messages": ["payment_deadlines", "greeting"]}],
    }  # fmt: skip
    dial(live, "+48800100209", flow)
    with admin(live) as client:
        broken = {**flow, "nodes": [{**flow["nodes"][0], "messages": ["no_such_prompt"]}]}
        r = client.post("/api/v1/ivr-flows", json={"name": "broken", "definition": broken})
        assert r.status_code == 422 and "messages.0" in r.text, r.text
    mark = len(live.output())
    # announcements at 2 and 12 s, the messages halfway after each: 7 and 17 s
    ok(run_call(sip_port, tmp_path, call_scenario(pause(19_000), bye()), number="800100209"), tmp_path)
    said = [line.rsplit(" ", 1)[-1] for line in live.output()[mark:].splitlines() if "queue message" in line]
    assert said == ["payment_deadlines", "greeting"], said


def test_a_transfer_to_an_extension_with_no_phone_says_so_or_goes_on_failure(
    server: tuple[LiveServer, int], tmp_path: Path
) -> None:
    live, sip_port = server
    dial(live, "+48800100208", {"start": "t", "nodes": [{"id": "t", "type": "transfer", "extension": "1099"}]})
    ok(run_call(sip_port, tmp_path, call_scenario(wait_bye(30_000)), number="800100208"), tmp_path)
    call = last_call(live)
    assert (call["end_reason"], call["ivr_path"], call["agent_id"]) == ("transfer_failed", ["t"], None), call
    # the same with on_failure: the flow goes on to the Sales queue
    dial(live, "+48800100207", {"start": "t", "nodes": [
        {"id": "t", "type": "transfer", "extension": "1099", "on_failure": "sales"},
        {"id": "sales", "type": "queue", "queue": "Sales"},
    ]})  # fmt: skip
    ok(run_call(sip_port, tmp_path, call_scenario(pause(3000), bye()), number="800100207"), tmp_path)
    call = last_call(live)
    assert call["ivr_path"] == ["t", "sales"] and call["queue_id"] == queue_id(live, "Sales"), call


def test_the_queue_s_maximum_wait_takes_a_voicemail_for_the_queue(
    server: tuple[LiveServer, int], tmp_path: Path
) -> None:
    live, sip_port = server
    technical = queue_id(live, "Technical")
    with admin(live) as client:
        r = client.patch(f"/api/v1/queues/{technical}", json={"max_wait_s": 2, "max_wait_action": "voicemail"})
        assert r.status_code == 200, r.text
        try:  # 2 s in the queue, the voicemail prompt and beep (about 5 s), then a few seconds of message
            ok(run_call(sip_port, tmp_path, call_scenario(pause(1500), dtmf("2"), pause(14_000), bye())), tmp_path)
        finally:
            client.patch(f"/api/v1/queues/{technical}", json={"max_wait_s": None})
        call = last_call(live)
        tasks = client.get("/api/v1/tasks", params={"limit": 200}).json()["items"]
    assert call["end_reason"] == "voicemail", call
    assert call["recording"] and call["recording"].startswith("recordings/") and call["recording"].endswith(".wav")
    recording = live.log.parent / "data" / call["recording"]
    assert recording.stat().st_size > 44 + 8000 * 4 * 1, "at least a second of stereo 16-bit audio"
    callbacks = [t for t in tasks if t["interaction_id"] == call["id"] and t["channel"] == "callback"]
    assert [(t["queue_id"], t["state"]) for t in callbacks] == [(technical, "waiting")]


def test_garbage_at_every_rtp_port_during_a_call_is_dropped_and_the_call_goes_on(
    server: tuple[LiveServer, int], tmp_path: Path
) -> None:
    live, sip_port = server
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    valid = bytes([0x80, 0x00, 0x00, 0x01]) + bytes(8) + bytes(160)  # an RTP header and 160 bytes of PCMU

    def spray() -> int:
        sent = 0
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            for _ in range(20):
                for port in range(rtp_low(sip_port), rtp_low(sip_port) + 200):
                    kind = rng.randrange(4)
                    if kind == 0:
                        data = rng.randbytes(rng.randrange(0, 40))  # short and random
                    elif kind == 1:
                        data = valid[: rng.randrange(len(valid))]  # truncated
                    elif kind == 2:
                        data = bytearray(valid)  # mutated
                        for _ in range(rng.randrange(1, 8)):
                            data[rng.randrange(len(data))] = rng.randrange(256)
                        data = bytes(data)
                    else:
                        data = rng.randbytes(rng.randrange(1000, 9000))  # oversized
                    sock.sendto(data, ("127.0.0.1", port))
                    sent += 1
        return sent

    import threading

    runs: list[Any] = []
    caller = threading.Thread(target=lambda: runs.append(run_call(sip_port, tmp_path, scenario)))
    scenario = call_scenario(pause(1500), dtmf("2"), pause(6000), bye())
    with admin(live) as client:
        before = client.get("/healthz").json()["subsystems"]["sip"]["media"]
        assert before["legs_open"] == 0, before
        caller.start()
        deadline = time.monotonic() + 20
        # garbage once the leg hears the caller (latched to SIPp's media port): sprayed earlier from the same host,
        # a well-formed packet could win the latch, which is the rule for a peer's first packet, not a fault. The
        # counters are the server's since it started (earlier calls of this module included): only packets beyond
        # those counted before this call, with no other leg open, are this leg's
        while (media := client.get("/healthz").json()["subsystems"]["sip"]["media"])["legs_open"] == 0 or (
            media["packets_in"] <= before["packets_in"]
        ):
            assert time.monotonic() < deadline, "the call never got its media leg"
            time.sleep(0.05)
        result = [spray()]
        while client.get("/healthz").json()["subsystems"]["sip"]["media"]["bad_packets"] <= before["bad_packets"]:
            assert time.monotonic() < deadline, f"seed {seed}: no bad packet counted"
            time.sleep(0.05)
        caller.join()
    [run] = runs
    ok(run, tmp_path)
    assert result == [4000], f"seed {seed}"
    call = last_call(live)
    assert call["ivr_path"][-1] == "technical", f"seed {seed}: {call}"
    assert "Traceback" not in live.output(), f"seed {seed}"
