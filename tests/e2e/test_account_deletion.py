"""Account deletion through every real service: DELETE /users/me on the auth service, the
`user.deleted` event, chat-service refusing the old token and erasing the messages (history
and live Firestore batches) within 60 s; the other member's chat stays."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from google.cloud import firestore

from chat_common.contract.documents import chat_batches
from chat_common.waiting import wait_until

ERASE_SECONDS = 60.0

User = Any
MakeUser = Callable[[str], Awaitable[User]]


async def _history(http: httpx.AsyncClient, chat_url: str, chat_id: str, user: User) -> Any:
    response = await http.get(
        f"{chat_url}/chat/{chat_id}", params={"quantity": 100}, headers=user.headers
    )
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_deleted_account_is_refused_and_its_messages_erased(
    http: httpx.AsyncClient,
    urls: Any,
    make_user: MakeUser,
    open_chat: Callable[[Any, Any], Awaitable[str]],
    firestore_client: firestore.Client,
    delete_account: Callable[[Any], Awaitable[None]],
) -> None:
    leaver, stayer = await make_user("leaver"), await make_user("stayer")
    chat_id = await open_chat(leaver, stayer)
    sent = []
    for i, user in enumerate([leaver, stayer, leaver, leaver, stayer]):
        response = await http.post(
            f"{urls.chat}/chat/{chat_id}/messages", json={"text": f"m{i}"}, headers=user.headers
        )
        assert response.status_code == 201, response.text
        sent.append(response.json())
    leaver_ids = {m["id"] for m in sent if m["sender_id"] == leaver.id}

    # The leaver's texts reach the live batches first.
    def batch_texts() -> dict[str, str]:
        docs = firestore_client.collection(chat_batches(chat_id)).stream()
        return {m["id"]: m["text"] for d in docs for m in (d.to_dict() or {})["messages"]}

    async def in_batches() -> bool:
        return {m["id"] for m in sent} <= set(await asyncio.to_thread(batch_texts))

    await wait_until(in_batches, "the messages in Firestore", 30)

    await delete_account(leaver)

    async def token_refused() -> bool:
        answer = await http.get(f"{urls.chat}/chats", headers=leaver.headers)
        return answer.status_code == 401

    await wait_until(token_refused, "chat-service refusing the deleted account's token", 15)

    async def erased() -> bool:
        items = await _history(http, urls.chat, chat_id, stayer)
        gone = {m["id"] for m in items if m["deleted"]}
        return gone == leaver_ids

    await wait_until(erased, "the erasure of the deleted account's messages", ERASE_SECONDS)
    items = {m["id"]: m for m in await _history(http, urls.chat, chat_id, stayer)}
    assert len(items) == len(sent)  # the chat stays, with the stayer's messages
    for message in sent:
        shown = items[message["id"]]
        if message["id"] in leaver_ids:
            assert shown["text"] is None and shown["sender_id"] == leaver.id
        else:
            assert shown["text"] == message["text"] and not shown["deleted"]

    async def blanked() -> bool:
        texts = await asyncio.to_thread(batch_texts)
        return all(texts[i] == "" for i in leaver_ids)

    await wait_until(blanked, "the erasure of the texts in live batches", ERASE_SECONDS)
    texts = await asyncio.to_thread(batch_texts)
    assert all(texts[m["id"]] == m["text"] for m in sent if m["id"] not in leaver_ids)
    # The other member now sees a deleted user, and cannot start a new chat with them.
    gone = await http.get(f"{urls.auth}/users/{leaver.id}", headers=stayer.headers)
    assert gone.status_code == 404
    again = await http.post(
        f"{urls.chat}/chats", json={"user_id": leaver.id}, headers=stayer.headers
    )
    assert again.status_code == 404
