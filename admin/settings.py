"""The admin API's settings (``HOOKSTREAM_ADMIN__*``): who may call it, and how big a body may be."""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from admin.actor import Role

__all__ = ["ApiSettings", "ProxyAuthSettings", "TokenEntry"]


class TokenEntry(BaseModel):
    """One bearer token, as its SHA-256: the token itself is never stored (``sha256sum`` of it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=128, description="who holds it: shown on what they change")
    sha256: str = Field(pattern=r"^[0-9a-fA-F]{64}$", description="hex SHA-256 of the token")
    role: Role


class ProxyAuthSettings(BaseModel):
    """A trusted authenticating proxy (oauth2-proxy) in front of the admin port.

    Enabled only when ``groups`` maps at least one group to a role; the user and groups headers
    are believed only from a peer in ``trusted_networks`` (the proxy's sidecar: loopback).
    """

    model_config = ConfigDict(extra="forbid")

    user_header: str = "X-Forwarded-User"
    groups_header: str = "X-Forwarded-Groups"
    groups: dict[str, Role] = Field(default_factory=dict, description="group -> role; the highest wins")
    trusted_networks: list[IPv4Network | IPv6Network] = Field(
        default_factory=lambda: [ip_network("127.0.0.0/8"), ip_network("::1/128")]
    )

    @property
    def enabled(self) -> bool:
        return bool(self.groups)


class ApiSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tokens_file: Path | None = Field(
        default=None,
        description="YAML `tokens: [{name, sha256, role}]` (a mounted Secret); read again when it changes",
    )
    tokens: list[TokenEntry] = Field(default_factory=list, description="more tokens, e.g. from the env")
    proxy: ProxyAuthSettings = Field(default_factory=ProxyAuthSettings)
    max_body_bytes: int = Field(default=256 * 1024, ge=1024, description="largest request body accepted")
