"""SIP digest authentication (RFC 3261 §22, RFC 7616, RFC 8760), server side and a client answer; pure.

``DigestChallenger`` issues challenges and checks credentials against stored HA1 digests (``H(user:realm:pw)``),
so the password itself is never needed. The results are values, never exceptions: ``Authorized``, ``Challenge``
(send 401 or 407 with its headers) or ``BadRequest`` (send 400).

- **Stateless nonces.** A nonce is ``base64url(time ‖ 8 random bytes ‖ HMAC-SHA256(secret, realm ‖ time ‖
  random)[:16])``: the server recognises its own nonces and their age without keeping a table of them, so
  nothing grows with the number of challenges an attacker asks for.
- **Both algorithms** are offered by default, SHA-256 first, then MD5 (RFC 8760 §2.4), with ``qop="auth"``;
  ``algorithms`` narrows the offer (and what is accepted) to some of them, in the order given. An old phone's
  RFC 2069/2617 answer without qop is accepted for MD5 when ``allow_no_qop`` is set; its nonce is then good for
  one request only (it has no nonce count to protect it from replay).
- **Replay.** After a correct answer the pair (nonce, nc) is remembered, oldest first out, in at most
  ``max_seen`` entries; the same pair again is refused (a new challenge with ``stale=true``). When an entry is
  evicted, every nonce as old as it or older counts as stale from then on, so an eviction can never let a replay
  in: at worst a client is asked again. Memory is bounded by ``max_seen`` (about 300 bytes an entry, some 20 MB
  at the default 65,536); nothing is remembered before an answer proved the password, so an attacker without
  one adds nothing.
- **Stale.** An authentic nonce past ``nonce_lifetime`` with a correct answer is challenged again with
  ``stale=true`` (the client retries without asking its user); a wrong answer gets a plain challenge.
- **No oracle.** An unknown user is checked against a dummy HA1 and gets the same challenge as a wrong password
  (reason ``CREDENTIALS`` for both). Digests are compared with ``hmac.compare_digest``.

The check comes in two steps so that the HA1 may be fetched asynchronously between them: ``read(request)`` gives
the ``DigestCredentials`` (whose ``username`` and ``algorithm`` say which HA1 to fetch), ``verify(credentials,
ha1, now)`` decides. ``check(request, now, lookup)`` does both with a synchronous lookup.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from .errors import SipError
from .headers import Auth
from .message import Request
from .uri import SipUri, parse_uri

ALGORITHMS: dict[str, str] = {"SHA-256": "sha256", "MD5": "md5"}
"""Digest algorithm names (RFC 7616 §6.1) and their hashlib names, in the order they are offered."""

HEX_LENGTH = {"SHA-256": 64, "MD5": 32}
NONCE_LIFETIME = 300
MAX_SEEN = 65_536
CLOCK_SKEW = 2
"""Seconds a nonce's time may lie in the future (several nodes sharing one secret)."""

_NONCE_RAW = 8 + 8 + 16
_NONCE_LENGTH = 43  # base64url of 32 bytes, without padding
_NONCE_CONTEXT = b"infolinia sip digest nonce\x00"
_LHEX = frozenset("0123456789abcdef")
_HEX = frozenset("0123456789abcdefABCDEF")
_SINGLE = ("username", "realm", "nonce", "uri", "response", "algorithm", "cnonce", "opaque", "qop", "nc")


class Reason(StrEnum):
    """Why a request was challenged again. For logs and counters: never tell the peer more than the challenge."""

    MISSING = "no digest credentials"
    WRONG_REALM = "credentials for another realm"
    UNSUPPORTED = "algorithm, qop or userhash not offered"
    BAD_NONCE = "nonce not issued here"
    CREDENTIALS = "unknown user or wrong password"
    STALE = "nonce expired"
    REPLAY = "nonce count already used"


@dataclass(frozen=True, slots=True)
class Authorized:
    username: str
    algorithm: str


@dataclass(frozen=True, slots=True)
class Challenge:
    """Answer with ``status`` (401 or 407) and these header fields."""

    reason: Reason
    status: int
    header: str  # WWW-Authenticate or Proxy-Authenticate
    challenges: tuple[Auth, ...]

    @property
    def stale(self) -> bool:
        return self.challenges[0].get("stale") == "true"

    def headers(self) -> list[tuple[str, str]]:
        return [(self.header, str(challenge)) for challenge in self.challenges]


@dataclass(frozen=True, slots=True)
class BadRequest:
    """Answer 400: the credentials are malformed, or their uri is not the Request-URI."""

    reason: str
    status: int = 400


AuthResult = Authorized | Challenge | BadRequest


@dataclass(frozen=True, slots=True)
class DigestCredentials:
    """The parts of an Authorization value that ``verify`` needs; ``method`` is the request's."""

    username: str
    algorithm: str
    nonce: str
    uri: str
    response: str
    method: str
    qop: str | None = None
    nc: str | None = None
    cnonce: str | None = None


def ha2(algorithm: str, method: str, uri: str) -> str:
    return _h(algorithm, f"{method}:{uri}")


def digest_response(
    algorithm: str, ha1: str, nonce: str, method: str, uri: str, qop: str | None, nc: str, cnonce: str
) -> str:
    """The ``response`` value (RFC 7616 §3.4.1; without qop, RFC 2069). ``algorithm`` is SHA-256 or MD5."""
    second = ha2(algorithm, method, uri)
    if qop is None:
        return _h(algorithm, f"{ha1}:{nonce}:{second}")
    return _h(algorithm, f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{second}")


def answer(challenge: Auth, method: str, uri: str, username: str, ha1: str, *, cnonce: str, nc: int = 1) -> Auth:
    """The Authorization value a client sends for ``challenge`` (qop=auth when offered, else RFC 2069 style).

    Raises SipError when the challenge is not Digest or names an algorithm other than SHA-256 or MD5.
    """
    if challenge.scheme.lower() != "digest":
        raise SipError("not a Digest challenge")
    algorithm = _algorithm(challenge)
    realm, nonce = challenge.get("realm"), challenge.get("nonce")
    if algorithm not in ALGORITHMS or realm is None or nonce is None:
        raise SipError("unusable Digest challenge")
    qops = [word.strip() for word in (challenge.get("qop") or "").split(",")]
    qop = "auth" if "auth" in qops else None
    count = f"{nc:08x}"
    quoted = {"username": username, "realm": realm, "nonce": nonce, "uri": uri}
    quoted["response"] = digest_response(algorithm, ha1, nonce, method, uri, qop, count, cnonce)
    plain = {"algorithm": algorithm}
    if qop is not None:
        quoted["cnonce"] = cnonce
        plain |= {"qop": qop, "nc": count}
    opaque = challenge.get("opaque")
    if opaque is not None:
        quoted["opaque"] = opaque
    return Auth.digest(quoted, plain)


class DigestChallenger:
    """Challenges and checks digest credentials for one realm. Holds only the bounded replay LRU."""

    def __init__(
        self,
        realm: str,
        secret: bytes,
        *,
        proxy: bool = False,
        nonce_lifetime: int = NONCE_LIFETIME,
        max_seen: int = MAX_SEEN,
        allow_no_qop: bool = True,
        algorithms: Sequence[str] = tuple(ALGORITHMS),
        random: Callable[[int], bytes] = os.urandom,
    ) -> None:
        if not algorithms or not set(algorithms) <= set(ALGORITHMS):
            raise ValueError(f"algorithms must be some of {', '.join(ALGORITHMS)}")
        if len(secret) < 16:
            raise ValueError("the nonce secret needs at least 16 bytes")
        if max_seen < 1 or nonce_lifetime < 1:
            raise ValueError("max_seen and nonce_lifetime must be positive")
        self.realm = realm
        self.proxy = proxy
        self.nonce_lifetime = nonce_lifetime
        self.max_seen = max_seen
        self.allow_no_qop = allow_no_qop
        self.algorithms = tuple(dict.fromkeys(algorithms))
        self._secret = secret
        self._random = random
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._stale_before = -1  # nonces issued at or before this time are stale (after an eviction)
        self._dummy_ha1 = {alg: _h(alg, f"{secret.hex()}:{realm}:unknown") for alg in ALGORITHMS}

    @property
    def credentials_header(self) -> str:
        return "Proxy-Authorization" if self.proxy else "Authorization"

    # -- challenges ----------------------------------------------------------------------------------------------

    def challenge(self, now: float, reason: Reason = Reason.MISSING, *, stale: bool = False) -> Challenge:
        nonce = self._nonce(int(now))
        values = []
        for algorithm in self.algorithms:
            quoted = {"realm": self.realm, "nonce": nonce, "qop": "auth"}
            plain = {"algorithm": algorithm} | ({"stale": "true"} if stale else {})
            values.append(Auth.digest(quoted, plain))
        header = "Proxy-Authenticate" if self.proxy else "WWW-Authenticate"
        return Challenge(reason, 407 if self.proxy else 401, header, tuple(values))

    def _nonce(self, issued: int) -> str:
        payload = issued.to_bytes(8, "big") + self._random(8)
        return base64.urlsafe_b64encode(payload + self._mac(payload)).rstrip(b"=").decode("ascii")

    def _mac(self, payload: bytes) -> bytes:
        message = _NONCE_CONTEXT + self.realm.encode("utf-8", "surrogatepass") + b"\x00" + payload
        return hmac.new(self._secret, message, hashlib.sha256).digest()[:16]

    def nonce_time(self, nonce: str) -> int | None:
        """When this server issued ``nonce``, or None when it did not (wrong form or forged)."""
        if len(nonce) != _NONCE_LENGTH or not nonce.isascii():
            return None
        try:
            raw = base64.urlsafe_b64decode(nonce + "=")
        except (binascii.Error, ValueError):
            return None
        if len(raw) != _NONCE_RAW or base64.urlsafe_b64encode(raw).rstrip(b"=") != nonce.encode("ascii"):
            return None  # only the canonical spelling: one nonce, one string
        if not hmac.compare_digest(raw[16:], self._mac(raw[:16])):
            return None
        return int.from_bytes(raw[:8], "big")

    # -- checking ------------------------------------------------------------------------------------------------

    def check(self, request: Request, now: float, lookup: Callable[[str, str], str | None]) -> AuthResult:
        """Both steps; ``lookup(username, algorithm)`` gives the stored HA1 (hex) for this realm, or None."""
        read = self.read(request, now)
        if not isinstance(read, DigestCredentials):
            return read
        return self.verify(read, lookup(read.username, read.algorithm), now)

    def read(self, request: Request, now: float) -> DigestCredentials | Challenge | BadRequest:
        """Pick this realm's Digest credentials from the request and check their form and uri."""
        try:
            values = request.auth(self.credentials_header)
        except SipError as error:
            return BadRequest(f"malformed {self.credentials_header}: {error.reason}")
        digests = [value for value in values if value.scheme.lower() == "digest"]
        ours = [value for value in digests if value.get("realm") == self.realm]
        if not ours:
            return self.challenge(now, Reason.WRONG_REALM if digests else Reason.MISSING)
        chosen = next((value for value in ours if _algorithm(value) in self.algorithms), ours[0])
        try:
            return self._credentials(chosen, request)
        except _Refused as refused:
            return self.challenge(now, refused.reason)
        except SipError as error:
            return BadRequest(error.reason)

    def _credentials(self, value: Auth, request: Request) -> DigestCredentials:
        names = [name.lower() for name, _ in value.params]
        for name in _SINGLE:
            if names.count(name) > 1:
                raise SipError(f"Digest parameter {name} given twice")
        if "userhash" in names and value.get("userhash") != "false":
            raise _Refused(Reason.UNSUPPORTED)
        fields = {name: value.get(name) for name in _SINGLE}
        username, nonce, uri, response = fields["username"], fields["nonce"], fields["uri"], fields["response"]
        if username is None or nonce is None or uri is None or response is None:
            raise SipError("Digest credentials need username, nonce, uri and response")
        algorithm = _algorithm(value)
        qop, nc, cnonce = fields["qop"], fields["nc"], fields["cnonce"]
        if algorithm not in self.algorithms:
            raise _Refused(Reason.UNSUPPORTED)
        if qop is None:
            if nc is not None or cnonce is not None:
                raise SipError("nc and cnonce without qop")
            if algorithm != "MD5" or not self.allow_no_qop:
                raise _Refused(Reason.UNSUPPORTED)
        elif qop != "auth":
            raise _Refused(Reason.UNSUPPORTED)
        elif nc is None or len(nc) != 8 or not set(nc) <= _HEX or not cnonce:
            raise SipError("qop=auth needs nc (8 hex digits) and cnonce")
        if len(response) != HEX_LENGTH[algorithm] or not set(response) <= _HEX:
            raise SipError("response is not a digest")
        for text in (username, uri, cnonce or ""):
            _encode(text)
        if not _same_uri(uri, request):
            raise SipError("digest uri is not the Request-URI")
        return DigestCredentials(username, algorithm, nonce, uri, response.lower(), request.method, qop, nc, cnonce)

    def verify(self, credentials: DigestCredentials, ha1: str | None, now: float) -> Challenge | Authorized:
        """Decide on credentials from ``read``; ``ha1`` is the user's stored HA1 for the algorithm, or None."""
        c = credentials
        if c.algorithm not in self.algorithms:
            return self.challenge(now, Reason.UNSUPPORTED)
        issued = self.nonce_time(c.nonce)
        if issued is None or issued > now + CLOCK_SKEW:
            return self.challenge(now, Reason.BAD_NONCE)
        known = ha1 is not None and len(ha1) == HEX_LENGTH[c.algorithm] and set(ha1) <= _HEX
        key = ha1.lower() if ha1 is not None and known else self._dummy_ha1[c.algorithm]
        expected = digest_response(c.algorithm, key, c.nonce, c.method, c.uri, c.qop, c.nc or "", c.cnonce or "")
        given = c.response.encode("utf-8", "surrogatepass")
        if not hmac.compare_digest(expected.encode("ascii"), given) or not known:
            return self.challenge(now, Reason.CREDENTIALS)
        if now - issued > self.nonce_lifetime or issued <= self._stale_before:
            return self.challenge(now, Reason.STALE, stale=True)
        seen = (c.nonce, c.nc.lower() if c.nc else "")  # 0000000A and 0000000a are one count
        if seen in self._seen:
            return self.challenge(now, Reason.REPLAY, stale=True)
        self._remember(seen)
        return Authorized(c.username, c.algorithm)

    def _remember(self, seen: tuple[str, str]) -> None:
        self._seen[seen] = None
        while len(self._seen) > self.max_seen:
            (old_nonce, _), _ = self._seen.popitem(last=False)
            self._stale_before = max(self._stale_before, self.nonce_time(old_nonce) or 0)


class _Refused(Exception):
    def __init__(self, reason: Reason) -> None:
        super().__init__(reason.value)
        self.reason = reason


def _algorithm(value: Auth) -> str:
    """The algorithm named (RFC 7616 §3.3: tokens, without case), MD5 when none is."""
    return (value.get("algorithm") or "MD5").upper()


def _h(algorithm: str, text: str) -> str:
    return hashlib.new(ALGORITHMS[algorithm], _encode(text)).hexdigest()


def _encode(text: str) -> bytes:
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError as error:
        raise SipError("text that is not UTF-8") from error


def _same_uri(uri: str, request: Request) -> bool:
    """RFC 3261 §22.4: the digest uri must be the Request-URI (as written, or equivalent by §19.1.4)."""
    if uri == str(request.uri):
        return True
    if not isinstance(request.uri, SipUri):
        return False
    try:
        return request.uri.equivalent(parse_uri(uri))
    except SipError:
        return False
