"""The chart's alerts: promtool checks the rendered PrometheusRule, and its unit tests make each alert
fire on series that should page or ticket and stay silent on healthy ones."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.conftest import require
from tests.support.helm import one, render

# The chart's ServiceMonitor makes Prometheus label every series with these.
SCOPE = 'job="hookstream", namespace="hooks"'


def series(metric: str, labels: str, values: str) -> dict[str, str]:
    return {"series": f"{metric}{{{SCOPE}, {labels}}}", "values": values}


# alert: (series that make it fire, series that keep it silent, evaluation time, labels it carries)
CASES: dict[str, tuple[list[dict[str, str]], list[dict[str, str]], str, dict[str, str]]] = {
    "HookstreamConsumerLagGrowing": (
        [
            series(
                "hookstream_consumer_committed_lag",
                'group="hookstream", topic="in", partition="0"',
                "0+500x60",
            )
        ],
        # Far behind but catching up, or steady: a backlog being worked off pages no one.
        [
            series(
                "hookstream_consumer_committed_lag",
                'group="hookstream", topic="in", partition="0"',
                "30000-100x60",
            ),
            series(
                "hookstream_consumer_committed_lag",
                'group="hookstream-retry", topic="r", partition="0"',
                "0+500x60",
            ),
        ],
        "45m",
        {"severity": "page", "group": "hookstream"},
    ),
    "HookstreamRetryBacklogOld": (
        [series("hookstream_retry_head_age_seconds", 'topic="hookstream.retry.1h"', "7000+60x60")],
        [series("hookstream_retry_head_age_seconds", 'topic="hookstream.retry.1h"', "3600x60")],
        "30m",
        {"severity": "page", "topic": "hookstream.retry.1h"},
    ),
    "HookstreamStoreUnavailable": (
        [series("hookstream_store_available", 'pod="p1"', "1 1 0x20")],
        [series("hookstream_store_available", 'pod="p1"', "1 1 0 0 1x20")],
        "15m",
        {"severity": "page", "pod": "p1"},
    ),
    "HookstreamReplicationBelowSafeLevel": (
        [series("hookstream_topic_in_sync_replicas", 'topic="hookstream.dlq"', "3 3 1x20")],
        [series("hookstream_topic_in_sync_replicas", 'topic="hookstream.dlq"', "3 2x20")],
        "15m",
        {"severity": "page", "topic": "hookstream.dlq"},
    ),
    "HookstreamDeadLetters": (
        [series("hookstream_dead_lettered_total", 'subscription="crm"', "0+60x40")],
        [series("hookstream_dead_lettered_total", 'subscription="crm"', "0+1x40")],
        "30m",
        {"severity": "ticket", "subscription": "crm"},
    ),
    "HookstreamSubscriptionFailing": (
        [
            series(
                "hookstream_deliveries_total",
                'subscription="crm", outcome="success", error_code=""',
                "0+60x60",
            ),
            series(
                "hookstream_deliveries_total",
                'subscription="crm", outcome="retry", error_code="503"',
                "0+60x60",
            ),
        ],
        [
            series(
                "hookstream_deliveries_total",
                'subscription="crm", outcome="success", error_code=""',
                "0+60x60",
            ),
            series(
                "hookstream_deliveries_total",
                'subscription="crm", outcome="retry", error_code="503"',
                "0+6x60",
            ),
        ],
        "40m",
        {"severity": "ticket", "subscription": "crm"},
    ),
    "HookstreamCircuitOpen": (
        # Open, half-open, open again: not recovered.
        [series("hookstream_circuit_state", 'endpoint="https://crm.example.com/hook"', "2 1 2 1 2 2 1 2x30")],
        [series("hookstream_circuit_state", 'endpoint="https://crm.example.com/hook"', "2x5 0x30")],
        "25m",
        {"severity": "ticket", "endpoint": "https://crm.example.com/hook"},
    ),
    "HookstreamInvalidEvents": (
        [series("hookstream_events_invalid_total", 'reason="schema_error"', "0+60x40")],
        [series("hookstream_events_invalid_total", 'reason="schema_error"', "0+1x40")],
        "30m",
        {"severity": "ticket", "reason": "schema_error"},
    ),
    "HookstreamRestarting": (
        [series("process_start_time_seconds", 'pod="p1"', "100 100 200 200 300 300 400 400x20")],
        [series("process_start_time_seconds", 'pod="p1"', "100 100 200x60")],
        "20m",
        {"severity": "ticket", "pod": "p1", "job": "hookstream"},
    ),
}


@pytest.fixture(scope="module")
def rules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require("helm")
    rule = one(render({"prometheusRule": {"enabled": True}}), "PrometheusRule")
    path = tmp_path_factory.mktemp("rules") / "rules.yaml"
    path.write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}))
    return path


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([require("promtool"), *args], capture_output=True, text=True, check=False)


def alert_names(rules: Path) -> set[str]:
    groups = yaml.safe_load(rules.read_text())["groups"]
    return {rule["alert"] for group in groups for rule in group["rules"]}


def test_promtool_checks_the_rendered_rules(rules: Path) -> None:
    done = promtool("check", "rules", str(rules))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(CASES)} rules found" in done.stdout


def test_every_alert_has_a_firing_and_a_silent_case(rules: Path) -> None:
    assert alert_names(rules) == set(CASES)


@pytest.mark.parametrize("alert", sorted(CASES))
def test_the_alert_fires_and_stays_silent(alert: str, rules: Path, tmp_path: Path) -> None:
    firing, silent, at, labels = CASES[alert]
    # promtool compares annotations too, and theirs interpolate $value; `check rules` above parses
    # their templates, and the chart test checks each has a runbook. Here: when each alert fires.
    groups = yaml.safe_load(rules.read_text())["groups"]
    for group in groups:
        for rule in group["rules"]:
            rule.pop("annotations", None)
    bare = tmp_path / "rules.yaml"
    bare.write_text(yaml.safe_dump({"groups": groups}))
    expected = {"namespace": "hooks", **labels}

    def case(input_series: list[dict[str, str]], alerts: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "interval": "1m",
            "input_series": input_series,
            "alert_rule_test": [{"eval_time": at, "alertname": alert, "exp_alerts": alerts}],
        }

    tests = {
        "rule_files": [bare.name],
        "evaluation_interval": "1m",
        "tests": [case(firing, [{"exp_labels": expected}]), case(silent, [])],
    }
    test_file = tmp_path / "test.yaml"
    test_file.write_text(yaml.safe_dump(tests, sort_keys=False))
    done = promtool("test", "rules", str(test_file))
    assert done.returncode == 0, done.stdout + done.stderr
