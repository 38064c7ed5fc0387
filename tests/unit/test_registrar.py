"""The binding table (expiry, ``*``, clamping, 423) and the registrar's decisions, without sockets or a database."""

from __future__ import annotations

import asyncio

from infolinia.agents.actions import ha1
from infolinia.voice.bindings import BindingTable, OutOfOrder, TooBrief, Update
from infolinia.voice.directory import SipTenant
from infolinia.voice.registrar import Registrar
from infolinia.voice.sip import Request, Response, parse, parse_auth
from infolinia.voice.sip.digest import answer

AOR = (1, "1002")
SRC = ("127.0.0.1", 5062)
DEMO = SipTenant(1, "demo")


def test_expiry_clamping_and_removal() -> None:
    table = BindingTable()
    got = table.register(AOR, [Update("sip:a@h", 7200), Update("sip:b@h", 120)], SRC, "c", 1, now=0)
    assert isinstance(got, list) and {b.uri: b.expires_in(0) for b in got} == {"sip:a@h": 3600, "sip:b@h": 120}
    assert [b.uri for b in table.contacts(AOR, 119)] == ["sip:a@h", "sip:b@h"]
    assert [b.uri for b in table.contacts(AOR, 120)] == ["sip:a@h"]
    assert table.register(AOR, [Update("sip:a@h", 0)], SRC, "c", 2, now=121) == []
    assert table.contacts(AOR, 121) == [] and len(table) == 0


def test_too_brief_changes_nothing() -> None:
    table = BindingTable()
    assert table.register(AOR, [Update("sip:a@h", 30)], SRC, "c", 1, now=0) == TooBrief(60)
    assert table.contacts(AOR, 0) == []


def test_star_removes_all_and_old_cseq_is_refused() -> None:
    table = BindingTable()
    table.register(AOR, [Update("sip:a@h", None), Update("sip:b@h", 60)], SRC, "c", 5, now=0)
    assert table.register(AOR, [Update("sip:a@h", 60)], SRC, "c", 5, now=1) == OutOfOrder()
    assert table.remove_all(AOR, "c", 4, now=1) == OutOfOrder()
    assert table.remove_all(AOR, "other", 1, now=1) == [] and table.contacts(AOR, 1) == []


def test_purge() -> None:
    table = BindingTable()
    table.register(AOR, [Update("sip:a@h", 60)], SRC, "c", 1, now=0)
    table.register((2, "2001"), [Update("sip:b@h", 600)], SRC, "d", 1, now=0)
    assert table.purge(61) == 1 and len(table) == 1


class Directory:
    async def tenant(self, slug: str) -> SipTenant | None:
        return DEMO if slug == "demo" else None

    async def tenants_with(self, extension: str) -> list[SipTenant]:
        return [DEMO] if extension == "1002" else []

    async def ha1(self, tenant: SipTenant, extension: str, algorithm: str) -> str | None:
        if tenant != DEMO or extension != "1002":
            return None
        return ha1("md5" if algorithm == "MD5" else "sha256", "1002", "demo.infolinia", "demo")


def register(
    cseq: int, extra: str = "", contact: str = "Contact: <sip:1002@10.0.0.5:5062>\r\nExpires: 120\r\n"
) -> Request:
    text = (
        "REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bK1\r\n"
        "From: <sip:1002@127.0.0.1>;tag=a\r\nTo: <sip:1002@127.0.0.1>\r\nCall-ID: reg1\r\n"
        f"CSeq: {cseq} REGISTER\r\n{contact}{extra}Content-Length: 0\r\n\r\n"
    )
    request = parse(text.encode())
    assert isinstance(request, Request)
    return request


def authorized(registrar: Registrar, cseq: int, password: str, contact: str | None = None) -> Response:
    challenge = asyncio.run(registrar.handle(register(cseq - 1), SRC, 1000.0))
    assert challenge.status == 401
    offer = parse_auth(challenge.headers.get_all("WWW-Authenticate")[0])
    key = ha1("md5", "1002", "demo.infolinia", password)
    creds = answer(offer, "REGISTER", "sip:127.0.0.1", "1002", key, cnonce="c0ffee")
    kwargs = {} if contact is None else {"contact": contact}
    return asyncio.run(registrar.handle(register(cseq, f"Authorization: {creds}\r\n", **kwargs), SRC, 1001.0))


def test_challenge_in_the_tenant_realm_then_200_with_contacts() -> None:
    registrar = Registrar(Directory())
    ok = authorized(registrar, 2, "demo")
    assert ok.status == 200
    assert ok.headers.get("Contact") == "<sip:1002@10.0.0.5:5062>;expires=120"
    assert [b.source for b in registrar.contacts(1, "1002", 1001.0)] == [SRC]


def test_wrong_password_is_challenged_again_and_binds_nothing() -> None:
    registrar = Registrar(Directory())
    assert authorized(registrar, 2, "wrong").status == 401
    assert registrar.contacts(1, "1002", 1001.0) == []


def test_423_and_star() -> None:
    registrar = Registrar(Directory())
    brief = authorized(registrar, 2, "demo", "Contact: <sip:1002@10.0.0.5>;expires=10\r\n")
    assert brief.status == 423 and brief.headers.get("Min-Expires") == "60"
    assert authorized(registrar, 4, "demo").status == 200
    assert authorized(registrar, 6, "demo", "Contact: *\r\n").status == 400  # * needs Expires: 0
    assert authorized(registrar, 8, "demo", "Contact: *\r\nExpires: 0\r\n").status == 200
    assert registrar.contacts(1, "1002", 1001.0) == []


def test_unknown_domain_and_extension_is_404() -> None:
    unknown = parse(bytes(register(1)).replace(b"1002@", b"9999@"))
    assert isinstance(unknown, Request)
    assert asyncio.run(Registrar(Directory()).handle(unknown, SRC, 0.0)).status == 404


def test_phones_are_challenged_with_md5_alone_unless_told_otherwise() -> None:
    """libre 1.x (baresip 1.0.0) gives up on a 401 that offers SHA-256 beside MD5: the default offers MD5 alone."""

    def algorithms(registrar: Registrar) -> list[str | None]:
        challenge = asyncio.run(registrar.handle(register(1), SRC, 0.0))
        return [parse_auth(value).get("algorithm") for value in challenge.headers.get_all("WWW-Authenticate")]

    assert algorithms(Registrar(Directory())) == ["MD5"]
    assert algorithms(Registrar(Directory(), algorithms=("SHA-256", "MD5"))) == ["MD5", "SHA-256"]
