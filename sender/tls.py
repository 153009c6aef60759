"""SSL contexts: built once per distinct trust and client-identity configuration."""

from __future__ import annotations

import ssl
from pathlib import Path

from .config import TlsConfig
from .errors import TargetConfigError

__all__ = ["SslContexts"]


def _context(ca_bundle: Path | None, tls: TlsConfig | None) -> ssl.SSLContext:
    cafile = tls.ca_bundle if tls is not None and tls.ca_bundle is not None else ca_bundle
    try:
        context = ssl.create_default_context(cafile=str(cafile) if cafile is not None else None)
        if tls is not None and tls.client_cert is not None:
            password = tls.client_key_password.get_secret_value() if tls.client_key_password else None
            context.load_cert_chain(
                str(tls.client_cert),
                str(tls.client_key) if tls.client_key is not None else None,
                password,
            )
    except (OSError, ssl.SSLError) as exc:
        # Name the files, never a password.
        raise TargetConfigError(f"TLS configuration cannot be loaded: {exc}") from None
    return context


class SslContexts:
    """Loading a CA store costs milliseconds, so contexts are shared by equal configurations."""

    def __init__(self, ca_bundle: Path | None) -> None:
        self._ca_bundle = ca_bundle
        self.default = _context(ca_bundle, None)
        self._by_config: dict[TlsConfig, ssl.SSLContext] = {}

    def get(self, tls: TlsConfig | None) -> ssl.SSLContext:
        if tls is None or (tls.ca_bundle is None and tls.client_cert is None):
            return self.default
        context = self._by_config.get(tls)
        if context is None:
            context = self._by_config[tls] = _context(self._ca_bundle, tls)
        return context
