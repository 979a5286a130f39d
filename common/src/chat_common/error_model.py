"""The one error body every service answers with, and its place in each OpenAPI document.

Whatever raised it (a domain error, FastAPI's validation, a middleware), an error answer
is `{"detail": message}` or, for a request that failed validation, `{"detail": [issue…]}`.
"""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict

REF_PREFIX = "#/components/schemas/"
# FastAPI's own 422 schema, which a string `detail` would violate: replaced by ours.
_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")


class ValidationIssue(BaseModel):
    """One reason a request was refused as invalid."""

    # FastAPI adds `input` and `ctx` to what pydantic reports; clients may rely on them.
    model_config = ConfigDict(extra="allow")

    loc: list[str | int]
    msg: str
    type: str


class ErrorResponse(BaseModel):
    """The body of every error answer: a message, or what was wrong with the request."""

    detail: str | list[ValidationIssue]


# What each error status means wherever it is documented; a route may say more.
ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "Malformed request: the body is not parseable as its Content-Type",
    401: "Missing, invalid or expired credentials",
    403: "Not allowed to do this",
    404: "Not found, or not visible to the caller",
    409: "Conflicts with the current state",
    413: "Request body too large",
    415: "Unsupported Content-Type",
    422: "Well-formed but invalid: `detail` lists what was wrong, or says why",
    429: "Too many requests: retry after `Retry-After` seconds",
    503: "A store or service this one needs is unavailable: retry after `Retry-After` seconds",
}


def error_responses(*codes: int | tuple[int, str]) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: each status with the shared body and its meaning, the
    default one or the route's own, e.g. `error_responses(401, (404, "No such chat"))`."""
    pairs = [c if isinstance(c, tuple) else (c, ERROR_DESCRIPTIONS[c]) for c in codes]
    return {code: {"model": ErrorResponse, "description": text} for code, text in pairs}


def _error_content() -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"{REF_PREFIX}{ErrorResponse.__name__}"}}}


def _document_operation(operation: dict[str, Any]) -> None:
    """Add the statuses every operation of its kind can answer, all with the shared body."""
    responses: dict[str, Any] = operation.setdefault("responses", {})
    implied: list[int] = []
    if "requestBody" in operation:
        implied += [400, 413, 422]  # unparseable, over the body limit, invalid
    if operation.get("parameters"):
        implied.append(422)
    if operation.get("security"):
        # Refused credentials; verification keys that cannot be fetched.
        implied += [401, 503]
    for implied_code in implied:
        responses.setdefault(str(implied_code), {"description": ERROR_DESCRIPTIONS[implied_code]})
    for code, response in responses.items():
        if code.isdigit() and int(code) >= 400:
            schema = response.get("content", {}).get("application/json", {}).get("schema", {})
            if not schema or schema.get("$ref", "").removeprefix(REF_PREFIX) in (
                _FASTAPI_VALIDATION_SCHEMAS
            ):
                response["content"] = _error_content()


def _with_error_model(schema: dict[str, Any]) -> dict[str, Any]:
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            _document_operation(operation)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name in _FASTAPI_VALIDATION_SCHEMAS:
        components.pop(name, None)
    model_schema = ErrorResponse.model_json_schema(ref_template=f"{REF_PREFIX}{{model}}")
    components.update(model_schema.pop("$defs", {}))
    components[ErrorResponse.__name__] = model_schema
    return schema


def document_errors(app: FastAPI) -> None:
    """Make `app`'s OpenAPI document declare, on every operation, each error status it can
    answer and the one body they all have (FastAPI alone documents 422 only, with a schema
    that string messages violate)."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _with_error_model(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
