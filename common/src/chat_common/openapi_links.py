"""OpenAPI links: which operation a client calls next with values from an answer."""

from typing import Any


def link(
    path: str,
    method: str,
    parameters: dict[str, str] | None = None,
    request_body: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A link to `method path`, filled from runtime expressions such as
    `$response.body#/id` (a parameter) or `$request.body#/username` (a body field)."""
    pointer = path.replace("~", "~0").replace("/", "~1")
    built: dict[str, Any] = {"operationRef": f"#/paths/{pointer}/{method.lower()}"}
    if parameters:
        built["parameters"] = parameters
    if request_body:
        built["requestBody"] = request_body
    return built
