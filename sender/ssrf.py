"""The SSRF guard: only public addresses, or allow-listed networks, are connected to.

Host names are checked in the resolver the connector uses, so the addresses
checked are the addresses connected to (a second, rebinding DNS answer is never
consulted). IP literals never reach a resolver, so :meth:`AddressPolicy.check_host`
checks them once per target. Redirects are never followed, and no proxy is used.

Which hosts are IP literals is decided here, not by the HTTP client: every form
``inet_aton`` and the WHATWG URL standard read as an IPv4 address (``127.1``,
``2130706433``, ``0177.0.0.1``, ``0x7f.0.0.1``) is one, and resolvers and
browsers connect to it as such. Whether aiohttp calls such a host invalid, an
address or a name to resolve differs between its versions; the guard must not.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from .errors import SsrfBlocked

__all__ = ["AddressPolicy", "GuardedResolver", "parse_ip"]

_IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


_DIGITS = {8: frozenset("01234567"), 10: frozenset("0123456789"), 16: frozenset("0123456789abcdefABCDEF")}


def _ipv4_part(text: str) -> int | None:
    if text[:2] in ("0x", "0X"):
        digits, base = text[2:], 16
        if not digits:
            return 0  # inet_aton and WHATWG both read a bare 0x as zero
    elif len(text) > 1 and text[0] == "0":
        digits, base = text[1:], 8
    else:
        digits, base = text, 10
    # Checked by hand: int() would also take signs, blanks and underscores.
    if not digits or not set(digits) <= _DIGITS[base]:
        return None
    return int(digits, base)


def _parse_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """``host`` read as inet_aton reads it: one to four parts, each decimal, octal (0...) or hex (0x...).

    The last part fills the bytes the others leave (``127.1`` is 127.0.0.1,
    ``2130706433`` is 127.0.0.1). A trailing dot is dropped as the WHATWG URL
    standard does; inet_aton would refuse it, and a resolver then looks the
    number up as a name, which must not get past the guard either.
    """
    if host.endswith("."):
        host = host[:-1]
    parts = host.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    values = [_ipv4_part(part) for part in parts]
    numbers = [v for v in values if v is not None]
    if len(numbers) != len(values):
        return None
    *leading, last = numbers
    if any(v > 0xFF for v in leading) or last >= 1 << (8 * (5 - len(numbers))):
        return None
    value = last
    for index, byte in enumerate(leading):
        value |= byte << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def parse_ip(host: str) -> _IPAddress | None:
    """The address ``host`` (a URL's host, brackets allowed) denotes when it is an IP literal, else None."""
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host)
        except ValueError:
            return None
    return _parse_ipv4(host)


class AddressPolicy:
    """Which destination addresses may be connected to."""

    __slots__ = ("_allow",)

    def __init__(self, allow: Iterable[_IPNetwork]) -> None:
        self._allow = tuple(allow)

    def allows(self, address: _IPAddress) -> bool:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            # ::ffff:127.0.0.1 reaches 127.0.0.1; judge it as that.
            address = address.ipv4_mapped
        if any(address in net for net in self._allow):
            return True
        # Not global covers private, loopback, link-local, reserved, unspecified,
        # shared (100.64/10) and documentation ranges; multicast is refused as well.
        return address.is_global and not address.is_multicast

    def check_host(self, host: str) -> str:
        """The host to connect to: an allowed IP literal in its canonical form, or the host name.

        An IP literal that is not allowed is refused whatever form it is written
        in; host names are left to the resolver.
        """
        address = parse_ip(host)
        if address is None:
            return host
        if not self.allows(address):
            written = "" if host.strip("[]") == str(address) else f" ({host})"
            raise SsrfBlocked(f"destination {address}{written} is not a public address")
        return str(address)


class GuardedResolver(AbstractResolver):
    """Resolves with aiohttp's default resolver and keeps only allowed addresses."""

    def __init__(self, policy: AddressPolicy) -> None:
        self._policy = policy
        self._inner = DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        address = parse_ip(host)
        if address is not None:
            # An IP literal in a form the client did not recognise: connect to
            # the address it denotes, never to what a name lookup makes of it.
            self._policy.check_host(host)
            return [
                ResolveResult(
                    hostname=host,
                    host=str(address),
                    port=port,
                    family=socket.AF_INET6 if address.version == 6 else socket.AF_INET,
                    proto=0,
                    flags=socket.AI_NUMERICHOST,
                )
            ]
        results = await self._inner.resolve(host, port, family)
        allowed = [r for r in results if self._policy.allows(ipaddress.ip_address(r["host"]))]
        if not allowed:
            refused = ", ".join(sorted({r["host"] for r in results}))
            raise SsrfBlocked(f"{host.rstrip('.')} resolves to {refused}, not a public address")
        return allowed

    async def close(self) -> None:
        await self._inner.close()
