"""SDP parse/serialise (RFC 4566) and offer/answer for audio (RFC 3264), on offers shaped like real peers'."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infolinia.voice.sdp import (
    MAX_SDP_SIZE,
    Answer,
    Connection,
    Local,
    NotAcceptable,
    RtpMap,
    SdpError,
    answer_offer,
    parse_sdp,
)


def sdp(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode()


# SIPp 3.6 `-sn uac`: one PCMU stream.
SIPP = sdp(
    "v=0",
    "o=user1 53655765 2353687637 IN IP4 127.0.0.1",
    "s=-",
    "c=IN IP4 127.0.0.1",
    "t=0 0",
    "m=audio 6000 RTP/AVP 0",
    "a=rtpmap:0 PCMU/8000",
)

# baresip: opus first, G.711 later, telephone events, rtcp-mux and a bandwidth line.
BARESIP = sdp(
    "v=0",
    "o=- 1406148290 3279455622 IN IP4 192.168.1.10",
    "s=-",
    "c=IN IP4 192.168.1.10",
    "t=0 0",
    "a=tool:baresip 1.0.0",
    "m=audio 10498 RTP/AVP 96 9 0 8 101",
    "b=AS:96",
    "a=rtpmap:96 opus/48000/2",
    "a=fmtp:96 stereo=1;sprop-stereo=1",
    "a=rtpmap:9 G722/8000",
    "a=rtpmap:0 PCMU/8000",
    "a=rtpmap:8 PCMA/8000",
    "a=rtpmap:101 telephone-event/8000",
    "a=fmtp:101 0-15",
    "a=sendrecv",
    "a=label:1",
    "a=rtcp-rsize",
    "a=ssrc:2046231838 cname:55b9e0f8-7a41-4e55-a3b1-2e1e3d0b5b1a",
    "a=rtcp-mux",
)

# Linphone-like: many codecs, telephone events at three rates, IPv6, a video stream, on hold (sendonly).
LINPHONE = sdp(
    "v=0",
    "o=alice 3070 2416 IN IP6 2001:db8::10",
    "s=Talk",
    "c=IN IP6 2001:db8::10",
    "t=0 0",
    "a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics",
    "m=audio 7078 RTP/AVP 96 97 98 8 0 18 101 99 100",
    "a=rtpmap:96 opus/48000/2",
    "a=fmtp:96 useinbandfec=1",
    "a=rtpmap:97 speex/16000",
    "a=fmtp:97 vbr=on",
    "a=rtpmap:98 speex/8000",
    "a=fmtp:98 vbr=on",
    "a=fmtp:18 annexb=yes",
    "a=rtpmap:101 telephone-event/48000",
    "a=rtpmap:99 telephone-event/16000",
    "a=rtpmap:100 telephone-event/8000",
    "a=ptime:30",
    "a=sendonly",
    "a=rtcp-fb:* trr-int 1000",
    "m=video 9078 RTP/AVP 96 97",
    "a=rtpmap:96 VP8/90000",
    "a=rtpmap:97 H264/90000",
    "a=fmtp:97 profile-level-id=42801F",
)

LOCAL = Local("203.0.113.5", 20000, session_id="42", session_version=1)


def answered(offer: bytes, local: Local = LOCAL) -> Answer:
    result = answer_offer(parse_sdp(offer), local)
    assert isinstance(result, Answer), result
    again = parse_sdp(bytes(result.sdp))  # what we send parses, and equal
    assert again == result.sdp
    return result


# -- parsing -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [SIPP, BARESIP, LINPHONE])
def test_real_offers_round_trip(data: bytes) -> None:
    parsed = parse_sdp(data)
    assert bytes(parsed) == data
    assert parse_sdp(bytes(parsed)) == parsed


def test_fields() -> None:
    offer = parse_sdp(LINPHONE)
    assert (offer.origin.username, offer.origin.session_id, offer.origin.version) == ("alice", "3070", 2416)
    assert offer.connection == Connection("2001:db8::10", "IP6")
    assert offer.name == "Talk" and offer.times == ((0, 0),)
    audio, video = offer.media
    assert (audio.media, audio.port, audio.proto) == ("audio", 7078, "RTP/AVP")
    assert audio.payload_types == [96, 97, 98, 8, 0, 18, 101, 99, 100]
    assert audio.rtpmaps[96] == RtpMap(96, "opus", 48000, 2)
    assert audio.rtpmaps[100] == RtpMap(100, "telephone-event", 8000)
    assert 0 not in audio.rtpmaps  # static types need no rtpmap
    assert audio.fmtp(18) == "annexb=yes" and audio.fmtp(0) is None
    assert audio.ptime == 30
    assert audio.direction() == "sendonly"
    assert video.direction(offer.direction) == "sendrecv"
    assert str(video).startswith("m=video 9078 RTP/AVP 96 97\r\na=rtpmap:96 VP8/90000")


def test_lf_line_ends_and_missing_final_newline() -> None:
    assert parse_sdp(SIPP.replace(b"\r\n", b"\n").rstrip(b"\n")) == parse_sdp(SIPP)


def test_other_lines_are_kept() -> None:
    data = sdp(
        "v=0",
        "o=- 1 1 IN IP4 192.0.2.1",
        "s=A call",
        "i=about it",
        "e=ops@example.com",
        "c=IN IP4 192.0.2.1",
        "b=CT:128",
        "t=3034423619 3042462419",
        "r=7d 1h 0 25h",
        "k=prompt",
        "a=recvonly",
        "m=audio 49170/2 RTP/AVP 0",
        "i=the voice",
        "c=IN IP4 224.2.1.1/127",
        "b=AS:64",
    )
    parsed = parse_sdp(data)
    assert bytes(parsed) == data
    assert parsed.direction == "recvonly"
    assert parsed.media[0].port_count == 2
    assert parsed.connection_of(parsed.media[0]) == Connection("224.2.1.1/127")


def test_non_rtp_streams_keep_their_formats() -> None:
    data = SIPP + sdp("m=image 5004 udptl t38", "a=T38FaxVersion:0", "a=fmtp:t38 x=1", "a=rtpmap:t38 whatever")
    image = parse_sdp(data).media[1]
    assert (image.formats, image.payload_types, image.rtpmaps, image.is_rtp) == (("t38",), [], {}, False)
    assert bytes(parse_sdp(data)) == data
    assert [m.port for m in answered(data).sdp.media] == [20000, 0]


# -- offer/answer --------------------------------------------------------------------------------------------------


def test_answer_sipp() -> None:
    result = answered(SIPP)
    assert (result.codec, result.payload_type, result.telephone_event) == ("PCMU", 0, None)
    assert (result.remote_address, result.remote_port, result.direction) == ("127.0.0.1", 6000, "sendrecv")
    assert bytes(result.sdp) == sdp(
        "v=0",
        "o=infolinia 42 1 IN IP4 203.0.113.5",
        "s=-",
        "c=IN IP4 203.0.113.5",
        "t=0 0",
        "m=audio 20000 RTP/AVP 0",
        "a=rtpmap:0 PCMU/8000",
        "a=ptime:20",
        "a=sendrecv",
    )


def test_answer_baresip_keeps_telephone_event_number() -> None:
    result = answered(BARESIP)
    assert (result.codec, result.payload_type, result.telephone_event) == ("PCMU", 0, 101)
    [media] = result.sdp.media
    assert media.formats == ("0", "101")
    assert media.rtpmaps[101] == RtpMap(101, "telephone-event", 8000)
    assert media.fmtp(101) == "0-15"
    assert media.attribute("rtcp-mux") is None and "rtcp-mux" not in [name for name, _ in media.attributes]


def test_our_preference_order_decides() -> None:
    result = answered(BARESIP, Local("203.0.113.5", 20000, codecs=("PCMA", "PCMU")))
    assert (result.codec, result.payload_type) == ("PCMA", 8)
    only_pcma = answer_offer(parse_sdp(SIPP), Local("203.0.113.5", 20000, codecs=("PCMA",)))
    assert isinstance(only_pcma, NotAcceptable) and only_pcma.status == 488


def test_answer_linphone_ipv6_hold_and_video_refused() -> None:
    result = answered(LINPHONE, Local("2001:db8::1", 30000, codecs=("PCMA", "PCMU")))
    assert (result.codec, result.payload_type) == ("PCMA", 8)
    result = answered(LINPHONE, Local("2001:db8::1", 30000))
    assert (result.codec, result.payload_type) == ("PCMU", 0)  # our order, although the offer lists 8 first
    assert result.telephone_event == 100  # the 8000 Hz one, not 101 (48 kHz) or 99 (16 kHz)
    assert (result.remote_address, result.remote_port, result.remote_ptime) == ("2001:db8::10", 7078, 30)
    assert result.direction == "recvonly"
    assert result.sdp.connection == Connection("2001:db8::1", "IP6")
    assert result.sdp.origin.addrtype == "IP6"
    audio, video = result.sdp.media
    assert audio.direction() == "recvonly"
    assert (video.media, video.port, video.formats) == ("video", 0, ("96", "97"))


@pytest.mark.parametrize(
    ("offered", "ours"),
    [("sendrecv", "sendrecv"), ("sendonly", "recvonly"), ("recvonly", "sendonly"), ("inactive", "inactive")],
)
def test_direction_mirrored(offered: str, ours: str) -> None:
    media_level = answered(SIPP + f"a={offered}\r\n".encode())
    assert media_level.direction == ours
    assert media_level.sdp.media[0].direction() == ours
    session_level = answered(SIPP.replace(b"t=0 0\r\n", f"t=0 0\r\na={offered}\r\n".encode()))
    assert session_level.direction == ours


@pytest.mark.parametrize(("offered", "ours"), [("sendrecv", "recvonly"), ("recvonly", "inactive")])
def test_old_hold_with_zero_address(offered: str, ours: str) -> None:
    offer = SIPP.replace(b"c=IN IP4 127.0.0.1", b"c=IN IP4 0.0.0.0") + f"a={offered}\r\n".encode()
    assert answered(offer).direction == ours


def test_port_zero_lines_are_mirrored_and_skipped() -> None:
    offer = sdp(
        "v=0",
        "o=- 1 1 IN IP4 192.0.2.1",
        "s=-",
        "t=0 0",
        "m=audio 0 RTP/AVP 0",
        "m=audio 4000 RTP/SAVP 0",
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz",
        "c=IN IP4 192.0.2.1",
        "m=audio 5000 RTP/AVP 8 0",
        "c=IN IP4 192.0.2.2",
    )
    result = answered(offer)
    assert [m.port for m in result.sdp.media] == [0, 0, 20000]
    assert result.sdp.media[1].proto == "RTP/SAVP"
    assert (result.codec, result.payload_type, result.remote_address, result.remote_port) == (
        "PCMU",
        0,
        "192.0.2.2",
        5000,
    )


def test_dynamic_payload_type_for_pcmu() -> None:
    offer = SIPP.replace(b"RTP/AVP 0", b"RTP/AVP 110").replace(b"rtpmap:0 PCMU", b"rtpmap:110 pcmu")
    result = answered(offer)
    assert (result.codec, result.payload_type) == ("PCMU", 110)
    assert result.sdp.media[0].rtpmaps[110] == RtpMap(110, "PCMU", 8000)


def test_first_offered_number_of_a_codec_is_kept() -> None:
    offer = SIPP.replace(b"RTP/AVP 0", b"RTP/AVP 0 110") + b"a=rtpmap:110 PCMU/8000\r\n"
    assert answered(offer).payload_type == 0
    offer = SIPP.replace(b"RTP/AVP 0", b"RTP/AVP 110 0") + b"a=rtpmap:110 PCMU/8000\r\n"
    assert answered(offer).payload_type == 110


def test_multicast_address_without_ttl() -> None:
    result = answered(SIPP.replace(b"c=IN IP4 127.0.0.1", b"c=IN IP4 224.2.1.1/127"))
    assert result.remote_address == "224.2.1.1"


def test_remapped_static_number_is_not_taken_for_its_static_codec() -> None:
    offer = SIPP.replace(b"rtpmap:0 PCMU/8000", b"rtpmap:0 opus/48000/2")
    assert isinstance(answer_offer(parse_sdp(offer), LOCAL), NotAcceptable)


@pytest.mark.parametrize(
    "offer",
    [
        SIPP.replace(b"RTP/AVP 0", b"RTP/AVP 18").replace(b"rtpmap:0 PCMU/8000", b"rtpmap:18 G729/8000"),
        SIPP.replace(b"m=audio", b"m=video"),
        SIPP.replace(b"m=audio 6000", b"m=audio 0"),
        SIPP.replace(b"RTP/AVP", b"RTP/SAVP"),
        SIPP.replace(b"PCMU/8000", b"PCMU/16000"),
        SIPP.replace(b"PCMU/8000", b"PCMU/8000/2"),
        sdp("v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "t=0 0"),
    ],
)
def test_nothing_acceptable(offer: bytes) -> None:
    result = answer_offer(parse_sdp(offer), LOCAL)
    assert isinstance(result, NotAcceptable)
    assert result.status == 488


def test_local_checks() -> None:
    for bad in ({"codecs": ("G729",)}, {"codecs": ()}, {"port": 0}, {"address": "host.example"}):
        with pytest.raises(ValueError):
            Local(**{"address": "192.0.2.1", "port": 1000} | bad)  # type: ignore[arg-type]


# -- malformed input -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xff\xfe",
        SIPP.replace(b"v=0", b"v=1"),
        SIPP.replace(b"v=0\r\n", b""),
        SIPP.replace(b"s=-\r\n", b""),
        SIPP.replace(b"o=user1 53655765 2353687637 IN IP4 127.0.0.1", b"o=user1 5365 IN IP4 127.0.0.1"),
        SIPP.replace(b"53655765", b"5365x765"),
        SIPP.replace(b"c=IN IP4 127.0.0.1\r\n", b""),  # a stream with no address
        SIPP.replace(b"c=IN IP4 127.0.0.1", b"c=IN IP4"),
        SIPP.replace(b"c=IN IP4 127.0.0.1", b"c=IN IP4 127.0.0.1 x"),
        SIPP.replace(b"c=IN IP4 127.0.0.1", b"c=IN IP4 <bad>"),
        SIPP.replace(b"t=0 0", b"t=0"),
        SIPP.replace(b"t=0 0", b"t=now 0"),
        SIPP.replace(b"m=audio 6000 RTP/AVP 0", b"m=audio 6000 RTP/AVP"),
        SIPP.replace(b"m=audio 6000", b"m=audio 70000"),
        SIPP.replace(b"m=audio 6000", b"m=audio -1"),
        SIPP.replace(b"RTP/AVP 0", b"RTP/AVP 128"),
        SIPP.replace(b"RTP/AVP 0", b"RTP/AVP  0"),
        SIPP.replace(b"a=rtpmap:0 PCMU/8000", b"a=rtpmap:0 PCMU"),
        SIPP.replace(b"a=rtpmap:0 PCMU/8000", b"a=rtpmap:x PCMU/8000"),
        SIPP.replace(b"a=rtpmap:0 PCMU/8000", b"a=rtpmap:0 PCMU/0"),
        SIPP.replace(b"a=rtpmap:0 PCMU/8000", b"a=ptime:twenty"),
        SIPP.replace(b"a=rtpmap:0 PCMU/8000", b"a=fmtp:x 0-15"),
        SIPP.replace(b"a=rtpmap:0 PCMU/8000", b"a=:value"),
        SIPP.replace(b"a=rtpmap", b"x=rtpmap"),
        SIPP.replace(b"a=rtpmap", b"a = rtpmap"),
        SIPP.replace(b"t=0 0", b"t=0 0\r\nm=audio 1 RTP/AVP 0\r\nt=0 0"),  # t= in a media section
        SIPP.replace(b"s=-", b"s=-\r\no=- 1 1 IN IP4 127.0.0.1"),
        SIPP + b"a=x\0y\r\n",
        SIPP + b"a=x\ry\r\n",
        SIPP + b"\r\n",
    ],
)
def test_malformed(data: bytes) -> None:
    with pytest.raises(SdpError):
        parse_sdp(data)


def test_limits() -> None:
    with pytest.raises(SdpError, match="bytes"):
        parse_sdp(SIPP + b"a=x:" + b"y" * MAX_SDP_SIZE + b"\r\n")
    with pytest.raises(SdpError, match="lines"):
        parse_sdp(SIPP + b"a=x\r\n" * 600)
    with pytest.raises(SdpError, match="media"):
        parse_sdp(SIPP + b"m=audio 0 RTP/AVP 0\r\n" * 20)
    with pytest.raises(SdpError, match="formats"):
        parse_sdp(SIPP.replace(b"RTP/AVP 0", b"RTP/AVP" + b" 0" * 65))


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=400))
def test_random_bytes(data: bytes) -> None:
    try:
        parsed = parse_sdp(data)
    except SdpError:
        return
    assert parse_sdp(bytes(parsed)) == parsed


@settings(max_examples=300, deadline=None)
@given(
    cut=st.integers(0, len(LINPHONE)),
    at=st.integers(0, len(LINPHONE) - 1),
    byte=st.integers(0, 255),
)
def test_truncated_and_flipped_offers(cut: int, at: int, byte: int) -> None:
    for data in (LINPHONE[:cut], LINPHONE[:at] + bytes([byte]) + LINPHONE[at + 1 :]):
        try:
            parsed = parse_sdp(data)
        except SdpError:
            continue
        assert parse_sdp(bytes(parsed)) == parsed
        result = answer_offer(parsed, LOCAL)
        assert isinstance(result, Answer | NotAcceptable)


def test_our_offer_answered_by_our_answerer_settles_on_the_first_common_codec() -> None:
    from infolinia.voice.sdp import Accepted, Local, answer_offer, make_offer, parse_sdp, read_answer

    offer = parse_sdp(bytes(make_offer(Local("127.0.0.1", 40000))))
    answer = answer_offer(offer, Local("127.0.0.1", 40002, codecs=("PCMA", "PCMU")))
    assert not isinstance(answer, NotAcceptable)
    settled = read_answer(parse_sdp(bytes(answer.sdp)))
    assert settled == Accepted("PCMA", 8, 101, "127.0.0.1", 40002)


def test_an_answer_that_refuses_audio_or_picks_an_unoffered_codec_is_not_acceptable() -> None:
    from infolinia.voice.sdp import read_answer

    assert read_answer(parse_sdp(SIPP)).codec == "PCMU"  # type: ignore[union-attr]
    refused = SIPP.replace(b"m=audio 6000", b"m=audio 0")
    assert isinstance(read_answer(parse_sdp(refused)), NotAcceptable)
    g729 = SIPP.replace(b"RTP/AVP 0", b"RTP/AVP 18").replace(b"a=rtpmap:0 PCMU/8000", b"a=rtpmap:18 G729/8000")
    assert isinstance(read_answer(parse_sdp(g729)), NotAcceptable)


def test_an_offer_or_answer_naming_no_ip_address_or_the_other_family_is_not_acceptable() -> None:
    """Found by the SIP fuzzer: ``c=IN IP4 127.0.::::0.1`` reads as SDP but names no address; the call must be
    refused (488), not fail when its media is connected. Names are not resolved; media is of our family only."""
    from infolinia.voice.sdp import read_answer

    for bad in (b"127.0.::::0.1", b"pbx.example.com", b"2001:db8::7"):
        offer = parse_sdp(SIPP.replace(b"c=IN IP4 127.0.0.1", b"c=IN IP4 " + bad))
        refused = answer_offer(offer, LOCAL)
        assert isinstance(refused, NotAcceptable) and refused.status == 488, bad
        assert isinstance(read_answer(offer, local_address="203.0.113.5"), NotAcceptable), bad
    v6 = answer_offer(parse_sdp(SIPP.replace(b"c=IN IP4 127.0.0.1", b"c=IN IP6 2001:db8::7")), LOCAL)
    assert isinstance(v6, NotAcceptable) and "IPv6" in v6.reason
