"""A small typed HTTP API layer on aiohttp: routes declared once, OpenAPI 3.1 generated from them.

An operation is an async function whose annotations say everything about it::

    @api.operation("GET", "/failed-events/{id}", role="viewer", summary="...", errors=(404,))
    async def get_failed_event(ctx: Context, path: FailedEventPath) -> FailedEventDetail: ...

``path``, ``query`` and ``body`` parameters are pydantic models the request is validated into (a
422 problem lists every error with its JSON path); the return annotation is the response model
(``None``: 204). The same annotations make the OpenAPI document, so the schema cannot drift from
what the code accepts and answers. Authentication comes first: 401 without a valid token, 403
when the caller's role is too weak, before anything of the request is looked at.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Literal, TypeVar, get_type_hints

from aiohttp import web
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from admin.actor import Actor, Role, at_least
from admin.api.auth import Authenticator
from admin.api.problems import (
    PROBLEM_TYPE,
    Issue,
    Problem,
    ProblemError,
    ValidationProblem,
    issues_of,
    problem_response,
)
from store import DatabaseError, InvalidCursor

__all__ = ["Api", "Context", "Operation"]

log = logging.getLogger(__name__)

Handler = Callable[..., Awaitable[BaseModel | None]]
H = TypeVar("H", bound=Handler)
_REF = "#/components/schemas/{model}"
_PARAM = re.compile(r"{(\w+)}")


@dataclass(frozen=True, slots=True)
class Context:
    """What an operation gets besides its validated inputs: the request and who made it."""

    request: web.Request
    actor: Actor


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str
    handler: Handler
    operation_id: str
    summary: str
    description: str
    tag: str
    role: Role
    status: int
    errors: tuple[int, ...]
    path_model: type[BaseModel] | None
    query_model: type[BaseModel] | None
    body_model: type[BaseModel] | None
    response_model: type[BaseModel] | None


@dataclass
class Api:
    """The operations of one API under ``prefix``; :meth:`install` serves them on an aiohttp app."""

    title: str
    version: str
    prefix: str = "/api/v1"
    description: str = ""
    operations: list[Operation] = field(default_factory=list)

    def operation(
        self,
        method: str,
        path: str,
        *,
        role: Role,
        summary: str,
        tag: str,
        status: int = 200,
        errors: tuple[int, ...] = (),
    ) -> Callable[[H], H]:
        def register(handler: H) -> H:
            hints = get_type_hints(handler)
            models = {name: hints.get(name) for name in ("path", "query", "body")}
            for name, model in models.items():
                if model is not None and not (isinstance(model, type) and issubclass(model, BaseModel)):
                    raise TypeError(f"{handler.__name__}: {name} must be a pydantic model")
            returned = hints.get("return")
            response = returned if isinstance(returned, type) and issubclass(returned, BaseModel) else None
            if response is None and status != 204:
                raise TypeError(f"{handler.__name__}: returns no model, so its status must be 204")
            if set(_PARAM.findall(path)) != set(models["path"].model_fields if models["path"] else ()):
                raise TypeError(f"{handler.__name__}: the path model must have exactly the path's parameters")
            self.operations.append(
                Operation(
                    method=method,
                    path=path,
                    handler=handler,
                    operation_id=handler.__name__,
                    summary=summary,
                    description=(handler.__doc__ or "").strip(),
                    tag=tag,
                    role=role,
                    status=status,
                    errors=errors,
                    path_model=models["path"],
                    query_model=models["query"],
                    body_model=models["body"],
                    response_model=response,
                )
            )
            return handler

        return register

    async def call(
        self,
        operation_id: str,
        ctx: Context,
        *,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> BaseModel | None:
        """Run one operation for ``ctx.actor`` as the HTTP API would: the same role check, the same
        validation (a 422 problem lists every error with its JSON path), the same answer model.

        The web console calls the API this way, so a page can neither do nor show more than its
        user could through the API."""
        op = next((op for op in self.operations if op.operation_id == operation_id), None)
        if op is None:
            raise KeyError(operation_id)
        if not at_least(ctx.actor.role, op.role):
            raise ProblemError(403, f"this needs the {op.role} role; {ctx.actor.name} has {ctx.actor.role}")
        inputs: dict[str, BaseModel] = {}
        if op.path_model is not None:
            inputs["path"] = _validate(op.path_model, dict(path or {}), "path")
        if op.query_model is not None:
            inputs["query"] = _validate(op.query_model, dict(query or {}), "query")
        if op.body_model is not None:
            try:
                inputs["body"] = op.body_model.model_validate(body)
            except ValidationError as exc:
                raise ProblemError(422, "invalid request body", errors=issues_of(exc, "body")) from None
        return await op.handler(ctx, **inputs)

    # --- serving -----------------------------------------------------------------------------------

    def install(self, app: web.Application, authenticator: Authenticator, *, max_body: int) -> None:
        for op in self.operations:
            app.router.add_route(
                op.method, self.prefix + op.path, self._endpoint(op, authenticator, max_body)
            )
        app.middlewares.append(self._problems_middleware())

    def _problems_middleware(self) -> Any:
        prefix = self.prefix

        @web.middleware
        async def problems(
            request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
        ) -> web.StreamResponse:
            if not request.path.startswith(prefix):
                return await handler(request)
            # aiohttp's own answers under the API (no such route, method not allowed) become problems too.
            try:
                return await handler(request)
            except web.HTTPException as exc:
                if exc.status < 400:
                    raise
                # Only Allow (of a 405) is kept: its own Content-Type would contradict the problem's.
                allow = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else {}
                return problem_response(
                    Problem(title=HTTPStatus(exc.status).phrase, status=exc.status), request, allow
                )

        return problems

    def _endpoint(
        self, op: Operation, authenticator: Authenticator, max_body: int
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def endpoint(request: web.Request) -> web.StreamResponse:
            try:
                return await self._serve(op, request, authenticator, max_body)
            except ProblemError as exc:
                return problem_response(exc.problem, request, exc.headers)
            except InvalidCursor as exc:
                # A cursor is a query value; a forged or stale one is the caller's to fix.
                return problem_response(
                    ProblemError(422, str(exc), errors=[_cursor_issue(str(exc))]).problem, request
                )
            except DatabaseError as exc:
                log.warning("the admin API could not reach the store", extra={"error": str(exc)})
                return problem_response(
                    Problem(title="Service Unavailable", status=503, detail="the store is unavailable"),
                    request,
                    {"Retry-After": "5"},
                )
            except Exception:
                log.exception("the admin API failed", extra={"operation": op.operation_id})
                return problem_response(Problem(title="Internal Server Error", status=500), request)

        return endpoint

    async def _serve(
        self, op: Operation, request: web.Request, authenticator: Authenticator, max_body: int
    ) -> web.StreamResponse:
        actor = authenticator.authenticate(request)
        if not at_least(actor.role, op.role):
            raise ProblemError(403, f"this needs the {op.role} role; {actor.name} has {actor.role}")
        inputs: dict[str, BaseModel] = {}
        if op.path_model is not None:
            inputs["path"] = _validate(op.path_model, dict(request.match_info), "path")
        if op.query_model is not None:
            # A repeated query parameter: the last one counts.
            inputs["query"] = _validate(op.query_model, dict(request.query.items()), "query")
        if op.body_model is not None:
            inputs["body"] = _validate_json(op.body_model, await _read_body(request, max_body))
        result = await op.handler(Context(request, actor), **inputs)
        if result is None:
            return web.Response(status=204, headers={"Cache-Control": "no-store"})
        return web.Response(
            status=op.status,
            body=result.model_dump_json(),
            content_type="application/json",
            headers={"Cache-Control": "no-store"},
        )

    # --- the OpenAPI document --------------------------------------------------------------------

    def openapi(self) -> dict[str, Any]:
        wanted: list[tuple[type[BaseModel], JsonSchemaMode]] = [
            (Problem, "serialization"),
            (ValidationProblem, "serialization"),
        ]
        for op in self.operations:
            for model in (op.path_model, op.query_model, op.body_model):
                if model is not None:
                    wanted.append((model, "validation"))
            if op.response_model is not None:
                wanted.append((op.response_model, "serialization"))
        refs, defs = models_json_schema(list(dict.fromkeys(wanted)), ref_template=_REF)
        schemas: dict[str, Any] = defs.get("$defs", {})
        paths: dict[str, dict[str, Any]] = {}
        for op in self.operations:
            paths.setdefault(self.prefix + op.path, {})[op.method.lower()] = self._describe(op, refs, schemas)
        return {
            "openapi": "3.1.0",
            "info": {"title": self.title, "version": self.version, "description": self.description},
            "servers": [{"url": "/"}],
            "paths": paths,
            "components": {
                "schemas": schemas,
                "securitySchemes": {
                    "bearer": {
                        "type": "http",
                        "scheme": "bearer",
                        "description": "a token whose SHA-256 is configured with a role",
                    }
                },
            },
            "security": [{"bearer": []}],
        }

    def _describe(
        self,
        op: Operation,
        refs: Mapping[tuple[Any, JsonSchemaMode], Any],
        schemas: Mapping[str, Any],
    ) -> dict[str, Any]:
        parameters: list[dict[str, Any]] = []
        for where, model in (("path", op.path_model), ("query", op.query_model)):
            if model is not None:
                parameters += _parameters(where, schemas[_name(refs[(model, "validation")])])
        responses: dict[str, Any] = {}
        if op.response_model is None:
            responses[str(op.status)] = {"description": HTTPStatus(op.status).phrase}
        else:
            responses[str(op.status)] = {
                "description": HTTPStatus(op.status).phrase,
                "content": {"application/json": {"schema": refs[(op.response_model, "serialization")]}},
            }
        errors = {401, 403, 503, *op.errors}
        if op.path_model or op.query_model or op.body_model:
            errors.add(422)
        if op.body_model is not None:
            errors |= {413, 415}
        for status in sorted(errors):
            model = ValidationProblem if status == 422 else Problem
            responses[str(status)] = {
                "description": HTTPStatus(status).phrase,
                "content": {PROBLEM_TYPE: {"schema": refs[(model, "serialization")]}},
            }
        described: dict[str, Any] = {
            "operationId": op.operation_id,
            "summary": op.summary,
            "tags": [op.tag],
            "x-required-role": op.role,
            "responses": responses,
        }
        if op.description:
            described["description"] = op.description + f"\n\nNeeds the `{op.role}` role."
        else:
            described["description"] = f"Needs the `{op.role}` role."
        if parameters:
            described["parameters"] = parameters
        if op.body_model is not None:
            described["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": refs[(op.body_model, "validation")]}},
            }
        return described


def _name(ref: Mapping[str, Any]) -> str:
    return str(ref["$ref"]).rsplit("/", 1)[-1]


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query value is never JSON null: leaving the parameter out is how one says "none"."""
    options = schema.get("anyOf")
    if isinstance(options, list):
        kept = [option for option in options if option.get("type") != "null"]
        if len(kept) == 1:
            rest = {key: value for key, value in schema.items() if key not in ("anyOf", "default")}
            return {**kept[0], **rest}
        schema = {**schema, "anyOf": kept}
    if schema.get("default") is None:
        schema = {key: value for key, value in schema.items() if key != "default"}
    return schema


def _parameters(where: str, model_schema: Mapping[str, Any]) -> list[dict[str, Any]]:
    required = set(model_schema.get("required", ()))
    found = []
    for name, schema in model_schema.get("properties", {}).items():
        schema = _without_null(dict(schema))
        parameter: dict[str, Any] = {
            "name": name,
            "in": where,
            "required": where == "path" or name in required,
            "schema": {key: value for key, value in schema.items() if key not in ("title", "description")},
        }
        if "description" in schema:
            parameter["description"] = schema["description"]
        found.append(parameter)
    return found


M = TypeVar("M", bound=BaseModel)


def _validate(model: type[M], values: dict[str, Any], where: Literal["path", "query"]) -> M:
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise ProblemError(422, f"invalid {where} parameters", errors=issues_of(exc, where)) from None


def _validate_json(model: type[M], raw: bytes) -> M:
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise ProblemError(422, "invalid request body", errors=issues_of(exc, "body")) from None


async def _read_body(request: web.Request, limit: int) -> bytes:
    if request.content_type != "application/json":
        raise ProblemError(415, "send the body as application/json")
    if request.content_length is not None and request.content_length > limit:
        raise ProblemError(413, f"the body is larger than {limit} bytes")
    # A body without Content-Length (chunked) is counted as it comes, never held beyond the limit.
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise ProblemError(413, f"the body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _cursor_issue(message: str) -> Issue:
    return Issue(location="query", path="$.cursor", pointer="/cursor", message=message, code="invalid_cursor")
