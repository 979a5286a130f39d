"""`chat block`, `chat unblock`, `chat blocks` and `chat report` (DESIGN.md "Safety")."""

from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from chat_cli.api import ChatApi
from chat_cli.config import get_settings
from chat_cli.session import SessionStore

out = Console(soft_wrap=True)
UserName = Annotated[str, typer.Argument(help="The other person's username.")]


def _api() -> ChatApi:
    settings = get_settings()
    return ChatApi(settings, SessionStore(settings.config_dir))


def block(user: UserName) -> None:
    """Block USER: their messages to you are refused from now on."""
    with _api() as api:
        api.block(api.find_user(user).id)
    out.print(f"blocked [bold]{escape(user)}[/bold]")


def unblock(user: UserName) -> None:
    """Lift your block of USER."""
    with _api() as api:
        api.block(api.find_user(user).id, blocked=False)
    out.print(f"unblocked [bold]{escape(user)}[/bold]")


def blocks() -> None:
    """The users you blocked."""
    with _api() as api:
        for user_id in api.blocks():
            out.print(escape(api.user(user_id).username))


def report(
    chat: Annotated[str, typer.Argument(help="Chat id, or the other person's username.")],
    message_id: Annotated[str, typer.Argument(help="The message's id (history shows them).")],
    reason: Annotated[str, typer.Argument(help="Why, in up to 500 characters.")],
) -> None:
    """Report a message of CHAT to the moderators."""
    with _api() as api:
        resolved = api.resolve_chat(chat)
        api.report(resolved if isinstance(resolved, str) else resolved.id, message_id, reason)
    out.print("reported; thank you")
