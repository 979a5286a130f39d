"""One error body for every error answer, and every operation's OpenAPI document saying so."""

from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI, Query
from fastapi.security import HTTPBearer
from pydantic import BaseModel

from chat_common.error_model import ErrorResponse, error_responses
from chat_common.errors import ServiceError, install_error_handler

ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}


class Body(BaseModel):
    text: str


class Refused(ServiceError):
    status_code = 422
    detail = "refused for a reason only the rules know"


def make_app() -> FastAPI:
    app = FastAPI()
    install_error_handler(app)
    bearer = HTTPBearer(auto_error=False)

    @app.post("/things", responses=error_responses(409, (404, "No such owner")))
    async def create(body: Body) -> Body:
        raise Refused

    @app.get("/things")
    async def search(limit: Annotated[int, Query(ge=1)] = 1) -> list[Body]:
        return []

    @app.get("/mine", dependencies=[Depends(bearer)])
    async def mine() -> list[Body]:
        return []

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def responses(app: FastAPI, path: str, method: str) -> dict[str, Any]:
    operation: dict[str, Any] = app.openapi()["paths"][path][method]
    return operation["responses"]


def test_each_kind_of_operation_documents_the_errors_it_can_answer() -> None:
    app = make_app()
    assert set(responses(app, "/things", "post")) == {"200", "400", "404", "409", "413", "422"}
    assert set(responses(app, "/things", "get")) == {"200", "422"}
    assert set(responses(app, "/mine", "get")) == {"200", "401", "503"}
    assert set(responses(app, "/healthz", "get")) == {"200"}
    assert responses(app, "/things", "post")["404"]["description"] == "No such owner"


def test_every_error_answer_declares_the_one_body() -> None:
    schema = make_app().openapi()
    for path_item in schema["paths"].values():
        for operation in path_item.values():
            for code, response in operation["responses"].items():
                if int(code) >= 400:
                    assert response["content"]["application/json"]["schema"] == ERROR_REF
    names = set(schema["components"]["schemas"])
    assert {"ErrorResponse", "ValidationIssue"} <= names
    assert not names & {"HTTPValidationError", "ValidationError"}


@pytest.mark.parametrize(
    ("request_kwargs", "status"),
    [
        ({"json": {"text": "hi"}}, 422),  # a domain error: a string detail
        ({"json": {"text": 5}}, 422),  # FastAPI's validation: a list of issues
        ({"content": b"{", "headers": {"content-type": "application/json"}}, 422),
        ({"content": b"\xff{", "headers": {"content-type": "application/json"}}, 400),
    ],
)
async def test_actual_error_bodies_fit_the_model(request_kwargs: Any, status: int) -> None:
    transport = httpx.ASGITransport(app=make_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.post("/things", **request_kwargs)
    assert response.status_code == status
    ErrorResponse.model_validate(response.json())


async def test_405_allows_every_method_of_the_path() -> None:
    # GET and POST /things are two routes: Starlette alone would answer `Allow: POST`.
    transport = httpx.ASGITransport(app=make_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.delete("/things")
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) == {"GET", "POST"}
    ErrorResponse.model_validate(response.json())
