"""Message edits and deletes as a watcher applies them, catching up after a gap, and
deleting one's account.

A delete is final (chat-service's rule): once a message is known deleted, a later edit of
it, arriving in a later batch, is ignored.
"""

from collections.abc import Iterable

from rich.console import Console

from chat_cli.api import ChatApi
from chat_cli.errors import CliError
from chat_cli.models import Message
from chat_cli.render import Names, safe
from chat_cli.timeline import Batch


class Changes:
    """Edits and deletes of the messages a watcher shows, printed once each."""

    def __init__(self) -> None:
        self.deleted: set[str] = set()

    def apply(self, console: Console, batches: Iterable[Batch], names: Names) -> int:
        """Print the batches' edits and deletes; how many lines were printed."""
        printed = 0
        for batch in batches:
            who = safe(names(batch.sender_id))
            for message_id in batch.deletes:
                if message_id not in self.deleted:
                    self.deleted.add(message_id)
                    console.print(f"[dim]{who} deleted a message  {message_id}[/dim]")
                    printed += 1
            for message_id, text in batch.edits:
                if message_id not in self.deleted:
                    console.print(
                        f"[bold]{who}[/bold] edited: {safe(text)}  [dim]{message_id}[/dim]",
                        soft_wrap=True,
                        highlight=False,
                    )
                    printed += 1
        return printed


def delete_account(api: ChatApi, password: str) -> None:
    """Delete the logged-in account (DELETE /users/me) and forget its session here."""
    session = api.current_session()  # refreshed first if about to expire
    response = api._send(
        "auth-service",
        "DELETE",
        "/users/me",
        headers=api._bearer(session),
        json={"password": password},
    )
    # Not retried with a refreshed token: a 401 here is the password's.
    if response.status_code == 401:
        raise CliError("incorrect password")
    if response.status_code != 204:
        raise api._fail(response, "deleting the account")
    api.store.clear()


def catch_up(api: ChatApi, chat_id: str, after: str) -> list[Message]:
    """Every message newer than `after`, oldest first (`GET /chat/{id}?after=` pages): what
    a watcher missed while away, read from history since the batches may have expired."""
    messages: list[Message] = []
    cursor: str | None = after
    while cursor:
        response = api._authed(
            "chat-service", "GET", f"/chat/{chat_id}", params={"after": cursor, "quantity": 100}
        )
        if response.status_code == 404:
            raise CliError(f"no such chat (or you are not in it): {chat_id}")
        if response.status_code != 200:
            raise api._fail(response, "catching up")
        body = response.json()
        messages += [Message.model_validate(item) for item in body["items"]]
        cursor = body["next_after"]
    return messages
