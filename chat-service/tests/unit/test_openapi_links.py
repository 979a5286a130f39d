"""The chat API's OpenAPI links: each names an operation of the document and parameters it
has, and the conformance suite's stateful phase can reach edits, deletes and read marks."""

from typing import Any

from chat_service.api.app import create_app
from chat_service.config import Settings


def _links(doc: dict[str, Any], path: str, method: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for response in doc["paths"][path][method]["responses"].values():
        found.update(response.get("links", {}))
    return found


def test_every_link_names_an_operation_and_its_parameters() -> None:
    doc = create_app(Settings()).openapi()
    checked = 0
    for path, item in doc["paths"].items():
        for method in item:
            for name, built in _links(doc, path, method).items():
                pointer, target_method = (
                    built["operationRef"].removeprefix("#/paths/").rsplit("/", 1)
                )
                target = doc["paths"][pointer.replace("~1", "/").replace("~0", "~")][target_method]
                names = {p["name"] for p in target.get("parameters", [])}
                assert set(built.get("parameters", {})) <= names, (path, method, name)
                if "requestBody" in built:
                    assert "requestBody" in target, (path, method, name)
                checked += 1
    assert checked >= 7


def test_sends_and_new_chats_link_to_edits_deletes_and_read_marks() -> None:
    doc = create_app(Settings()).openapi()
    sent = _links(doc, "/chat/{chat_id}/messages", "post")
    assert {"edit", "delete", "read"} <= set(sent)
    assert sent["edit"]["operationRef"].endswith("~1messages~1{message_id}/patch")
    assert sent["delete"]["operationRef"].endswith("~1messages~1{message_id}/delete")
    assert sent["read"]["requestBody"] == {"up_to": "$response.body#/id"}
    assert "read" in _links(doc, "/chats", "post")
