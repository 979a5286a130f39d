"""Chat-service benchmark: send throughput beside raw Cassandra, page cost at depth.

Prints figures and ratios; it is not a test and asserts nothing. Needs Cassandra, Kafka
and the auth service running (`make up`). It starts its own chat-service (uvicorn, on
BENCH_PORT, keyspace BENCH_KEYSPACE) so the figures are over real HTTP and the bench data
stays out of the service's keyspace. Run:

    /work/main/.venv/bin/python bench/chat/bench_chat.py [--senders 50] [--deep 1000000]

The deep chat is seeded once with the raw driver and reused by later runs.
"""

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import httpx
from cassandra.concurrent import execute_concurrent_with_args
from cassandra.query import BatchStatement, BatchType
from cassandra.util import uuid_from_time

from chat_service.config import Settings
from chat_service.migrate import migrate
from chat_service.models import chat_id_for
from chat_service.repository import STATEMENTS
from chat_service.schema import qualify
from chat_service.store import build_cluster
from chat_service.timeuuids import bucket_start

KEYSPACE = os.environ.get("BENCH_KEYSPACE", "chat_bench")
PORT = int(os.environ.get("BENCH_PORT", "18002"))
BASE = f"http://127.0.0.1:{PORT}"
PASSWORD = "bench-password-1"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def user(auth: httpx.AsyncClient, username: str) -> tuple[uuid.UUID, str]:
    """Register (or reuse) a user and log in: (id, access token)."""
    await auth.post("/auth/register", json={"username": username, "password": PASSWORD})
    login = await auth.post("/auth/login", json={"username": username, "password": PASSWORD})
    login.raise_for_status()
    token = login.json()["access_token"]
    me = await auth.get("/users/me", headers={"Authorization": f"Bearer {token}"})
    me.raise_for_status()
    return uuid.UUID(me.json()["id"]), token


def start_service(settings: Settings) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CASSANDRA_KEYSPACE": KEYSPACE, "LOG_LEVEL": "WARNING"}
    uvicorn = Path(sys.executable).with_name("uvicorn")
    return subprocess.Popen(
        [
            str(uvicorn),
            "chat_service.main:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(PORT),
            "--no-access-log",
            # Longer than any pause in the run: uvicorn closing an idle keep-alive connection
            # just as the client reuses it fails that request (a client-side race, not a
            # server error).
            "--timeout-keep-alive",
            "60",
            "--log-level",
            "warning",
        ],
        env=env,
    )


async def wait_ready(client: httpx.AsyncClient) -> None:
    for _ in range(120):
        try:
            if (await client.get("/readyz")).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.5)
    raise SystemExit("bench chat-service never became ready")


async def bench_sends(
    client: httpx.AsyncClient, auth: httpx.AsyncClient, senders: int, per_sender: int
) -> tuple[float, list[float]]:
    users = [await user(auth, f"bench_s{i}") for i in range(senders)]
    chats = []
    for i in range(senders):
        me, token = users[i]
        other, _ = users[(i + 1) % senders]
        created = await client.post(
            "/chats", json={"user_id": str(other)}, headers={"Authorization": f"Bearer {token}"}
        )
        created.raise_for_status()
        chats.append((created.json()["id"], token))
    latencies: list[float] = []
    # The load comes from aiohttp: httpx's client costs so much CPU per request that, on
    # two cores, it measured itself (about 60 requests/s) rather than the service.
    connector = aiohttp.TCPConnector(limit=senders + 10)
    async with aiohttp.ClientSession(base_url=BASE, connector=connector) as session:

        async def sender(chat_id: str, token: str) -> None:
            headers = {"Authorization": f"Bearer {token}"}
            for n in range(per_sender):
                started = time.perf_counter()
                async with session.post(
                    f"/chat/{chat_id}/messages",
                    json={"text": f"bench message {n}"},
                    headers=headers,
                ) as response:
                    await response.read()
                    response.raise_for_status()
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(sender(chat_id, token) for chat_id, token in chats))
        elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, latencies


def bench_raw_inserts(settings: Settings, rows: int, concurrency: int) -> float:
    """Raw cassandra-driver single-row inserts into the same `message` table."""
    cluster = build_cluster(settings.cassandra_contact_points, settings.CASSANDRA_PORT, 5, 10)
    session = cluster.connect()
    insert = session.prepare(qualify(STATEMENTS["insert_message"], KEYSPACE))
    chat = uuid.uuid4()
    now = datetime.now(UTC)
    params = []
    for i in range(rows):
        message_id = uuid_from_time(now + timedelta(microseconds=i))
        params.append((chat, bucket_start(message_id, 3600), message_id, chat, f"raw {i}"))
    started = time.perf_counter()
    execute_concurrent_with_args(session, insert, params, concurrency=concurrency)
    elapsed = time.perf_counter() - started
    cluster.shutdown()
    return rows / elapsed


def seed_deep_chat(
    settings: Settings, chat_id: uuid.UUID, sender: uuid.UUID, total: int
) -> list[uuid.UUID]:
    """`total` messages, one a second ending an hour ago; ids newest first. Seeded once."""
    end = datetime(2026, 1, 1, tzinfo=UTC)
    ids = [uuid_from_time(end - timedelta(seconds=i)) for i in range(total)]  # newest first
    buckets = sorted({bucket_start(m, settings.MESSAGE_BUCKET_SECONDS) for m in ids})
    cluster = build_cluster(settings.cassandra_contact_points, settings.CASSANDRA_PORT, 5, 30)
    session = cluster.connect()
    select = session.prepare(qualify(STATEMENTS["select_buckets"], KEYSPACE))
    existing = list(session.execute(select, (chat_id, 2**63 - 1, len(buckets) + 1)))
    if len(existing) == len(buckets):
        print(f"deep chat already seeded ({total} messages in {len(buckets)} buckets)")
    else:
        print(f"seeding {total} messages into {len(buckets)} buckets ...", flush=True)
        started = time.perf_counter()
        insert = session.prepare(qualify(STATEMENTS["insert_message"], KEYSPACE))
        bucket = session.prepare(qualify(STATEMENTS["insert_bucket"], KEYSPACE))
        # Unlogged batches of rows of one partition: the cheap way to bulk-load, and
        # only for seeding (the service writes one message at a time).
        by_partition: dict[int, list[uuid.UUID]] = {}
        for m in ids:
            by_partition.setdefault(bucket_start(m, settings.MESSAGE_BUCKET_SECONDS), []).append(m)
        batches = []
        for part, members in by_partition.items():
            for offset in range(0, len(members), 100):
                batch = BatchStatement(batch_type=BatchType.UNLOGGED)
                for m in members[offset : offset + 100]:
                    batch.add(insert, (chat_id, part, m, sender, "deep"))
                batches.append(batch)
        for offset in range(0, len(batches), 64):
            futures = [session.execute_async(b) for b in batches[offset : offset + 64]]
            for future in futures:
                future.result()
        # Bucket rows last: a half-seeded chat is re-seeded by the next run.
        execute_concurrent_with_args(
            session, bucket, [(chat_id, b) for b in buckets], concurrency=64
        )
        print(f"seeded in {time.perf_counter() - started:.0f}s", flush=True)
    cluster.shutdown()
    return ids


async def page_latency(
    client: httpx.AsyncClient, chat_id: uuid.UUID, token: str, time_id: uuid.UUID, rounds: int
) -> list[float]:
    headers = {"Authorization": f"Bearer {token}"}
    latencies = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = await client.get(
            f"/chat/{chat_id}", params={"time": str(time_id), "quantity": 10}, headers=headers
        )
        latencies.append(time.perf_counter() - started)
        response.raise_for_status()
        assert len(response.json()["items"]) == 10
    return latencies


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--senders", type=int, default=50)
    parser.add_argument("--per-sender", type=int, default=40)
    parser.add_argument("--raw-rows", type=int, default=20_000)
    parser.add_argument("--deep", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()

    settings = Settings(CASSANDRA_KEYSPACE=KEYSPACE)
    await migrate(settings, KEYSPACE)
    service = start_service(settings)
    limits = httpx.Limits(max_connections=args.senders + 10)
    try:
        async with (
            httpx.AsyncClient(base_url=BASE, timeout=30, limits=limits) as client,
            httpx.AsyncClient(base_url=settings.AUTH_SERVICE_URL, timeout=30) as auth,
        ):
            await wait_ready(client)
            rate, latencies = await bench_sends(client, auth, args.senders, args.per_sender)
            raw = await asyncio.to_thread(bench_raw_inserts, settings, args.raw_rows, args.senders)
            print(
                f"\nPOST /chat/{{id}}/messages, {args.senders} concurrent senders, "
                f"{len(latencies)} messages over HTTP"
            )
            print(f"  throughput      {rate:8.0f} messages/s")
            print(f"  latency p50     {percentile(latencies, 0.5) * 1000:8.1f} ms")
            print(f"  latency p99     {percentile(latencies, 0.99) * 1000:8.1f} ms")
            print(f"raw cassandra-driver inserts into `message` (concurrency {args.senders})")
            print(f"  throughput      {raw:8.0f} rows/s")
            print(f"  ratio service/raw  {rate / raw:.3f}")
            # A send's own store writes, without HTTP, are measured by `make bench`
            # (bench/store_writes.py).

            a, token = await user(auth, "bench_deep_a")
            b, _ = await user(auth, "bench_deep_b")
            created = await client.post(
                "/chats", json={"user_id": str(b)}, headers={"Authorization": f"Bearer {token}"}
            )
            created.raise_for_status()
            chat_id = chat_id_for(a, b)
            ids = await asyncio.to_thread(seed_deep_chat, settings, chat_id, a, args.deep)
            shallow = await page_latency(client, chat_id, token, ids[100], args.rounds)
            deep_at = min(len(ids) - 11, args.deep - 1000)
            deep = await page_latency(client, chat_id, token, ids[deep_at], args.rounds)
            print(
                f"\nGET /chat/{{id}}?time=&quantity=10, {args.rounds} rounds each "
                f"(chat of {args.deep} messages)"
            )
            print(
                f"  at depth 100         p50 {statistics.median(shallow) * 1000:6.1f} ms  "
                f"p99 {percentile(shallow, 0.99) * 1000:6.1f} ms"
            )
            print(
                f"  at depth {deep_at:<11} p50 {statistics.median(deep) * 1000:6.1f} ms  "
                f"p99 {percentile(deep, 0.99) * 1000:6.1f} ms"
            )
            ratio = statistics.median(deep) / statistics.median(shallow)
            print(f"  ratio deep/shallow (p50)  {ratio:.2f}")
    finally:
        service.terminate()
        service.wait(timeout=30)


if __name__ == "__main__":
    asyncio.run(main())
