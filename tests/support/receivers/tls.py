"""Real certificates from trustme: a CA, a server certificate for loopback, a client certificate."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import trustme

__all__ = ["TlsMaterial"]


@dataclass(frozen=True)
class TlsMaterial:
    """``TlsMaterial.create(tmp_path)``: files for the sender, contexts for the servers."""

    ca: trustme.CA
    server_cert: trustme.LeafCert
    ca_file: Path
    client_cert_file: Path
    client_key_file: Path
    other_ca_file: Path  # a CA that signed nothing here: trusting only it must fail

    @classmethod
    def create(cls, directory: Path) -> TlsMaterial:
        ca = trustme.CA()
        server_cert = ca.issue_cert("127.0.0.1", "localhost", "::1")
        client_cert = ca.issue_cert("client.hookstream.test")
        ca_file = directory / "ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        client_cert_file = directory / "client.pem"
        client_key_file = directory / "client.key"
        client_cert.cert_chain_pems[0].write_to_path(str(client_cert_file))
        client_cert.private_key_pem.write_to_path(str(client_key_file))
        other_ca_file = directory / "other-ca.pem"
        trustme.CA().cert_pem.write_to_path(str(other_ca_file))
        return cls(ca, server_cert, ca_file, client_cert_file, client_key_file, other_ca_file)

    def server_context(self, require_client_cert: bool = False) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.server_cert.configure_cert(context)
        if require_client_cert:
            self.ca.configure_trust(context)
            context.verify_mode = ssl.CERT_REQUIRED
        return context
