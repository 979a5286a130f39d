"""Messages print safely: nothing from the network reaches the terminal as a control code."""

import io

from rich.console import Console

from chat_cli.models import Message
from chat_cli.render import print_message


class FixedNames:
    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, user_id: str) -> str:
        return self.name


def render(text: str, sender: str = "bob") -> str:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, color_system=None, width=200)
    message = Message(
        id="m1", chat_id="c1", sender_id="u1", text=text, sent_at="2026-01-01T00:00:00.000Z"
    )
    print_message(console, message, FixedNames(sender))  # type: ignore[arg-type]
    return out.getvalue()


def test_escape_sequences_in_a_message_never_reach_the_terminal() -> None:
    printed = render("hi\x1b[2J\x1b]0;pwned\x07\x9b2J there")
    assert "\x1b" not in printed and "\x07" not in printed and "\x9b" not in printed
    assert "hi\\x1b[2J\\x1b]0;pwned\\x07\\x9b2J there" in printed


def test_bidi_overrides_are_shown_not_applied() -> None:
    printed = render("invoice\u202efdp.exe", sender="eve\u202e")
    assert "\u202e" not in printed
    assert "invoice\\u202efdp.exe" in printed and "eve\\u202e" in printed


def test_rich_markup_in_a_message_is_printed_as_text() -> None:
    assert "[bold]not bold[/bold]" in render("[bold]not bold[/bold]")
