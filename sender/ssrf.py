"""The SSRF guard: only public addresses, or allow-listed networks, are connected to.

Host names are checked in the resolver the connector uses, so the addresses
checked are the addresses connected to (a second, rebinding DNS answer is never
consulted). IP literals never reach a resolver, so :func:`check_host` checks them
once per target. Redirects are never followed, and no proxy is used.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from .errors import SsrfBlocked

__all__ = ["AddressPolicy", "GuardedResolver"]

_IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


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

    def check_host(self, host: str) -> None:
        """Refuse an IP-literal host that is not allowed; host names are left to the resolver."""
        try:
            address = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            return
        if not self.allows(address):
            raise SsrfBlocked(f"destination {address} is not a public address")


class GuardedResolver(AbstractResolver):
    """Resolves with aiohttp's default resolver and keeps only allowed addresses."""

    def __init__(self, policy: AddressPolicy) -> None:
        self._policy = policy
        self._inner = DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        allowed = [r for r in results if self._policy.allows(ipaddress.ip_address(r["host"]))]
        if not allowed:
            refused = ", ".join(sorted({r["host"] for r in results}))
            raise SsrfBlocked(f"{host.rstrip('.')} resolves to {refused}, not a public address")
        return allowed

    async def close(self) -> None:
        await self._inner.close()
