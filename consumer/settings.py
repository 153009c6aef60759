"""Service settings: defaults, then a YAML file (``HOOKSTREAM_CONFIG``), then ``HOOKSTREAM_*`` variables.

Nested fields use ``__``: ``HOOKSTREAM_KAFKA__BOOTSTRAP_SERVERS``. The plain
``KAFKA_BOOTSTRAP_SERVERS`` is honoured too, as the README promises.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from admin.settings import ApiSettings
from consumer.retries import DEFAULT_RUNGS
from router.model import Duration
from router.resources import config_path
from sender import SenderSettings
from store import DEFAULT_STORE_URL

__all__ = ["KafkaSettings", "Role", "Settings", "load_settings"]

Role = Literal["all", "main", "retry", "dlq", "admin"]

_LIBRDKAFKA = logging.getLogger("librdkafka")


class KafkaSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bootstrap_servers: str = "127.0.0.1:9092"
    input_topics: list[str] = Field(default_factory=lambda: ["hookstream.events"])
    group_id: str = "hookstream"
    topic_prefix: str = Field(
        default="hookstream", description="<prefix>.retry.<delay>, <prefix>.dlq, <prefix>.invalid"
    )
    partitions: int = Field(default=4, ge=1, description="partitions of the topics hookstream creates")
    replication_factor: int = Field(
        default=1, ge=1, description="of the topics hookstream creates (3 in production)"
    )
    min_insync_replicas: int = Field(
        default=1,
        ge=1,
        description="of the topics hookstream creates (2 in production, below the replication)",
    )
    create_input_topics: bool = Field(
        default=False, description="create missing input topics at start (local use)"
    )
    # librdkafka settings passed through (security.protocol, sasl.*); values are secret-safe.
    client_config: dict[str, SecretStr] = Field(default_factory=dict)

    def client(self, **extra: Any) -> dict[str, Any]:
        # librdkafka's own lines go through logging (served by poll), not straight to stderr, so they are
        # rendered like every other line.
        conf: dict[str, Any] = {"bootstrap.servers": self.bootstrap_servers, "logger": _LIBRDKAFKA}
        conf.update({k: v.get_secret_value() for k, v in self.client_config.items()})
        conf.update(extra)
        return conf


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="HOOKSTREAM_", env_nested_delimiter="__", extra="forbid", yaml_file=None
    )

    role: Role = "all"
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    sender: SenderSettings = Field(default_factory=SenderSettings)
    subscriptions: Path = Field(default_factory=lambda: config_path("subscriptions"))
    catalog: Path = Field(default_factory=lambda: config_path("catalog.yaml"))
    development: bool = Field(default=False, description="allow http:// endpoints (never in production)")
    store_url: str = DEFAULT_STORE_URL
    admin_host: str = "0.0.0.0"  # noqa: S104 - a pod's admin port must be reachable by the kubelet
    admin_port: int = 8080
    admin: ApiSettings = Field(
        default_factory=ApiSettings, description="the admin API: tokens, trusted proxy, body limit"
    )
    grace_period: float = Field(default=25.0, gt=0, description="seconds to finish in-flight work on SIGTERM")
    max_in_flight: int = Field(
        default=1_000, ge=1, description="records under way before the intake stops taking more"
    )
    reload_interval: float = Field(default=2.0, gt=0, description="seconds between subscription file checks")
    retry_after_cap: float = Field(default=3600.0, ge=0, description="longest Retry-After honoured, seconds")
    retry_ladder: list[Duration] = Field(
        default_factory=lambda: list(DEFAULT_RUNGS),
        min_length=1,
        description="delays of the retry topics, besides each subscription's interval",
    )
    store_retention_days: float | None = Field(
        default=None, gt=0, description="prune failed events older than this"
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Fernet keys, comma-separated, newest first: encrypt the secrets typed into "
        "API-managed subscriptions",
    )
    log_level: str = "INFO"
    log_format: Literal["json", "text"] | None = Field(
        default=None, description="json lines, or text for people; text when development, json otherwise"
    )

    @model_validator(mode="after")
    def _development_allows_http(self) -> Settings:
        # One switch for development: the sender must not refuse what validation let through.
        if self.development and not self.sender.allow_http:
            self.sender = self.sender.model_copy(update={"allow_http": True})
        return self

    @model_validator(mode="after")
    def _text_logs_in_development(self) -> Settings:
        if self.log_format is None:
            self.log_format = "text" if self.development else "json"
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get("HOOKSTREAM_CONFIG")
        if config_file:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=config_file))
        return tuple(sources)


def load_settings(**overrides: Any) -> Settings:
    if "KAFKA_BOOTSTRAP_SERVERS" in os.environ and "HOOKSTREAM_KAFKA__BOOTSTRAP_SERVERS" not in os.environ:
        kafka = dict(overrides.pop("kafka", {}) or {})
        kafka.setdefault("bootstrap_servers", os.environ["KAFKA_BOOTSTRAP_SERVERS"])
        overrides["kafka"] = kafka
    return Settings(**overrides)
