"""The `chat` command: accounts, chats, history and live messages from a terminal."""

import sys
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from typing import Annotated

import click
import typer
from rich.console import Console
from rich.markup import escape

from chat_cli import safety
from chat_cli.api import ChatApi
from chat_cli.config import get_settings
from chat_cli.errors import CliError
from chat_cli.lifecycle import Changes, catch_up, delete_account
from chat_cli.listener import BatchListener
from chat_cli.models import Message
from chat_cli.render import Names, chats_table, plain_table, print_message
from chat_cli.session import SessionStore
from chat_cli.timeline import Timeline, parse_before
from chat_common.contract.firestore import firestore_client

app = typer.Typer(
    name="chat",
    help="Chat from the terminal: accounts, chats, history and live messages.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

# A message can arrive in a batch whose last_sent_at is a little before the moment `watch`
# starts listening (clock skew, aggregation window): listen from this far back.
LISTEN_SLACK = timedelta(seconds=120)


def _api() -> ChatApi:
    settings = get_settings()
    return ChatApi(settings, SessionStore(settings.config_dir))


def _chat_id(api: ChatApi, chat: str) -> str:
    resolved = api.resolve_chat(chat)
    return resolved if isinstance(resolved, str) else resolved.id


Password = Annotated[
    str,
    typer.Option(
        "--password", "-p", prompt=True, hide_input=True, envvar="CHAT_PASSWORD", help="Password."
    ),
]


@app.command()
def register(
    username: str,
    password: Annotated[
        str,
        typer.Option(
            "--password",
            "-p",
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="CHAT_PASSWORD",
            help="Password (8 to 128 characters).",
        ),
    ],
    display_name: Annotated[str | None, typer.Option(help="Name shown to others.")] = None,
    login: Annotated[bool, typer.Option(help="Log in right after registering.")] = True,
) -> None:
    """Create an account (and log in)."""
    with _api() as api:
        user = api.register(username, password, display_name)
        out.print(f"registered [bold]{escape(user.username)}[/bold] ({user.id})")
        if login:
            api.login(username, password)
            out.print(f"logged in as [bold]{escape(user.username)}[/bold]")


@app.command()
def login(username: str, password: Password) -> None:
    """Log in; the tokens are kept in the config directory and refreshed when they expire."""
    with _api() as api:
        session = api.login(username, password)
        out.print(f"logged in as [bold]{escape(session.username)}[/bold] ({session.user_id})")


@app.command()
def logout() -> None:
    """Log out: the server ends the session (its refresh tokens stop working), then it is
    forgotten here."""
    with _api() as api:
        ended = api.logout()
    out.print("logged out" if ended else "not logged in")


@app.command("delete-account")
def delete_account_command(
    password: Password,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete your account: it stops working at once and your messages are erased."""
    if not yes:
        typer.confirm("Delete your account and erase all your messages?", abort=True)
    with _api() as api:
        delete_account(api, password)
    out.print("account deleted; your messages are being erased")


@app.command()
def whoami() -> None:
    """The logged-in user."""
    with _api() as api:
        session = api.current_session()
        out.print(f"{escape(session.username)} ({session.user_id})")


@app.command()
def users(
    prefix: Annotated[str, typer.Argument(help="Username prefix.")] = "",
    limit: Annotated[int, typer.Option(min=1, max=100)] = 20,
) -> None:
    """Find users by username prefix."""
    with _api() as api:
        found = api.search_users(prefix, limit)
    if not found:
        err.print(f"no users start with {prefix!r}")
        return
    table = plain_table("username", "display name", "id")
    for user in found:
        table.add_row(user.username, user.display_name or "", user.id)
    out.print(table)


@app.command("chat")
def open_chat(user: Annotated[str, typer.Argument(help="The other person's username.")]) -> None:
    """Start (or open) the chat with USER; prints its id."""
    with _api() as api:
        other = api.find_user(user)
        chat = api.open_chat(other.id)
    out.print(f"chat with [bold]{escape(other.username)}[/bold]: {chat.id}")


@app.command()
def chats() -> None:
    """Your chats, most recent activity first, with unread counts and the last message."""
    with _api() as api:
        me = api.current_session()
        names = Names(api, {me.user_id: me.username})
        table = chats_table(api.chats(), me.user_id, names)
    out.print(table)


@app.command()
def send(
    chat: Annotated[str, typer.Argument(help="Chat id, or the other person's username.")],
    text: str,
) -> None:
    """Send TEXT to CHAT."""
    with _api() as api:
        message = api.send(_chat_id(api, chat), text)
    out.print(f"sent {message.id}")


@app.command()
def history(
    chat: Annotated[str, typer.Argument(help="Chat id, or the other person's username.")],
    before: Annotated[
        str | None,
        typer.Option(help="Only messages older than this: a page's next time, or ISO 8601."),
    ] = None,
    quantity: Annotated[int, typer.Option(min=1, max=100, help="Messages per page.")] = 10,
) -> None:
    """A page of CHAT's history (printed oldest first) and how to read the page before."""
    try:
        time_uuid = parse_before(before) if before else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--before") from exc
    with _api() as api:
        me = api.current_session()
        chat_id = _chat_id(api, chat)
        page = api.history(chat_id, time_uuid, quantity)
        names = Names(api, {me.user_id: me.username})
        for message in reversed(page.items):
            print_message(out, message, names)
    if not page.items:
        err.print("no messages")
    if page.next_time:
        err.print(f"older: chat history {chat_id} --before {page.next_time}")
    else:
        err.print("(start of the chat)")


@app.command()
def watch(
    chat: Annotated[str, typer.Argument(help="Chat id, or the other person's username.")],
    quantity: Annotated[
        int, typer.Option(min=0, max=100, help="Recent messages to print first.")
    ] = 10,
    count: Annotated[
        int | None, typer.Option(min=1, help="Stop after this many new messages.")
    ] = None,
    timeout: Annotated[
        float | None, typer.Option(min=0, help="Stop after this many seconds.")
    ] = None,
    order_delay: Annotated[
        float,
        typer.Option(
            min=0,
            help="Hold new messages this long after they were sent, so that both people's "
            "messages print in the order they were sent (0: print at once).",
        ),
    ] = 2.0,
    mark_read: Annotated[
        bool, typer.Option(help="Mark what is printed as read (the other person sees it).")
    ] = True,
    after: Annotated[
        str | None,
        typer.Option(
            help="Back after a gap: print every message newer than this message id (the "
            "last one you saw), oldest first, instead of the recent ones; then go live.",
        ),
    ] = None,
) -> None:
    """Print CHAT's recent history, then each new message as it arrives (Ctrl-C stops)."""
    settings = get_settings()
    with _api() as api:
        me = api.current_session()
        chat_id = _chat_id(api, chat)
        names = Names(api, {me.user_id: me.username})
        timeline = Timeline(hold_seconds=order_delay)
        changes = Changes()

        def show(messages: list[Message]) -> None:
            """Print messages (oldest first), then read up to the newest: one call per
            group printed, not per message."""
            for message in messages:
                print_message(out, message, names)
            if mark_read and messages:
                api.mark_read(chat_id, messages[-1].id)

        client = firestore_client(settings.FIRESTORE_PROJECT, settings.FIRESTORE_EMULATOR_HOST)
        since = datetime.now(UTC) - LISTEN_SLACK
        # Listen before reading history: a message sent in between is then in one or
        # both, and the timeline prints it once.
        with closing(BatchListener(client, chat_id, since)) as listener:
            listener.start(settings.FIRESTORE_EMULATOR_HOST or "Firestore")
            if after:
                show(timeline.add_history(catch_up(api, chat_id, parse_before(after))))
            elif quantity:
                page = api.history(chat_id, None, quantity)
                show(timeline.add_history(page.items))
            err.print(f"watching chat {chat_id} (Ctrl-C to stop)")
            deadline = None if timeout is None else time.monotonic() + timeout
            printed = 0
            while count is None or printed < count:
                # Wake often while messages are held, to release them on time.
                wait = 0.1 if timeline.pending else 0.5
                if deadline is not None:
                    wait = min(wait, deadline - time.monotonic())
                    if wait <= 0:
                        break
                batches = listener.next(wait) or []
                new = timeline.add_batches(batches, time.time())
                changes.apply(out, batches, names)
                if count is not None:
                    new = new[: count - printed]
                show(new)
                printed += len(new)
            if count is None or printed < count:
                # Stopping on the timeout: what is held has arrived, so print it too.
                show(timeline.flush()[: None if count is None else count - printed])


for command in (safety.block, safety.unblock, safety.blocks, safety.report):
    app.command()(command)


def main() -> None:
    """Entry point: every failure the user can act on is one line on stderr, exit 1."""
    try:
        app(standalone_mode=False)
    except CliError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
        sys.exit(1)
    except click.exceptions.Abort:
        err.print("aborted")
        sys.exit(1)
    except click.exceptions.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
