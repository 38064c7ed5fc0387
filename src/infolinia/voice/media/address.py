"""Addresses as the media plane keeps them: IP literals in the form the socket layer reports them."""

from __future__ import annotations

import ipaddress

from infolinia.voice.media.errors import MediaError

Peer = tuple[str, int]


def ip_literal(host: str) -> str:
    """`host` as the kernel writes it in a datagram's source (`2001:db8::1`, `192.0.2.1`); MediaError if no IP."""
    try:
        return ipaddress.ip_address(host).compressed
    except ValueError:
        raise MediaError(f"not an IP address: {host!r} (resolve names before connecting media)") from None


def is_ipv6(host: str) -> bool:
    return ":" in host


def peer(address: tuple[str, int], local_host: str) -> Peer:
    """A remote RTP address checked against the local one: an IP of the same family and a port in 1-65535."""
    host, port = ip_literal(address[0]), address[1]
    if not 0 < port <= 0xFFFF:
        raise MediaError(f"RTP port {port} out of range")
    if is_ipv6(host) != is_ipv6(local_host):
        raise MediaError(f"cannot send from {local_host} to {host}: different address families")
    return host, port
