"""OpenAPI links point at operations by JSON pointer, escaped as RFC 6901 requires."""

from chat_common.openapi_links import link


def test_a_link_names_its_operation_by_an_escaped_pointer() -> None:
    built = link("/chat/{chat_id}/messages", "POST", {"chat_id": "$response.body#/id"})
    assert built == {
        "operationRef": "#/paths/~1chat~1{chat_id}~1messages/post",
        "parameters": {"chat_id": "$response.body#/id"},
    }


def test_a_link_can_fill_a_request_body() -> None:
    built = link("/a~b", "GET", request_body={"token": "$response.body#/token"})
    assert built == {
        "operationRef": "#/paths/~1a~0b/get",
        "requestBody": {"token": "$response.body#/token"},
    }
