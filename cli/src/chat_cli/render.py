"""How messages and users look in the terminal."""

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from chat_cli.api import ChatApi
from chat_cli.errors import CliError, UnknownUser
from chat_cli.models import Chat, Message
from chat_common.contract.times import parse_rfc3339_millis
from chat_common.text import printable


def safe(text: str) -> str:
    """Text from the network, made safe to print: Rich markup escaped, and control
    characters and bidi overrides shown as visible escapes, never passed to the terminal
    (an `ESC[2J` in a message would otherwise clear the reader's screen)."""
    return escape(printable(text))


def local_time(sent_at: str) -> str:
    """`HH:MM:SS` in the terminal's time zone (the full instant when unparseable)."""
    try:
        instant = parse_rfc3339_millis(sent_at)
    except ValueError:
        return sent_at
    return instant.astimezone().strftime("%H:%M:%S")


class Names:
    """User ids to usernames, asked of the auth service once per id."""

    def __init__(self, api: ChatApi, known: dict[str, str] | None = None) -> None:
        self.api = api
        self.known = dict(known or {})

    def __call__(self, user_id: str) -> str:
        if user_id not in self.known:
            try:
                self.known[user_id] = self.api.user(user_id).username
            except UnknownUser:  # the account was deleted; its chats stay
                self.known[user_id] = "(deleted user)"
            except CliError:
                self.known[user_id] = user_id[:8]
        return self.known[user_id]


def _body(message: Message) -> str:
    if message.deleted or message.text is None:
        return "[dim](deleted)[/dim]"
    edited = " [dim](edited)[/dim]" if message.edited_at else ""
    return safe(message.text) + edited


def print_message(console: Console, message: Message, names: Names) -> None:
    """One line per message; ids stay out of the way but on the line, for scripts."""
    console.print(
        f"[dim]{local_time(message.sent_at)}[/dim] "
        f"[bold]{safe(names(message.sender_id))}[/bold]: {_body(message)}"
        f"  [dim]{message.id}[/dim]",
        soft_wrap=True,
        highlight=False,
    )


def plain_table(*columns: str) -> Table:
    """A plain table whose cells are never cut (ids must stay copyable in a pipe)."""
    table = Table(box=None)
    for column in columns:
        table.add_column(column, no_wrap=True, min_width=36 if column.endswith("id") else None)
    return table


PREVIEW_CHARACTERS = 40


def chats_table(chats: list[Chat], me: str, names: Names) -> Table:
    """One row per chat: who with, unread count, the last message's preview, the id."""
    table = plain_table("with", "unread", "last message", "chat id")
    # In a narrow terminal (or a pipe: 80 columns) only the preview is cut.
    table.columns[1].min_width = len("unread")
    for chat in chats:
        others = ", ".join(names(member) for member in chat.members if member != me)
        table.columns[0].min_width = max(table.columns[0].min_width or 0, len(others))
        last = chat.last_message
        preview = ""
        if last is not None:
            text = last.text if last.text is not None else "(deleted)"
            if len(text) > PREVIEW_CHARACTERS:
                text = text[: PREVIEW_CHARACTERS - 1] + "…"
            who = "you" if last.sender_id == me else names(last.sender_id)
            preview = f"{local_time(last.sent_at)} {who}: {text}"
        unread = f"[bold]{chat.unread}[/bold]" if chat.unread else "0"
        table.add_row(safe(others), unread, safe(preview), chat.id)
    return table
