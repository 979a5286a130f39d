"""Checks that a server really answers (a query, a metadata request), not just a port."""

import asyncio

import asyncpg
import httpx

# Each check raises when the server is not ready; the caller retries until its deadline.


async def postgres(port: int) -> None:
    conn = await asyncpg.connect(host="127.0.0.1", port=port, user="postgres", timeout=3)
    try:
        await conn.fetchval("SELECT 1")
    finally:
        await conn.close()


def _cassandra_query(port: int) -> None:
    from infra.rights.local import cassandra_session

    # As the super user `admin` (made at the first successful login: infra/rights).
    cluster = cassandra_session(port)
    try:
        session = cluster.connect()
        session.execute("SELECT release_version FROM system.local", timeout=3)
    finally:
        cluster.shutdown()


async def cassandra(port: int) -> None:
    # cassandra-driver blocks; keep it off the event loop.
    await asyncio.to_thread(_cassandra_query, port)


async def kafka(port: int) -> None:
    from aiokafka.admin import AIOKafkaAdminClient

    from infra.rights.local import ADMIN, aiokafka_kwargs

    admin = AIOKafkaAdminClient(
        bootstrap_servers=f"127.0.0.1:{port}", request_timeout_ms=3000, **aiokafka_kwargs(ADMIN)
    )
    await admin.start()
    try:
        await admin.describe_cluster()
    finally:
        await admin.close()


async def firestore(port: int) -> None:
    from chat_common.contract.firestore import async_firestore_client

    client = async_firestore_client("demo-chat", f"127.0.0.1:{port}")
    try:
        await client.collection("readiness").document("probe").get(timeout=3)
    finally:
        client.close()


async def firebase_auth(port: int) -> None:
    # Its root answers {"authEmulator": {"ready": true}} once it serves accounts.
    async with httpx.AsyncClient(timeout=3) as client:
        response = await client.get(f"http://127.0.0.1:{port}/")
        response.raise_for_status()
        if response.json().get("authEmulator", {}).get("ready") is not True:
            raise RuntimeError("Firebase Auth emulator not ready yet")


async def http_ok(url: str) -> None:
    async with httpx.AsyncClient(timeout=3) as client:
        response = await client.get(url)
        response.raise_for_status()


async def prometheus(port: int) -> None:
    # /-/ready answers 200 once the rules are loaded and the TSDB is open.
    await http_ok(f"http://127.0.0.1:{port}/-/ready")
