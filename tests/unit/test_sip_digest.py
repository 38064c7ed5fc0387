"""SIP digest authentication: RFC vectors, challenge/answer round trips, and every refusal."""

from __future__ import annotations

import hashlib
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infolinia.agents.actions import ha1
from infolinia.voice.sip import Auth, Request, SipError, parse, parse_auth
from infolinia.voice.sip.digest import (
    Authorized,
    BadRequest,
    Challenge,
    DigestChallenger,
    DigestCredentials,
    Reason,
    answer,
    digest_response,
)

REALM = "demo.infolinia"
SECRET = b"0123456789abcdef0123456789abcdef"
NOW = 1_800_000_000.0
PASSWORD = "Tajne-Haslo-7"
URI = "sip:demo.infolinia"


def stored(algorithm: str) -> dict[str, str]:
    name = {"SHA-256": "sha256", "MD5": "md5"}[algorithm]
    return {"201": ha1(name, "201", REALM, PASSWORD)}


def lookup(username: str, algorithm: str) -> str | None:
    return stored(algorithm).get(username)


def register(*authorization: str, uri: str = URI, header: str = "Authorization", method: str = "REGISTER") -> Request:
    lines = [
        f"{method} {uri} SIP/2.0",
        "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds",
        "Max-Forwards: 70",
        "To: <sip:201@demo.infolinia>",
        "From: <sip:201@demo.infolinia>;tag=1928301774",
        "Call-ID: a84b4c76e66710@pc33.example.com",
        f"CSeq: 2 {method}",
        *(f"{header}: {value}" for value in authorization),
        "Content-Length: 0",
    ]
    message = parse(("\r\n".join(lines) + "\r\n\r\n").encode())
    assert isinstance(message, Request)
    return message


def counter() -> itertools.count[int]:
    return itertools.count(1)


def challenger(**options: object) -> DigestChallenger:
    numbers = counter()
    return DigestChallenger(REALM, SECRET, random=lambda n: next(numbers).to_bytes(n, "big"), **options)  # type: ignore[arg-type]


def offered(server: DigestChallenger, now: float = NOW, algorithm: str = "SHA-256") -> Auth:
    challenge = server.challenge(now)
    return next(value for value in challenge.challenges if value.get("algorithm") == algorithm)


def login(
    server: DigestChallenger,
    *,
    algorithm: str = "SHA-256",
    password: str = PASSWORD,
    username: str = "201",
    realm: str = REALM,
    now: float = NOW,
    nc: int = 1,
    uri: str = URI,
) -> str:
    name = {"SHA-256": "sha256", "MD5": "md5"}[algorithm]
    secret = ha1(name, username, realm, password)
    return str(answer(offered(server, now, algorithm), "REGISTER", uri, username, secret, cnonce="0a4f113b", nc=nc))


# -- RFC vectors ---------------------------------------------------------------------------------------------------
# Typed from RFC 7616 §3.9.1 and RFC 2617 §3.5. Each expected response is a hash of the other inputs, so a
# mistyped input or value could not give the stated response by chance: the match checks the transcription too.

RFC7616 = {
    "username": "Mufasa",
    "password": "Circle of Life",
    "realm": "http-auth@example.org",
    "nonce": "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
    "cnonce": "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
    "opaque": "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS",
    "uri": "/dir/index.html",
}


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ],
)
def test_rfc7616_examples(algorithm: str, expected: str) -> None:
    v = RFC7616
    name = {"SHA-256": "sha256", "MD5": "md5"}[algorithm]
    secret = ha1(name, v["username"], v["realm"], v["password"])
    assert digest_response(algorithm, secret, v["nonce"], "GET", v["uri"], "auth", "00000001", v["cnonce"]) == expected
    challenge = Auth.digest(
        {"realm": v["realm"], "qop": "auth, auth-int", "nonce": v["nonce"], "opaque": v["opaque"]},
        {"algorithm": algorithm},
    )
    reply = answer(challenge, "GET", v["uri"], v["username"], secret, cnonce=v["cnonce"])
    assert reply.get("response") == expected
    assert (reply.get("qop"), reply.get("nc"), reply.get("opaque")) == ("auth", "00000001", v["opaque"])


def test_rfc2617_example() -> None:
    secret = ha1("md5", "Mufasa", "testrealm@host.com", "Circle Of Life")
    nonce = "dcd98b7102dd2f0e8b11d0f600bfb0c093"
    response = digest_response("MD5", secret, nonce, "GET", "/dir/index.html", "auth", "00000001", "0a4f113b")
    assert response == "6629fae49393a05397450978507c4ef1"


def test_stored_ha1_is_the_rfc_ha1() -> None:
    expected = hashlib.sha256(b"201:demo.infolinia:" + PASSWORD.encode()).hexdigest()
    assert ha1("sha256", "201", REALM, PASSWORD) == expected


# -- challenges ----------------------------------------------------------------------------------------------------


def test_challenge_offers_sha256_then_md5() -> None:
    result = challenger().check(register(), NOW, lookup)
    assert isinstance(result, Challenge)
    assert (result.status, result.header, result.reason, result.stale) == (
        401,
        "WWW-Authenticate",
        Reason.MISSING,
        False,
    )
    sha, md5 = result.challenges
    assert [sha.get("algorithm"), md5.get("algorithm")] == ["SHA-256", "MD5"]
    assert sha.get("realm") == md5.get("realm") == REALM
    assert sha.get("qop") == "auth"
    name, value = result.headers()[0]
    assert name == "WWW-Authenticate"
    assert parse_auth(value) == sha
    assert value.startswith('Digest realm="demo.infolinia", nonce="')


def test_an_md5_only_challenger_offers_and_accepts_md5_alone() -> None:
    server = challenger(algorithms=("MD5",))
    result = server.check(register(), NOW, lookup)
    assert isinstance(result, Challenge) and [c.get("algorithm") for c in result.challenges] == ["MD5"]
    assert server.check(register(login(server, algorithm="MD5")), NOW, lookup) == Authorized("201", "MD5")
    # a SHA-256 answer to a nonce of ours is not taken, although its digest is right
    nonce = offered(server, algorithm="MD5").get("nonce") or ""
    as_sha = Auth.digest({"realm": REALM, "nonce": nonce, "qop": "auth"}, {"algorithm": "SHA-256"})
    sha = answer(as_sha, "REGISTER", URI, "201", stored("SHA-256")["201"], cnonce="c")
    refused(server.check(register(str(sha)), NOW, lookup), Reason.UNSUPPORTED)
    with pytest.raises(ValueError, match="algorithms"):
        challenger(algorithms=("SHA-512",))


def test_proxy_mode_uses_407_and_proxy_headers() -> None:
    server = challenger(proxy=True)
    missing = server.check(register(), NOW, lookup)
    assert isinstance(missing, Challenge)
    assert (missing.status, missing.header) == (407, "Proxy-Authenticate")
    ok = server.check(register(login(server), header="Proxy-Authorization"), NOW, lookup)
    assert ok == Authorized("201", "SHA-256")
    # credentials in the other header are not for a proxy
    other = server.check(register(login(server)), NOW, lookup)
    assert isinstance(other, Challenge)


def test_nonces_are_unique_and_authentic() -> None:
    server = challenger()
    nonces = {offered(server).get("nonce") for _ in range(50)}
    assert len(nonces) == 50
    for nonce in nonces:
        assert nonce is not None
        assert server.nonce_time(nonce) == int(NOW)
    other = DigestChallenger(REALM, b"another secret of 32 bytes......")
    assert all(other.nonce_time(nonce or "") is None for nonce in nonces)
    elsewhere = DigestChallenger("acme.infolinia", SECRET)
    assert all(elsewhere.nonce_time(nonce or "") is None for nonce in nonces)


def test_short_secret_refused() -> None:
    with pytest.raises(ValueError, match="secret"):
        DigestChallenger(REALM, b"short")


# -- round trips ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["SHA-256", "MD5"])
def test_round_trip(algorithm: str) -> None:
    server = challenger()
    result = server.check(register(login(server, algorithm=algorithm)), NOW + 10, lookup)
    assert result == Authorized("201", algorithm)


def test_two_steps_with_fetched_ha1() -> None:
    server = challenger()
    read = server.read(register(login(server)), NOW)
    assert isinstance(read, DigestCredentials)
    assert (read.username, read.algorithm, read.method, read.qop, read.nc) == (
        "201",
        "SHA-256",
        "REGISTER",
        "auth",
        "00000001",
    )
    assert server.verify(read, stored("SHA-256")["201"], NOW) == Authorized("201", "SHA-256")


def test_increasing_nonce_counts_on_one_nonce() -> None:
    server = challenger()
    challenge = offered(server)
    secret = stored("SHA-256")["201"]
    for nc in (1, 2, 4, 3):  # out of order is fine, each once
        value = answer(challenge, "REGISTER", URI, "201", secret, cnonce="c", nc=nc)
        assert server.check(register(str(value)), NOW + nc, lookup) == Authorized("201", "SHA-256")


def test_spelling_of_nc_and_algorithm() -> None:
    server = challenger()
    challenge = offered(server, algorithm="MD5")
    secret = stored("MD5")["201"]
    value = str(answer(challenge, "REGISTER", URI, "201", secret, cnonce="c", nc=10))
    upper = value.replace("nc=0000000a", "nc=0000000A").replace("algorithm=MD5", "algorithm=md5")
    nonce, cnonce = challenge.get("nonce") or "", "c"
    response = digest_response("MD5", secret, nonce, "REGISTER", URI, "auth", "0000000A", cnonce)
    upper = upper.replace(parse_auth(value).get("response") or "", response.upper())
    assert "nc=0000000A" in upper and "algorithm=md5" in upper
    assert server.check(register(upper), NOW, lookup) == Authorized("201", "MD5")
    # the same count in the other case is a replay
    refused(server.check(register(value), NOW, lookup), Reason.REPLAY, stale=True)


def test_equivalent_request_uri_accepted() -> None:
    server = challenger()
    value = login(server, uri="sip:DEMO.infolinia;transport=udp")
    assert server.check(register(value, uri="sip:demo.infolinia;Transport=UDP"), NOW, lookup) == Authorized(
        "201", "SHA-256"
    )


def test_invite_is_checked_with_its_method() -> None:
    server = challenger()
    secret = stored("SHA-256")["201"]
    value = str(answer(offered(server), "INVITE", "sip:100@demo.infolinia", "201", secret, cnonce="x"))
    assert server.check(register(value, uri="sip:100@demo.infolinia", method="INVITE"), NOW, lookup) == Authorized(
        "201", "SHA-256"
    )
    # the same credentials on another method do not hold
    bye = server.check(register(value, uri="sip:100@demo.infolinia", method="BYE"), NOW, lookup)
    assert isinstance(bye, Challenge)
    assert bye.reason == Reason.CREDENTIALS


def test_digest_of_another_realm_beside_ours() -> None:
    server = challenger()
    foreign = 'Digest username="x", realm="carrier.example", nonce="n", uri="sip:a", response="00"'
    assert server.check(register(foreign, login(server)), NOW, lookup) == Authorized("201", "SHA-256")


# -- refusals ------------------------------------------------------------------------------------------------------


def refused(result: object, reason: Reason, stale: bool = False) -> Challenge:
    assert isinstance(result, Challenge), result
    assert (result.reason, result.stale) == (reason, stale)
    return result


def test_wrong_password() -> None:
    server = challenger()
    refused(server.check(register(login(server, password="wrong")), NOW, lookup), Reason.CREDENTIALS)


def test_unknown_user_looks_like_a_wrong_password() -> None:
    server_a, server_b = challenger(), challenger()
    unknown = refused(server_a.check(register(login(server_a, username="999")), NOW, lookup), Reason.CREDENTIALS)
    wrong = refused(server_b.check(register(login(server_b, password="nope")), NOW, lookup), Reason.CREDENTIALS)
    assert unknown.headers() == wrong.headers()  # same random source, same clock: same bytes on the wire


def test_the_dummy_ha1_of_unknown_users_never_authorizes() -> None:
    server = challenger()
    dummy = server._dummy_ha1["SHA-256"]
    value = str(answer(offered(server), "REGISTER", URI, "999", dummy, cnonce="c"))
    refused(server.check(register(value), NOW, lookup), Reason.CREDENTIALS)
    read = server.read(register(value), NOW)
    assert isinstance(read, DigestCredentials)
    refused(server.verify(read, "zz", NOW), Reason.CREDENTIALS)  # a broken stored value: the dummy is used


def test_verify_refuses_an_algorithm_not_offered() -> None:
    server = challenger()
    credentials = DigestCredentials("201", "SHA-512", "n", URI, "00", "REGISTER", "auth", "00000001", "c")
    refused(server.verify(credentials, "00", NOW), Reason.UNSUPPORTED)


def test_malformed_stored_ha1_never_authorizes() -> None:
    server = challenger()
    read = server.read(register(login(server)), NOW)
    assert isinstance(read, DigestCredentials)
    refused(server.verify(read, "not a digest", NOW), Reason.CREDENTIALS)
    refused(server.verify(read, stored("MD5")["201"], NOW), Reason.CREDENTIALS)


def test_wrong_realm() -> None:
    server = challenger()
    value = login(server).replace(f'realm="{REALM}"', 'realm="acme.infolinia"')
    refused(server.check(register(value), NOW, lookup), Reason.WRONG_REALM)


def test_password_of_another_realm() -> None:
    server = challenger()
    value = login(server, realm="acme.infolinia").replace('realm="acme.infolinia"', f'realm="{REALM}"')
    refused(server.check(register(value), NOW, lookup), Reason.CREDENTIALS)


def test_replayed_nonce_count() -> None:
    server = challenger()
    value = login(server)
    assert server.check(register(value), NOW, lookup) == Authorized("201", "SHA-256")
    refused(server.check(register(value), NOW + 1, lookup), Reason.REPLAY, stale=True)


def test_tampered_nonce() -> None:
    server = challenger()
    value = login(server)
    auth = parse_auth(value)
    nonce = auth.get("nonce")
    assert nonce is not None
    for forged in (nonce[:-2] + ("A" if nonce[-2] != "A" else "B") + nonce[-1], nonce[:10], "x" * 43, nonce + "A"):
        secret = stored("SHA-256")["201"]
        challenge = Auth.digest({"realm": REALM, "nonce": forged, "qop": "auth"}, {"algorithm": "SHA-256"})
        again = str(answer(challenge, "REGISTER", URI, "201", secret, cnonce="c"))
        refused(server.check(register(again), NOW, lookup), Reason.BAD_NONCE)


def test_nonce_of_another_spelling_is_refused() -> None:
    server = challenger()
    nonce = offered(server).get("nonce")
    assert nonce is not None
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(nonce[-1])
    variant = nonce[:-1] + alphabet[last ^ 1]  # the two unused low bits of the last character
    assert server.nonce_time(variant) is None


def test_nonce_from_the_future_is_refused() -> None:
    server = challenger()
    refused(server.check(register(login(server, now=NOW + 60)), NOW, lookup), Reason.BAD_NONCE)


def test_expired_nonce_is_stale_only_with_the_right_password() -> None:
    server = challenger(nonce_lifetime=300)
    later = NOW + 301
    stale = refused(server.check(register(login(server)), later, lookup), Reason.STALE, stale=True)
    assert all(value.get("stale") == "true" for value in stale.challenges)
    fresh = stale.challenges[0].get("nonce")
    assert fresh is not None and server.nonce_time(fresh) == int(later)
    refused(server.check(register(login(server, password="bad")), later, lookup), Reason.CREDENTIALS)
    assert server.check(register(login(server)), NOW + 300, lookup) == Authorized("201", "SHA-256")


def test_eviction_makes_older_nonces_stale_never_replayable() -> None:
    server = challenger(max_seen=2)
    first = login(server, now=NOW)
    assert server.check(register(first), NOW, lookup) == Authorized("201", "SHA-256")
    for step in (1, 2):
        assert server.check(register(login(server, now=NOW + step)), NOW + step, lookup) == Authorized("201", "SHA-256")
    # (first nonce, 1) was evicted; its replay is refused as stale, not accepted
    refused(server.check(register(first), NOW + 3, lookup), Reason.STALE, stale=True)
    assert len(server._seen) == 2
    # the oldest went, so the newest nonce still serves its next count
    newest = challenger()._nonce(int(NOW + 2))
    assert server.nonce_time(newest) == int(NOW + 2)
    again = Auth.digest({"realm": REALM, "nonce": newest, "qop": "auth"}, {"algorithm": "SHA-256"})
    value = str(answer(again, "REGISTER", URI, "201", stored("SHA-256")["201"], cnonce="c", nc=2))
    assert server.check(register(value), NOW + 3, lookup) == Authorized("201", "SHA-256")


def test_uri_mismatch_is_a_bad_request() -> None:
    server = challenger()
    result = server.check(register(login(server, uri="sip:other.example")), NOW, lookup)
    assert isinstance(result, BadRequest)
    assert result.status == 400


def test_no_qop_md5_once_per_nonce() -> None:
    server = challenger()
    challenge = offered(server, algorithm="MD5")
    nonce = challenge.get("nonce")
    assert nonce is not None
    old = Auth("Digest", tuple((k, v) for k, v in challenge.params if k != "qop"))
    value = str(answer(old, "REGISTER", URI, "201", stored("MD5")["201"], cnonce="unused"))
    assert "qop" not in value and "cnonce" not in value
    assert server.check(register(value), NOW, lookup) == Authorized("201", "MD5")
    refused(server.check(register(value), NOW, lookup), Reason.REPLAY, stale=True)
    strict = challenger(allow_no_qop=False)
    refused(strict.check(register(value), NOW, lookup), Reason.UNSUPPORTED)


def test_no_qop_sha256_is_not_accepted() -> None:
    server = challenger()
    challenge = offered(server)
    old = Auth("Digest", tuple((k, v) for k, v in challenge.params if k != "qop"))
    value = str(answer(old, "REGISTER", URI, "201", stored("SHA-256")["201"], cnonce="x"))
    refused(server.check(register(value), NOW, lookup), Reason.UNSUPPORTED)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (("algorithm=SHA-256", "algorithm=SHA-512-256"), Reason.UNSUPPORTED),
        (("qop=auth", "qop=auth-int"), Reason.UNSUPPORTED),
        (("algorithm=SHA-256", "algorithm=SHA-256, userhash=true"), Reason.UNSUPPORTED),
        (("Digest ", "Basic "), Reason.MISSING),
    ],
)
def test_unsupported_choices(change: tuple[str, str], reason: Reason) -> None:
    server = challenger()
    value = login(server)
    assert change[0] in value
    refused(server.check(register(value.replace(*change)), NOW, lookup), reason)


@pytest.mark.parametrize(
    "change",
    [
        ("nc=00000001", "nc=1"),
        ("nc=00000001", "nc=0000000g"),
        (', cnonce="0a4f113b"', ""),
        (", nc=00000001", ""),
        ('username="201", ', ""),
        ('uri="sip:demo.infolinia", ', ""),
        ('response="', 'response="ff'),
        ('response="', 'response="zz'),
        ('username="201"', 'username="201", username="202"'),
        ("qop=auth", "qop=auth, nc=00000002"),
    ],
)
def test_malformed_credentials_are_bad_requests(change: tuple[str, str]) -> None:
    server = challenger()
    value = login(server)
    assert change[0] in value
    result = server.check(register(value.replace(*change, 1)), NOW, lookup)
    assert isinstance(result, BadRequest), result


def test_nc_without_qop_is_a_bad_request() -> None:
    server = challenger()
    value = login(server, algorithm="MD5").replace("qop=auth, ", "")
    assert isinstance(server.check(register(value), NOW, lookup), BadRequest)


def test_unparsable_authorization_is_a_bad_request() -> None:
    request = register(login(challenger()))
    request.headers.set("Authorization", 'Digest username="201, realm=')
    assert isinstance(challenger().check(request, NOW, lookup), BadRequest)


def test_answer_refuses_unusable_challenges() -> None:
    for challenge in (
        Auth("Basic", (("realm", '"x"'),)),
        Auth.digest({"realm": "x", "nonce": "n"}, {"algorithm": "SHA-512"}),
        Auth.digest({"nonce": "n"}),
    ):
        with pytest.raises(SipError):
            answer(challenge, "REGISTER", URI, "201", "00", cnonce="c")


# -- Hypothesis: any Authorization value gives a defined result -----------------------------------------------------

_names = st.sampled_from(
    ["username", "realm", "nonce", "uri", "response", "algorithm", "cnonce", "qop", "nc", "opaque", "userhash", "x"]
)
_values = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_characters='"\\\r\n'), max_size=70).map(lambda t: f'"{t}"'),
    st.text("0123456789abcdefABCDEF", min_size=1, max_size=70),
    st.sampled_from(["auth", "MD5", "SHA-256", "true", "00000001", '"sip:demo.infolinia"', f'"{REALM}"']),
)


@settings(max_examples=400, deadline=None)
@given(params=st.lists(st.tuples(_names, _values), max_size=12), now=st.floats(0, 2**40, allow_nan=False))
def test_random_authorization_values(params: list[tuple[str, str]], now: float) -> None:
    server = challenger()
    request = register()
    request.headers.add("Authorization", "Digest " + ", ".join(f"{name}={value}" for name, value in params))
    result = server.check(request, now, lookup)
    assert isinstance(result, Challenge | BadRequest)


@settings(max_examples=200, deadline=None)
@given(nonce=st.text(max_size=60), response=st.text(max_size=70), uri=st.text(max_size=30))
def test_random_credentials_to_verify(nonce: str, response: str, uri: str) -> None:
    server = challenger()
    credentials = DigestCredentials("201", "SHA-256", nonce, uri, response, "REGISTER", "auth", "00000001", "c")
    try:
        result = server.verify(credentials, stored("SHA-256")["201"], NOW)
    except SipError:
        return  # text that is not UTF-8 in the uri
    assert isinstance(result, Challenge)
