"""`make demo`: two people chat on the running system; what Firestore carried, and saved.

Creates two users, opens their chat, exchanges a short burst, prints each realtime batch
as the Firestore listener receives it (how many messages it carried), lets both read it and
shows their inbox entries and read receipts, reads the history back page by page from
Cassandra, and counts the Firestore writes of each kind against one per message.
"""

import sys
import tempfile
import time
import uuid
from collections import Counter
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from chat_cli.api import ChatApi
from chat_cli.config import Settings, get_settings
from chat_cli.errors import CliError
from chat_cli.listener import BatchListener
from chat_cli.models import Message
from chat_cli.render import local_time
from chat_cli.session import SessionStore
from chat_cli.timeline import Batch, time_key
from chat_cli.writes import ChatWrites
from chat_common.contract.firestore import firestore_client

READY_WAIT_SECONDS = 60.0
DELIVERY_WAIT_SECONDS = 30.0
PAGE = 6
# (speaker, texts): quick bursts, so the aggregator has something to aggregate.
SCRIPT: tuple[tuple[int, tuple[str, ...]], ...] = (
    (0, ("hey!", "are you there?", "I have news", "big news", "the backend works")),
    (1, ("hi :)", "tell me", "what news?")),
    (0, ("messages go to Cassandra", "and Kafka", "and Firestore gets batches", "see?")),
    (1, ("nice", "how many writes did that save?")),
)

console = Console(soft_wrap=True, highlight=False)


def wait_ready(name: str, url: str) -> None:
    deadline = time.monotonic() + READY_WAIT_SECONDS
    while True:
        try:
            if httpx.get(f"{url}/readyz", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise CliError(f"{name} at {url} is not ready after 60 s: run `make up` first")
        time.sleep(1.0)


def run(settings: Settings, workdir: Path) -> int:
    wait_ready("auth-service", settings.AUTH_URL)
    wait_ready("chat-service", settings.CHAT_URL)
    tag = uuid.uuid4().hex[:6]
    names = (f"alice_{tag}", f"bob_{tag}")
    password = f"demo-{uuid.uuid4().hex}"
    people = [ChatApi(settings, SessionStore(workdir / name)) for name in names]
    console.rule("[bold]1. two people sign up and find each other")
    for api, name in zip(people, names, strict=True):
        user = api.register(name, password, name.split("_")[0].title())
        api.login(name, password)
        console.print(f"registered and logged in: [bold]{name}[/bold] ({user.id})")
    alice, bob = people
    found = alice.search_users(names[1][:5])
    other = next(user for user in found if user.username == names[1])
    console.print(f"{names[0]} searches '{names[1][:5]}' and finds {other.username}")
    chat = alice.open_chat(other.id)
    console.print(f"chat opened: {chat.id}")
    ids = {alice.current_session().user_id: names[0], bob.current_session().user_id: names[1]}

    console.rule("[bold]2. a short burst, watched live through a Firestore listener")
    client = firestore_client(settings.FIRESTORE_PROJECT, settings.FIRESTORE_EMULATOR_HOST)
    since = datetime.now(UTC) - timedelta(seconds=5)
    sent: list[Message] = []
    batches: list[Batch] = []
    delivered: Counter[str] = Counter()
    table = Table("arrived", "batch document", "sender", "messages", "completed by", box=None)
    for column in table.columns:
        column.no_wrap = True
    with (
        closing(BatchListener(client, chat.id, since)) as listener,
        ChatWrites(client, chat.id, ids) as chat_writes,
    ):
        listener.start(settings.FIRESTORE_EMULATOR_HOST or "Firestore")
        started = time.monotonic()
        for speaker, texts in SCRIPT:
            for text in texts:
                sent.append(people[speaker].send(chat.id, text))
        per_sender = Counter(ids[m.sender_id] for m in sent)
        console.print(
            f"sent {len(sent)} messages in {time.monotonic() - started:.2f} s "
            f"({', '.join(f'{n} from {name}' for name, n in per_sender.items())})"
        )
        wanted = {message.id for message in sent}
        deadline = time.monotonic() + DELIVERY_WAIT_SECONDS
        while not wanted <= set(delivered) and time.monotonic() < deadline:
            arrived = listener.next(0.5)
            for batch in arrived or []:
                batches.append(batch)
                delivered.update(message.id for message in batch.messages)
                sender = ids.get(batch.sender_id, batch.sender_id[:8])
                table.add_row(
                    f"+{time.monotonic() - started:.2f} s",
                    # The id is {sender_id}_{window_start_ms}_{seq}: shown with the name.
                    batch.id.replace(batch.sender_id, sender),
                    sender,
                    str(batch.count),
                    batch.completed_by or "",
                )
                console.print(
                    f"  +{time.monotonic() - started:5.2f} s  a batch document with "
                    f"[bold]{batch.count}[/bold] message(s) from {sender}"
                    f" (completed by: {batch.completed_by or '?'})"
                )
        missing = [m for m in sent if m.id not in delivered]
        repeated = [i for i, n in delivered.items() if n > 1]
        console.rule("[bold]3. both read the chat: their inbox entries and read receipts")
        read_ok = read_and_show(people, chat.id, sent, ids, chat_writes)
    inbox_writes, receipt_writes = chat_writes.writes()

    console.rule("[bold]4. history read back from Cassandra, page by page")
    before: str | None = None
    page_number = 0
    read_back: list[Message] = []
    while True:
        page = bob.history(chat.id, before, PAGE)
        page_number += 1
        console.print(f"[bold]page {page_number}[/bold] ({len(page.items)} messages, newest first)")
        for message in page.items:
            console.print(
                f"   {local_time(message.sent_at)} {ids[message.sender_id]}: {message.text}"
            )
        read_back.extend(page.items)
        if not page.next_time:
            break
        before = page.next_time

    console.rule("[bold]5. Firestore writes")
    console.print(table)
    documents = len(batches)
    messages = len(sent)
    saved = messages - documents
    console.print(
        f"{messages} messages reached the listener in [bold]{documents}[/bold] Firestore "
        f"documents; one document per message would have been {messages} writes: "
        f"[bold]{saved} writes saved ({saved / messages:.0%})[/bold]."
    )
    counts = Table("kind", "writes", "per message", box=None)
    total = documents + inbox_writes + receipt_writes
    for kind, n in (
        ("batches", documents),
        ("inbox entries", inbox_writes),
        ("read receipts", receipt_writes),
        ("all", total),
    ):
        counts.add_row(kind, str(n), f"{n / messages:.2f}")
    console.print(counts)
    ok = read_ok
    in_order = [m.id for m in sorted(read_back, key=lambda m: time_key(m.id))]
    if missing:
        ok = False
        console.print(f"[red]{len(missing)} message(s) never arrived through Firestore[/red]")
    if repeated:
        ok = False
        console.print(f"[red]{len(repeated)} message(s) arrived in more than one batch[/red]")
    if in_order != [m.id for m in sent]:
        ok = False
        console.print("[red]history does not hold exactly the messages sent, in order[/red]")
    if ok:
        console.print(
            "every message arrived exactly once through Firestore, and history holds all "
            f"{messages} in order across {page_number} pages."
        )
    for api in people:
        api.close()
    return 0 if ok else 1


def read_and_show(
    people: list[ChatApi],
    chat_id: str,
    sent: list[Message],
    ids: dict[str, str],
    writes: ChatWrites,
) -> bool:
    """Both mark the chat read up to its last message; print their inbox entries and
    receipts once Firestore has them (False if it never does)."""
    last_id = sent[-1].id
    for api in people:
        api.mark_read(chat_id, last_id)
    console.print(f"both read up to the last message ({last_id})")

    def settled() -> bool:
        entries = [writes.inbox.get(user) for user in ids]
        receipts = [writes.receipts.get(user) for user in ids]
        return all(
            e is not None and e.unread == 0 and str(e.other_read_up_to) == last_id for e in entries
        ) and all(r is not None and str(r.read_up_to) == last_id for r in receipts)

    deadline = time.monotonic() + DELIVERY_WAIT_SECONDS
    while not settled() and time.monotonic() < deadline:
        time.sleep(0.2)
    texts = {m.id: m.text for m in sent}

    def message(message_id: object) -> str:
        return repr(texts.get(str(message_id), str(message_id)[:8])) if message_id else ""

    inbox = Table("inbox of", "with", "last message", "unread", "other read up to", box=None)
    for user, entry in sorted(writes.inbox.items(), key=lambda item: ids.get(item[0], "")):
        last = entry.last_message
        inbox.add_row(
            ids.get(user, user[:8]),
            ids.get(str(entry.other_user_id), ""),
            f"{ids.get(str(last.sender_id), '')}: {last.text!r}" if last else "",
            str(entry.unread),
            message(entry.other_read_up_to),
        )
    console.print("[bold]users/{uid}/chats/{chat}[/bold]")
    console.print(inbox)
    receipts = Table("receipt of", "read up to", "read at", box=None)
    for user, receipt in sorted(writes.receipts.items(), key=lambda item: ids.get(item[0], "")):
        receipts.add_row(
            ids.get(user, user[:8]),
            message(receipt.read_up_to),
            receipt.read_at.astimezone().strftime("%H:%M:%S.%f")[:-3],
        )
    console.print("[bold]chats/{chat}/receipts/{uid}[/bold]")
    console.print(receipts)
    if settled():
        return True
    console.print("[red]the inbox entries and receipts did not show both reads within 30 s[/red]")
    return False


def main() -> None:
    """Entry point of `make demo` (`python -m chat_cli.demo`)."""
    with tempfile.TemporaryDirectory(prefix="chat-demo-") as workdir:
        try:
            code = run(get_settings(), Path(workdir))
        except CliError as exc:
            console.print(f"[red]demo failed:[/red] {exc}")
            code = 1
        except KeyboardInterrupt:
            code = 130
    sys.exit(code)


if __name__ == "__main__":
    main()
