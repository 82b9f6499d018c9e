"""Where a webhook may point: outside `dev`, only `https://` URLs whose host resolves to public
addresses (no loopback, private, link-local, cloud metadata, multicast or reserved ones).

The check runs when an endpoint is registered and again for every delivery, and the delivery
connects to the very address that was checked (`Target.address`, with the host name kept for
TLS and the Host header): a name that resolves to a public address at registration and to a
private one later (DNS rebinding) is refused at delivery."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from accord.core.errors import InvalidInput

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
# Metadata services some clouds answer on outside the link-local range.
METADATA = {ipaddress.ip_address("fd00:ec2::254"), ipaddress.ip_address("100.100.100.200")}


class UnsafeTarget(InvalidInput):
    """The URL is not one Accord may call."""


@dataclass(frozen=True)
class Target:
    url: str
    scheme: str
    host: str
    port: int
    address: str  # the checked IP to connect to


def forbidden(address: IP) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address in METADATA
        or address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def resolve(host: str, port: int) -> list[IP]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UnsafeTarget(f"{host} does not resolve.", field="url") from None
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def check(url: str, *, allow_private: bool) -> Target:
    """The target to connect to, or UnsafeTarget naming the field `url`. `allow_private` (dev
    only) also lets http:// and loopback or private addresses through, for local receivers."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeTarget("This is not a URL.", field="url") from None
    schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in schemes:
        raise UnsafeTarget("A webhook URL must start with https://.", field="url")
    host = parts.hostname
    if not host:
        raise UnsafeTarget("A webhook URL needs a host name.", field="url")
    if parts.username or parts.password:
        raise UnsafeTarget("A webhook URL must not carry a user name or password.", field="url")
    port = port or (443 if parts.scheme == "https" else 80)
    addresses = resolve(host, port)
    if not allow_private:
        bad = [str(a) for a in addresses if forbidden(a)]
        if bad or not addresses:
            raise UnsafeTarget(
                f"{host} resolves to an address Accord does not call (loopback, private, "
                "link-local or metadata).",
                field="url",
            )
    # IPv4 first: a local receiver (dev) usually listens on 127.0.0.1 only.
    first = sorted(addresses, key=lambda a: a.version)[0]
    return Target(url, parts.scheme, host, port, str(first))
