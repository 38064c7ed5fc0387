"""SIPp as a caller in tests: a scenario written for the steps a test needs, run against the server.

``call_scenario`` writes an XML scenario: the INVITE (PCMU and telephone-event 101 on ``[auto_media_port]``),
then the answer the test expects (200, or a refusal status), then steps: ``pause(ms)``, ``dtmf(digit)`` (plays
the Debian sip-tester RFC 2833 capture of that key from the call's media port), ``info_digits(keys)`` (SIP INFO
``application/dtmf-relay``, one request per key), ``cancel()``, ``bye()`` (we hang up) or ``wait_bye()`` (the
server hangs up). The captures carry fixed RTP timestamps, so the same key played twice is, rightly, one press to
the server (a repeated event): tests that press a key twice send the later presses as INFO. SIPp runs with
``-rtp_echo``, so every RTP packet the server sends comes back to it: the server counting packets in is proof the
caller heard something.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import socket
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

SIPP = shutil.which("sipp")
PCAPS = Path("/usr/share/sip-tester")
if SIPP is None and os.environ.get("CI") == "true":
    raise RuntimeError("sipp (Debian sip-tester) is required in CI: scripts/install-test-prereqs.sh installs it")
needs_sipp = pytest.mark.skipif(SIPP is None, reason="sipp (Debian sip-tester) is not installed")

PCAP_NAMES = {"*": "star", "#": "pound", **{d: d for d in "0123456789"}}

INVITE = """
  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: "Test Caller" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:{caller}@[local_ip]:[local_port]>
      Max-Forwards: 70
{invite_body}
    ]]>
  </send>
  <recv response="100" optional="true"/>
"""

RINGING = """  <recv response="180" optional="{optional}"/>
"""

ANSWERED = """
  <recv response="200" rtd="true"/>
  <send>
    <![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: "Test Caller" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
{ack_body}
    ]]>
  </send>
"""

SDP = """      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [auto_media_port] RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-15"""

NO_BODY = """      Content-Length: 0
"""

REFUSED = """
  <recv response="{status}"/>
  <send>
    <![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      [last_Via:]
      From: "Test Caller" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
"""

CANCEL = """
  <pause milliseconds="300"/>
  <send>
    <![CDATA[
      CANCEL sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      [last_Via:]
      From: "Test Caller" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 CANCEL
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200"/>
"""


def _in_dialog(method: str, headers: str = "", body: str = "") -> str:
    """A request of ours within the call's dialog (CSeq numbers are filled in order by ``call_scenario``)."""
    length = "[len]" if body else "0"
    body = f"\n      {body}" if body else ""  # after the blank line that ends the headers
    return f"""
  <send retrans="500">
    <![CDATA[
      {method} sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: "Test Caller" <sip:{{caller}}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: {{cseq}} {method}
      Max-Forwards: 70{headers}
      Content-Length: {length}
{body}
    ]]>
  </send>
  <recv response="200"/>
"""


BYE = _in_dialog("BYE")
INFO = _in_dialog("INFO", "\n      Content-Type: application/dtmf-relay", "Signal={key}\n      Duration=160") + (
    '  <pause milliseconds="200"/>\n'
)

WAIT_BYE = """
  <recv request="BYE" timeout="{timeout_ms}"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
"""


@dataclass(frozen=True)
class Step:
    xml: str


def pause(ms: int) -> Step:
    return Step(f'  <pause milliseconds="{ms}"/>\n')


def dtmf(digit: str) -> Step:
    name = PCAP_NAMES[digit]
    return Step(f'  <nop><action><exec play_pcap_audio="pcap/dtmf_2833_{name}.pcap"/></action></nop>\n')


def info_digits(keys: str) -> Step:
    assert keys and all(key in PCAP_NAMES for key in keys), keys
    return Step("".join(INFO.replace("{key}", key) for key in keys))


def bye() -> Step:
    return Step(BYE)


def wait_bye(timeout_ms: int = 30_000) -> Step:
    return Step(WAIT_BYE.replace("{timeout_ms}", str(timeout_ms)))


def call_scenario(
    *steps: Step,
    answer: int = 200,
    cancel: bool = False,
    caller: str = "48601200300",
    late_offer: bool = False,
    answer_in_ack: bool = True,
) -> str:
    """One call: the INVITE (with our SDP offer, or none when ``late_offer``: the server offers in its 200 and the
    ACK answers, or carries nothing when ``answer_in_ack`` is false), then ``steps``."""
    invite = INVITE.replace("{invite_body}", NO_BODY if late_offer else SDP)
    body = invite + RINGING.replace("{optional}", "false" if cancel else "true")
    if cancel:
        body += CANCEL + REFUSED.replace("{status}", "487")
    elif answer == 200:
        body += ANSWERED
    else:
        body += REFUSED.replace("{status}", str(answer))
    body += "".join(step.xml for step in steps)
    body = body.replace("{ack_body}", SDP if late_offer and answer_in_ack else NO_BODY)
    body = body.replace("{caller}", caller)
    parts = body.split("{cseq}")  # in-dialog requests after the INVITE's CSeq 1, in order
    body = parts[0] + "".join(f"{n}{part}" for n, part in enumerate(parts[1:], start=2))
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<scenario name="call">\n{body}</scenario>\n'


def free_udp_ports(count: int) -> int:
    """The first of ``count`` consecutive UDP ports on the loopback that are free now (an even first one)."""
    for _ in range(200):
        base = random.randrange(20000, 60000 - count, 2)
        socks: list[socket.socket] = []
        try:
            for port in range(base, base + count):
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise RuntimeError(f"no {count} consecutive free UDP ports")


def run_call(
    sip_port: int, workdir: Path, scenario: str, number: str = "800100200", timeout_s: int = 60
) -> subprocess.CompletedProcess[str]:
    """Run one call of ``scenario`` to ``number``; the result's stdout and the message log help a failure.

    SIPp's own ports (signalling, and media with the ports above it) are checked free for UDP just before; another
    process may still take one in between, and SIPp then stops before it sends anything: that start is retried."""
    assert SIPP is not None
    workdir.mkdir(parents=True, exist_ok=True)
    link = workdir / "pcap"
    if not link.exists():
        link.symlink_to(PCAPS)
    path = workdir / "call.xml"
    path.write_text(scenario)
    for _attempt in range(3):
        command = [
            SIPP, f"127.0.0.1:{sip_port}", "-sf", str(path), "-s", number, "-i", "127.0.0.1",
            "-p", str(free_udp_ports(1)), "-mi", "127.0.0.1", "-mp", str(free_udp_ports(8)), "-rtp_echo", "-m", "1",
            "-nostdin", "-timeout", str(timeout_s), "-timeout_error", "-trace_msg", "-trace_err",
        ]  # fmt: skip
        result = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=timeout_s + 30)
        if "errno = 98" not in result.stdout + result.stderr:
            return result
    return result


def sip_log(workdir: Path) -> str:
    return "".join(p.read_text(errors="replace") for p in sorted(workdir.glob("*_messages.log")))


# --- SIPp answering: phones of agents and customers behind a trunk ---------------------------------------------

PHONE_ANSWER = """  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:phone@[local_ip]:[local_port]>
Content-Type: application/sdp
Content-Length: [len]

v=0
o=phone [call_number] 1 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio {media_port} RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
]]></send>
"""

#: a phone that answers at once (media to ``{media_port}``) and waits for the other side's BYE
AGENT_PHONE = f"""<?xml version="1.0" encoding="UTF-8"?>
<scenario name="agent phones">
  <recv request="INVITE"/>
{PHONE_ANSWER}  <recv request="ACK"/>
  {WAIT_BYE.replace("{timeout_ms}", "60000")}
</scenario>
"""

_HANG_UP = """  <pause milliseconds="{ms}"/>
  <send retrans="500"><![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: <sip:[$2]@[local_ip]:[local_port]>;tag=[pid]SIPpTag01[call_number]
To: [$3]
Call-ID: [call_id]
CSeq: 1 BYE
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200"/>
"""


def customers(hang_up_after_ms: int | None) -> str:
    """Customers behind a trunk: log ``INVITE <number>`` (the number dialed), ring, answer (media to
    ``{media_port}``), log ``ACK <number>`` (the call is up); then hang up after ``hang_up_after_ms``, or (None)
    wait for the server's BYE."""
    end = (
        _HANG_UP.replace("{ms}", str(hang_up_after_ms))
        if hang_up_after_ms is not None
        else WAIT_BYE.replace("{timeout_ms}", "60000")
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<scenario name="customers">
  <recv request="INVITE" rrs="true">
    <action>
      <ereg regexp="sip:([^@;>]+)@" search_in="hdr" header="To:" check_it="true" assign_to="1,2"/>
      <ereg regexp=".*" search_in="hdr" header="From:" check_it="true" assign_to="3"/>
      <log message="INVITE [$2]"/>
    </action>
  </recv>
  <send><![CDATA[
SIP/2.0 180 Ringing
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
{PHONE_ANSWER}  <recv request="ACK">
    <action><log message="ACK [$2]"/></action>
  </recv>
{end}  <Reference variables="1,3"/>
</scenario>
"""


@contextmanager
def sipp_phone(folder: Path, scenario: str, port: int, media_port: int) -> Iterator[Path]:
    """A SIPp answering on ``port`` with ``scenario`` until the end of the block; its log file (``<log>`` lines)."""
    assert SIPP is not None
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scenario.xml").write_text(scenario.replace("{media_port}", str(media_port)))
    log = folder / "calls.log"
    command = [
        SIPP, "-sf", "scenario.xml", "-i", "127.0.0.1", "-p", str(port), "-nostdin", "-trace_logs",
        "-log_file", str(log), "-trace_err", "-trace_msg", "-l", "200",
    ]  # fmt: skip
    with (folder / "sipp.out").open("wb") as out:
        proc = subprocess.Popen(command, cwd=folder, stdout=out, stderr=subprocess.STDOUT)
    try:
        time.sleep(0.5)
        assert proc.poll() is None, (folder / "sipp.out").read_text(errors="replace")[-2000:]
        yield log
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def logged(log: Path, what: str) -> Counter[str]:
    """How often each number appears in the SIPp log lines ``<what> <number>``."""
    text = log.read_text(errors="replace") if log.exists() else ""
    return Counter(re.findall(rf"^{what} (\S+)$", text, re.MULTILINE))
