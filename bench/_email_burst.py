"""E-mail ingestion: a burst of messages over SMTP into the real server process on SQLite. How fast are messages
accepted (250: committed to the database), how fast are they made into customers, contacts, cases and routing
tasks, and is every accepted message there exactly once? Side by side: the same burst into a bare aiosmtpd
listener that keeps nothing (the SMTP library's own cost, the ceiling).

The server (``infolinia serve --demo``) runs on a fresh SQLite file in a temporary folder; several smtplib clients
send at once, each on its own connection, from 500 customers' addresses; 1 % of the messages are sent a second
time (answered 250, not stored again).

    python bench/email.py [--quick] [--messages 10000] [--clients 8]

Last line: {"bench": "email", "messages_per_s": ..., "lost": ..., "duplicated": ..., "processed_per_s": ...}.
Goal: >= 200 messages/s on SQLite, 0 lost, 0 duplicated.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import smtplib
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller

ADDRESS = "support@demo.test"
EXE = Path(sys.executable).with_name("infolinia")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make(n: int, seed: int) -> list[tuple[str, bytes]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        who = rng.randrange(500)
        msg = EmailMessage()
        msg["From"] = f"Customer {who} <customer{who}@bench.example>"
        msg["To"] = ADDRESS
        msg["Subject"] = f"Question {i} about my invoice"
        key = f"bench-{seed}-{i}@bench.example"
        msg["Message-ID"] = f"<{key}>"
        msg.set_content("Good morning,\n\n" + "my invoice seems wrong, please check it.\n" * rng.randrange(3, 20))
        out.append((key, msg.as_bytes(policy=SMTP)))
    repeats = [out[i] for i in rng.sample(range(n), max(1, n // 100))]
    return out + repeats


def burst(port: int, messages: list[tuple[str, bytes]], clients: int) -> tuple[float, list[str], int]:
    """Send from ``clients`` connections at once; wall time, the ids answered 250, and the refusals."""
    accepted: list[str] = []
    refused = [0]
    lock = threading.Lock()

    def client(share: list[tuple[str, bytes]]) -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=60) as c:
            for key, raw in share:
                try:
                    c.sendmail("x@bench.example", [ADDRESS], raw)
                except smtplib.SMTPException:
                    with lock:
                        refused[0] += 1
                    continue
                with lock:
                    accepted.append(key)

    threads = [threading.Thread(target=client, args=(messages[i::clients],)) for i in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start, accepted, refused[0]


class Discard:
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "250 OK"


def baseline(messages: list[tuple[str, bytes]], clients: int) -> float:
    port = free_port()
    controller = Controller(Discard(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        elapsed, accepted, _ = burst(port, messages, clients)
    finally:
        controller.stop()
    return len(accepted) / elapsed


def start_server(folder: Path, smtp_port: int) -> tuple[subprocess.Popen[bytes], str]:
    http = free_port()
    log = (folder / "serve.log").open("wb")
    proc = subprocess.Popen(
        [str(EXE), "serve", "--demo", "--http-port", str(http), "--sip-port", str(free_port()), "--smtp-port",
         str(smtp_port), "--db", f"sqlite:///{folder / 'bench.db'}", "--log-level", "warning"],
        cwd=folder, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{http}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {(folder / 'serve.log').read_text()}")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return proc, base
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("server not healthy in time")


def processed(db: Path) -> tuple[int, int]:
    with sqlite3.connect(db, timeout=30) as conn:
        row = conn.execute(
            "SELECT count(*), count(done_at) FROM email_messages WHERE message_id LIKE 'bench-%'"
        ).fetchone()
    return int(row[0]), int(row[1])


def check(db: Path, accepted: list[str]) -> tuple[int, int, int]:
    """lost (a 250'd message not stored), duplicated (stored more than once), unmade (no case or contact)."""
    with sqlite3.connect(db, timeout=30) as conn:
        rows = conn.execute(
            "SELECT message_id, count(*), min(case_id IS NOT NULL AND interaction_id IS NOT NULL) "
            "FROM email_messages WHERE message_id LIKE 'bench-%' GROUP BY message_id"
        ).fetchall()
        interactions = conn.execute(
            "SELECT count(*) FROM interactions i JOIN email_messages m ON m.interaction_id = i.id "
            "WHERE m.message_id LIKE 'bench-%'"
        ).fetchone()[0]
    stored = {key: (n, made) for key, n, made in rows}
    lost = sum(1 for key in set(accepted) if key not in stored)
    duplicated = sum(1 for n, _ in stored.values() if n > 1) + max(0, interactions - len(stored))
    unmade = sum(1 for _, made in stored.values() if not made)
    return lost, duplicated, unmade


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300 messages, 4 clients (seconds)")
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    n, clients = (300, 4) if args.quick else (args.messages, args.clients)
    messages = make(n, args.seed)
    print(f"{len(messages)} messages ({n} distinct), {clients} SMTP clients", flush=True)
    base_rate = baseline(messages, clients)
    print(f"baseline (aiosmtpd keeping nothing): {base_rate:.0f} messages/s", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-email-") as tmp:
        folder = Path(tmp)
        port = free_port()
        proc, _ = start_server(folder, port)
        try:
            elapsed, accepted, refused = burst(port, messages, clients)
            rate = len(set(accepted)) / elapsed
            print(f"accepted {len(accepted)} (distinct {len(set(accepted))}), refused {refused}, in {elapsed:.1f} s:"
                  f" {rate:.0f} messages/s", flush=True)  # fmt: skip
            start = time.perf_counter()
            while True:
                total, done = processed(folder / "bench.db")
                if done >= total:
                    break
                if time.perf_counter() - start > 1800:
                    raise SystemExit("processing did not finish")
                time.sleep(0.25)
            all_done = elapsed + time.perf_counter() - start
            lost, duplicated, unmade = check(folder / "bench.db", accepted)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
    processed_rate = n / all_done
    print(f"processed (customer, contact, case, task): all {n} after {all_done:.1f} s: {processed_rate:.0f}/s;"
          f" lost {lost}, duplicated {duplicated}, without case or contact {unmade}", flush=True)  # fmt: skip
    out = {
        "bench": "email", "messages": n, "clients": clients, "messages_per_s": round(rate, 1), "lost": lost,
        "duplicated": duplicated, "refused": refused, "unprocessed": unmade,
        "processed_per_s": round(processed_rate, 1), "baseline_messages_per_s": round(base_rate, 1),
        "ratio_to_baseline": round(rate / base_rate, 3), "goal_met": rate >= 200 and lost == 0 and duplicated == 0,
        "cpus": os.cpu_count(),
    }  # fmt: skip
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
