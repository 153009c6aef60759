"""RFC 9457 problem details: every error the API answers is ``application/problem+json``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field, ValidationError

__all__ = [
    "PROBLEM_TYPE",
    "Issue",
    "Problem",
    "ProblemError",
    "ValidationProblem",
    "issue_at",
    "issues_of",
    "problem_response",
]

PROBLEM_TYPE = "application/problem+json"
VALIDATION_TYPE = "urn:hookstream:problem:validation"


class Problem(BaseModel):
    type: str = Field(default="about:blank", description="a URI naming the kind of problem")
    title: str
    status: int
    detail: str | None = None
    instance: str | None = Field(default=None, description="the request path")


class Issue(BaseModel):
    """One validation error, where it is and what is wrong."""

    location: Literal["body", "query", "path"]
    path: str = Field(description="JSONPath of the value in its location: $.ids[3]")
    pointer: str = Field(description="JSON Pointer of the same value: /ids/3")
    message: str
    code: str = Field(description="the kind of error (missing, int_parsing, ...)")


class ValidationProblem(Problem):
    errors: list[Issue] = Field(default_factory=list)


class ProblemError(Exception):
    """Raise to answer with a problem; ``problem`` is the body."""

    def __init__(
        self,
        status: int,
        detail: str | None = None,
        *,
        errors: list[Issue] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        title = HTTPStatus(status).phrase
        if errors is not None:
            self.problem: Problem = ValidationProblem(
                type=VALIDATION_TYPE, title="Validation failed", status=status, detail=detail, errors=errors
            )
        else:
            self.problem = Problem(title=title, status=status, detail=detail)
        self.headers = headers or {}
        super().__init__(detail or title)


def _pointer_part(part: int | str) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")


def _jsonpath_part(part: int | str) -> str:
    if isinstance(part, int):
        return f"[{part}]"
    if part.isidentifier():
        return f".{part}"
    return f"[{json.dumps(part)}]"


def issue_at(
    location: Literal["body", "query", "path"], loc: Sequence[int | str], message: str, code: str
) -> Issue:
    """An issue about the value at ``loc`` (keys and indexes from the top of its location)."""
    return Issue(
        location=location,
        path="$" + "".join(_jsonpath_part(part) for part in loc),
        pointer="".join("/" + _pointer_part(part) for part in loc),
        message=message,
        code=code,
    )


def issues_of(exc: ValidationError, location: Literal["body", "query", "path"]) -> list[Issue]:
    """Every error of ``exc``, with its path; the offending values are left out (they may be secrets)."""
    found = []
    for error in exc.errors(include_url=False, include_input=False, include_context=False):
        loc = [part for part in error["loc"] if isinstance(part, int | str)]
        found.append(issue_at(location, loc, error["msg"], error["type"]))
    return found


def problem_response(
    problem: Problem, request: web.Request, headers: dict[str, Any] | None = None
) -> web.Response:
    problem = problem.model_copy(update={"instance": request.path})
    return web.Response(
        status=problem.status,
        body=problem.model_dump_json(exclude_none=True),
        content_type=PROBLEM_TYPE,
        headers={"Cache-Control": "no-store", **(headers or {})},
    )
