"""Measure Cassandra's bytes on disk per stored message, on the running local Cassandra.

    .venv/bin/python bench/capacity_probe.py        # after `make up`; about a minute

How: the chat-service migration creates its real tables in a scratch keyspace; messages are
written into `message` as the service lays them out (one partition per chat and hour bucket,
time-UUID clustering) with text made of random words, then `nodetool flush` writes them to
SSTables and `nodetool tablestats` reports the live SSTable bytes (compressed, with their
index, bloom filter and statistics files). Bytes per message = live bytes / messages, for a
typical text and for the longest text allowed. One replica (the local node has RF 1): the
capacity model multiplies by the replication factor. The keyspaces are dropped afterwards.

The result goes to bench/results/capacity-probe/<timestamp>.json, where bench/capacity.py
finds the newest one.
"""

import argparse
import json
import random
import re
import subprocess
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from cassandra.cluster import Session
from cassandra.concurrent import execute_concurrent_with_args
from cassandra.util import uuid_from_time

from chat_service.config import Settings
from chat_service.store.cassandra import build_cluster
from chat_service.store.migrate import migrate_blocking

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "results" / "capacity-probe"
# What a JDK 17 needs to run Cassandra's own tools outside its start scripts.
JAVA_FLAGS = [
    f"--add-{kind}=java.base/{package}=ALL-UNNAMED"
    for package in ("sun.nio.ch", "jdk.internal.ref", "jdk.internal.misc")
    for kind in ("exports", "opens")
]
WORDS = (
    "the a to and i you it is that of in we on for this be have not are so what but just "
    "was with can do me my at see if no yes ok okay tomorrow tonight later lunch dinner "
    "meeting call home work time good great thanks sure maybe now here there where when "
    "why how going come will would could should think know want need like love haha lol"
).split()
MAX_TEXT_CHARS = 4000  # the contract's limit on a message


def text_of(chars: int, rng: random.Random) -> str:
    """Random words up to `chars` characters: compresses about as well as real chat text."""
    words: list[str] = []
    length = -1
    while length + 1 < chars:
        word = rng.choice(WORDS)
        words.append(word)
        length += len(word) + 1
    return " ".join(words)[:chars]


def nodetool(classpath: str, jmx_port: int, *args: str) -> str:
    command = ["java", *JAVA_FLAGS, "-Dcassandra.logdir=/tmp", "-cp", classpath]
    command += ["org.apache.cassandra.tools.NodeTool", "-h", "127.0.0.1", "-p", str(jmx_port)]
    done = subprocess.run(
        [*command, *args], capture_output=True, text=True, timeout=120, check=True
    )
    return done.stdout


def write_messages(
    session: Session, keyspace: str, chats: int, per_chat: int, chars: int, seed: int
) -> None:
    rng = random.Random(seed)
    insert = session.prepare(
        f"INSERT INTO {keyspace}.message (chat_id, bucket, message_id, sender_id, text) "
        "VALUES (?, ?, ?, ?, ?)"
    )
    start = time.time() - 3600
    rows = []
    for _ in range(chats):
        chat_id, members = uuid.uuid4(), (uuid.uuid4(), uuid.uuid4())
        for n in range(per_chat):
            sent = start + n * 2.0
            message_id = uuid_from_time(sent)
            rows.append(
                (chat_id, int(sent) // 3600, message_id, members[n % 2], text_of(chars, rng))
            )
    for ok, result in execute_concurrent_with_args(session, insert, rows, concurrency=64):
        if not ok:
            raise RuntimeError(f"insert failed: {result!r}")


def measure(settings: Settings, classpath: str, jmx_port: int, chars: int, chats: int) -> float:
    """Live SSTable bytes per message for messages of `chars` characters."""
    keyspace = f"capacity_probe_{chars}"
    migrate_blocking(settings, keyspace=keyspace)
    per_chat = 20
    cluster = build_cluster(settings.cassandra_contact_points, settings.CASSANDRA_PORT, 5, 60)
    try:
        session = cluster.connect()
        write_messages(session, keyspace, chats, per_chat, chars, seed=chars)
        nodetool(classpath, jmx_port, "flush", keyspace, "message")
        stats = nodetool(classpath, jmx_port, "tablestats", f"{keyspace}.message")
        found = re.search(r"Space used \(live\): (\d+)", stats)
        if not found:
            raise RuntimeError(f"no 'Space used (live)' in tablestats:\n{stats}")
        return int(found.group(1)) / (chats * per_chat)
    finally:
        cluster.shutdown()
        drop = build_cluster(settings.cassandra_contact_points, settings.CASSANDRA_PORT, 5, 60)
        try:
            drop.connect().execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=60)
        finally:
            drop.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text-chars", type=int, default=80, help="a typical message's length")
    parser.add_argument("--chats", type=int, default=1000, help="chats of 20 messages each")
    parser.add_argument("--jmx-port", type=int, default=7199)
    parser.add_argument("--state", type=Path, default=ROOT / ".state")
    args = parser.parse_args()
    classpath = (args.state / "cassandra" / "classpath.txt").read_text().strip()
    settings = Settings()
    typical = measure(settings, classpath, args.jmx_port, args.text_chars, args.chats)
    longest = measure(settings, classpath, args.jmx_port, MAX_TEXT_CHARS, max(args.chats // 10, 10))
    figures = {
        "cassandra.bytes_per_message": typical,
        "cassandra.text_chars": float(args.text_chars),
        "cassandra.bytes_per_message_max_text": longest,
        "cassandra.max_text_chars": float(MAX_TEXT_CHARS),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{datetime.now(UTC):%Y-%m-%dT%H-%M-%SZ}.json"
    path.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    for name, value in figures.items():
        print(f"{name} = {value:,.1f}")
    print(f"written to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
