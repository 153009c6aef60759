"""Who is calling: a bearer token (by its SHA-256) or a trusted authenticating proxy's headers.

Tokens are configured only as SHA-256 hashes (a file, e.g. a mounted Secret, or the settings):
the token itself is never stored, logged or compared in clear. The tokens file is read again when
it changes, so a token is added or revoked without a restart; a broken edit is refused and the
last good version stays in force.
"""

from __future__ import annotations

import hashlib
import logging
from ipaddress import ip_address
from pathlib import Path

import yaml
from aiohttp import web
from pydantic import BaseModel, ConfigDict, ValidationError

from admin.actor import ROLE_RANK, Actor, Role
from admin.api.problems import ProblemError
from admin.settings import ApiSettings, TokenEntry

__all__ = ["Authenticator", "TokensFile", "hash_token"]

log = logging.getLogger(__name__)

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="hookstream"'}


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokensFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tokens: list[TokenEntry]


def _read_tokens(path: Path) -> list[TokenEntry]:
    return TokensFile.model_validate(yaml.safe_load(path.read_text()) or {"tokens": []}).tokens


class Authenticator:
    """Finds the actor of a request, or raises a 401 problem."""

    def __init__(self, settings: ApiSettings) -> None:
        self.settings = settings
        self._file_tokens: dict[str, TokenEntry] = {}
        self._file_stamp: tuple[int, int] | None = None
        if settings.tokens_file is not None:
            # At start a broken file stops the service: better than an API nobody can use.
            self._file_tokens = self._index(_read_tokens(settings.tokens_file))
            self._file_stamp = self._stamp(settings.tokens_file)
        self._env_tokens = self._index(settings.tokens)
        if not (self._file_tokens or self._env_tokens or settings.proxy.enabled):
            log.warning("the admin API has no tokens and no trusted proxy: every API call is refused")

    @staticmethod
    def _index(entries: list[TokenEntry]) -> dict[str, TokenEntry]:
        return {entry.sha256.lower(): entry for entry in entries}

    @staticmethod
    def _stamp(path: Path) -> tuple[int, int] | None:
        try:
            stat = path.stat()
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size

    def _tokens(self) -> dict[str, TokenEntry]:
        path = self.settings.tokens_file
        if path is not None:
            stamp = self._stamp(path)
            if stamp != self._file_stamp:
                self._file_stamp = stamp
                try:
                    self._file_tokens = self._index(_read_tokens(path))
                    log.info("admin tokens reloaded", extra={"tokens": len(self._file_tokens)})
                except (OSError, yaml.YAMLError, ValidationError) as exc:
                    log.error(
                        "admin tokens file refused, the last good version stays in force",
                        extra={"error": type(exc).__name__},
                    )
        return {**self._file_tokens, **self._env_tokens}

    def authenticate(self, request: web.Request) -> Actor:
        header = request.headers.get("Authorization")
        if header is not None:
            scheme, _, token = header.strip().partition(" ")
            token = token.strip()
            if scheme.lower() != "bearer" or not token:
                raise ProblemError(401, "use Authorization: Bearer <token>", headers=_CHALLENGE)
            return self.actor_of_token(token)
        proxied = self.from_proxy(request)
        if proxied is not None:
            return proxied
        raise ProblemError(401, "authentication required: Authorization: Bearer <token>", headers=_CHALLENGE)

    def actor_of_token(self, token: str) -> Actor:
        """The holder of ``token``, or a 401 problem."""
        entry = self._tokens().get(hash_token(token))
        if entry is None:
            raise ProblemError(401, "unknown token", headers=_CHALLENGE)
        return Actor(entry.name, entry.role, "token")

    def from_proxy(self, request: web.Request) -> Actor | None:
        """The user a trusted proxy vouches for; None when no trusted proxy says who it is."""
        proxy = self.settings.proxy
        user = request.headers.get(proxy.user_header, "").strip()
        if not proxy.enabled or not user or not self._trusted_peer(request):
            return None
        groups = {g.strip() for g in request.headers.get(proxy.groups_header, "").split(",") if g.strip()}
        roles: list[Role] = [proxy.groups[group] for group in groups if group in proxy.groups]
        if not roles:
            raise ProblemError(403, f"{user} is in no group that has a role here")
        return Actor(user, max(roles, key=ROLE_RANK.__getitem__), "proxy")

    def _trusted_peer(self, request: web.Request) -> bool:
        peer = request.remote
        if peer is None:
            return False
        try:
            address = ip_address(peer)
        except ValueError:  # a Unix socket's peer: only the pod itself can reach it
            return True
        return any(address in network for network in self.settings.proxy.trusted_networks)
