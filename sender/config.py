"""What a subscription tells the sender: endpoint, authentication, TLS and signing.

These pydantic models are the one place the delivery configuration is described.
``router`` embeds them in its subscription model (the only thing of ours it may
import from here) and validates YAML against them; ``sender`` reads them.

Secrets are never written inline: a secret field holds ``${ENV_VAR}`` or a file
path, resolved while validating into a :class:`pydantic.SecretStr`, so that a
secret's value never reaches a ``repr``, a log line, a metric or an API answer.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, ValidationInfo, model_validator

__all__ = [
    "ApiKeyAuth",
    "Auth",
    "BasicAuth",
    "BearerAuth",
    "Endpoint",
    "HeaderValue",
    "NoAuth",
    "OAuth2ClientCredentials",
    "OAuth2Password",
    "RestEndpoint",
    "Secret",
    "SoapEndpoint",
    "Target",
    "TlsConfig",
    "is_secret_reference",
    "resolve_header_value",
    "resolve_secret",
]

_ENV_REF = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
_PATH_PREFIXES = ("/", "./", "../", "~")


def is_secret_reference(value: str) -> bool:
    """Whether ``value`` names a secret (``${ENV_VAR}`` or a file path) rather than being one."""
    return bool(_ENV_REF.match(value)) or value.startswith(_PATH_PREFIXES)


def resolve_secret(value: object, info: ValidationInfo) -> object:
    """Turn ``${ENV_VAR}`` or a file path into the secret it names.

    Errors name the variable or the file, never a value. Validated with the
    context ``{"resolve_secrets": False}``, only the form of the reference is
    checked and the reference itself is kept: that is how subscription files are
    checked where their secrets are not available (a CI job, say).
    """
    if isinstance(value, SecretStr) or not isinstance(value, str):
        return value
    match = _ENV_REF.match(value)
    resolve = not (info.context and info.context.get("resolve_secrets") is False)
    if not resolve and (match or value.startswith(_PATH_PREFIXES)):
        return SecretStr(value)
    if match:
        name = match.group(1)
        if name not in os.environ:
            raise ValueError(f"environment variable {name} is not set")
        return SecretStr(os.environ[name])
    if value.startswith(_PATH_PREFIXES):
        path = Path(value).expanduser()
        try:
            return SecretStr(path.read_text(encoding="utf-8").strip())
        except OSError as exc:
            raise ValueError(f"secret file {value} cannot be read: {exc.strerror}") from None
    raise ValueError("a secret must be written as ${ENV_VAR} or as a file path, never inline")


Secret = Annotated[SecretStr, BeforeValidator(resolve_secret)]


def resolve_header_value(value: object, info: ValidationInfo) -> object:
    """An endpoint header's value: ``${ENV_VAR}`` or a file path is resolved as a secret, other text
    is taken as written (a tenant id, say). Either way it is kept as a SecretStr: header values are
    often credentials, and only the headers an endpoint names public are shown anywhere."""
    if isinstance(value, str) and not (_ENV_REF.match(value) or value.startswith(_PATH_PREFIXES)):
        return SecretStr(value)
    return resolve_secret(value, info)


HeaderValue = Annotated[SecretStr, BeforeValidator(resolve_header_value)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TlsConfig(_Model):
    """Trust and client identity for one endpoint."""

    ca_bundle: Path | None = None
    client_cert: Path | None = None
    client_key: Path | None = None
    client_key_password: Secret | None = None


class _EndpointHeaders(_Model):
    headers: dict[str, HeaderValue] = Field(
        default_factory=dict,
        description="extra request headers; a value may be ${ENV_VAR} or a file path, read like any "
        "secret. Every value is masked in stored and dead-lettered copies of the request unless its "
        "header is listed in public_headers",
    )
    public_headers: tuple[str, ...] = Field(
        default=(),
        description="names of headers in `headers` whose values hold no secret and are shown as "
        "they are in stored and dead-lettered copies of the request (e.g. X-Tenant)",
    )

    @model_validator(mode="after")
    def _public_headers_are_configured(self) -> _EndpointHeaders:
        configured = {name.lower() for name in self.headers}
        unknown = [name for name in self.public_headers if name.lower() not in configured]
        if unknown:
            raise ValueError(f"public_headers names headers not in headers: {', '.join(unknown)}")
        return self

    def masked_headers(self) -> tuple[str, ...]:
        """The configured headers whose values stored copies of a request mask."""
        public = {name.lower() for name in self.public_headers}
        return tuple(name for name in self.headers if name.lower() not in public)


class RestEndpoint(_EndpointHeaders):
    type: Literal["rest"] = "rest"
    url: str
    timeout: float = Field(default=15.0, gt=0, le=300, description="seconds for the whole request")
    tls: TlsConfig | None = None


class SoapEndpoint(_EndpointHeaders):
    type: Literal["soap"]
    url: str
    wsdl: str = Field(description="path or URL of the service's WSDL")
    operation: str
    service: str | None = None
    port: str | None = None
    parameters: dict[str, str] = Field(
        default_factory=dict,
        description="message parameter -> dotted path in the webhook body (e.g. data.customer.id)",
    )
    timeout: float = Field(default=15.0, gt=0, le=300)
    tls: TlsConfig | None = None


Endpoint = Annotated[RestEndpoint | SoapEndpoint, Field(discriminator="type")]


class NoAuth(_Model):
    type: Literal["none"] = "none"


class BasicAuth(_Model):
    type: Literal["basic"]
    username: str
    password: Secret


class BearerAuth(_Model):
    """An access token sent as ``<header>: <header_prefix> <token>``."""

    type: Literal["bearer"]
    token: Secret
    header: str = "Authorization"
    header_prefix: str = "Bearer"


class ApiKeyAuth(_Model):
    type: Literal["api_key"]
    header: str
    key: Secret


class _OAuth2Client(_Model):
    token_url: str
    client_id: str
    client_secret: Secret
    scope: str | None = None
    client_auth: Literal["basic", "post"] = Field(
        default="basic",
        description="how the client authenticates to the token endpoint: HTTP Basic "
        "(client_secret_basic) or client_id and client_secret in the form (client_secret_post)",
    )


class OAuth2ClientCredentials(_OAuth2Client):
    type: Literal["oauth2_client_credentials"]


class OAuth2Password(_OAuth2Client):
    type: Literal["oauth2_password"]
    username: str
    password: Secret


Auth = Annotated[
    NoAuth | BasicAuth | BearerAuth | ApiKeyAuth | OAuth2ClientCredentials | OAuth2Password,
    Field(discriminator="type"),
]


class Target(_Model):
    """Everything the sender needs to deliver for one subscription."""

    key: str = Field(description="the subscription name; limits and breakers are kept per endpoint URL")
    endpoint: Endpoint
    auth: Auth = Field(default_factory=NoAuth)
    signing_secrets: tuple[Secret, ...] = ()
