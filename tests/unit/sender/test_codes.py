"""The error codes: one list, documented in the README, and the policy each code carries."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sender.codes import ErrorCode, counts_against_endpoint, is_retryable

README = Path(__file__).resolve().parents[3] / "README.md"


def test_the_readme_documents_every_error_code_and_no_other() -> None:
    section = README.read_text(encoding="utf-8").split("### Error codes", 1)[1].split("\n### ", 1)[0]
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.MULTILINE))
    assert documented == {code.value for code in ErrorCode}


@pytest.mark.parametrize(
    "code",
    [ErrorCode.SSRF_BLOCKED, ErrorCode.CONFIG_ERROR, ErrorCode.INVALID_URL, ErrorCode.SOAP_BUILD_ERROR],
)
def test_what_another_attempt_cannot_fix_is_not_retried(code: ErrorCode) -> None:
    assert not is_retryable(code)


@pytest.mark.parametrize(
    "code", ["503", "404", ErrorCode.TIMEOUT, ErrorCode.ENDPOINT_BUSY, ErrorCode.SOAP_FAULT]
)
def test_http_statuses_and_passing_faults_are_retried(code: str) -> None:
    assert is_retryable(code)


def test_only_an_unhealthy_endpoint_counts_against_its_circuit() -> None:
    assert counts_against_endpoint(ErrorCode.TIMEOUT, None)
    assert counts_against_endpoint("503", 503)
    assert counts_against_endpoint("429", 429)
    assert not counts_against_endpoint("404", 404)
    assert not counts_against_endpoint(ErrorCode.SOAP_FAULT, 500)  # up and answering
    assert not counts_against_endpoint(ErrorCode.SSRF_BLOCKED, None)
    assert not counts_against_endpoint(None, 200)
