"""Message edits and deletes as a watcher applies them, and deleting one's account.

A delete is final (chat-service's rule): once a message is known deleted, a later edit of
it, arriving in a later batch, is ignored.
"""

from collections.abc import Iterable

from rich.console import Console

from chat_cli.api import ChatApi
from chat_cli.errors import CliError
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
