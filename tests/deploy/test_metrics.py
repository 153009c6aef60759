"""No alert or dashboard panel on a metric that does not exist: every name they use is in a scrape of
/metrics from a running service that has delivered, retried, dead-lettered and reloaded."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from consumer.wire.codec import encode_avro
from tests.deploy.conftest import require
from tests.integration.test_pipeline import events, subscription
from tests.support.helm import CHART, one, render
from tests.support.kafka import create_topics, produce, unique_prefix
from tests.support.receiver import Receiver
from tests.support.service import ServiceProcess, write_subscriptions

METRIC = re.compile(r"\b((?:hookstream|process)_[a-z_]+)\b")


def used_by_alerts() -> set[str]:
    rule = one(render({"prometheusRule": {"enabled": True}}), "PrometheusRule")
    return {
        name for group in rule["spec"]["groups"] for r in group["rules"] for name in METRIC.findall(r["expr"])
    }


def used_by_dashboard() -> set[str]:
    dashboard = json.loads((CHART / "files" / "dashboard.json").read_text())

    def exprs(panels: list[dict[str, Any]]) -> Iterator[str]:
        for panel in panels:
            yield from (t["expr"] for t in panel.get("targets", []))
            yield from exprs(panel.get("panels", []))

    names = {name for expr in exprs(dashboard["panels"]) for name in METRIC.findall(expr)}
    for variable in dashboard["templating"]["list"]:
        query = variable.get("query")
        if isinstance(query, dict):
            names |= set(METRIC.findall(query["query"]))
    return names


def scraped(service: ServiceProcess) -> set[str]:
    _status, body = service.get("/metrics")
    return {
        sample.name for family in text_string_to_metric_families(body.decode()) for sample in family.samples
    }


def test_the_alerts_and_the_dashboard_use_metrics_that_exist() -> None:
    # The source of truth for the scrape below is the code; this keeps the regex honest.
    require("helm")
    assert "hookstream_consumer_committed_lag" in used_by_alerts()
    assert "hookstream_circuit_state" in used_by_dashboard()


@pytest.mark.kafka
def test_every_metric_name_is_in_a_scrape_of_a_service_that_delivered_retried_and_dead_lettered(
    receiver: Receiver, kafka_bootstrap: str, tmp_path: Path
) -> None:
    require("helm")
    wanted = used_by_alerts() | used_by_dashboard()
    receiver.behave("/broken", status=503)
    subs = [
        subscription("ok", receiver.url("/ok")),
        subscription("broken", receiver.url("/broken"), retry={"attempts": 1, "interval": "1s"}),
    ]
    path = write_subscriptions(tmp_path / "subs.yaml", subs)
    prefix = unique_prefix("metrics")
    service = ServiceProcess(
        kafka_bootstrap, prefix, path, tmp_path, env={"HOOKSTREAM_RELOAD_INTERVAL": "0.5"}
    )
    create_topics(kafka_bootstrap, service.input_topic, partitions=2)
    try:
        service.start()
        sample = [e for e in events(8) if (e["entity"], e["event_type"]) == ("Object", "OnNew")]
        produce(kafka_bootstrap, service.input_topic, [encode_avro(e) for e in sample] + [b"not an event"])
        assert receiver.wait_for(
            lambda: service.metric("hookstream_dead_lettered_total") >= len(sample), 60
        ), service.log()
        assert service.metric("hookstream_retries_scheduled_total") >= len(sample)
        assert service.metric("hookstream_deliveries_total", outcome="success") >= len(sample)
        write_subscriptions(path, [*subs, subscription("more", receiver.url("/more"))])
        # The retry and lag gauges are refreshed every 5 s; give them two turns.
        receiver.wait_for(lambda: wanted <= scraped(service), timeout=30)
        missing = wanted - scraped(service)
        assert not missing, f"used by an alert or a panel, absent from /metrics: {sorted(missing)}"
    finally:
        service.stop()
