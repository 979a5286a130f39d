"""Deletes batch documents past their `expire_at`.

In production a Firestore TTL policy on the `batches` collection group's `expire_at`
field does this (`gcloud firestore fields ttls update expire_at --collection-group=batches
--enable-ttl`); the emulator has no TTL, so the aggregator sweeps. Collection-group queries
are outside the emulator's faithful subset, so the sweep walks chats one by one: those
listed under `chats` (missing parent documents included) plus those this process wrote to.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from google.api_core import exceptions as gexc
from google.cloud.firestore import AsyncClient
from google.cloud.firestore_v1.base_query import FieldFilter

logger = logging.getLogger(__name__)

PAGE = 200
RPC_TIMEOUT_SECONDS = 10.0


async def chat_ids(client: AsyncClient) -> set[str]:
    """Every chat with a `batches` subcollection, as the `chats` listing reports it."""
    ids: set[str] = set()
    async for ref in client.collection("chats").list_documents(
        retry=None, timeout=RPC_TIMEOUT_SECONDS
    ):
        ids.add(ref.id)
    return ids


async def sweep_chat(client: AsyncClient, chat_id: str, now: datetime) -> int:
    """Delete the chat's expired batches, a page at a time; return how many."""
    batches = client.collection("chats").document(chat_id).collection("batches")
    deleted = 0
    while True:
        query = batches.where(filter=FieldFilter("expire_at", "<=", now)).limit(PAGE)
        page = [snap async for snap in query.stream(retry=None, timeout=RPC_TIMEOUT_SECONDS)]
        for snapshot in page:
            # Deletes are idempotent, so each goes on its own: no batch atomicity needed.
            await snapshot.reference.delete(retry=None, timeout=RPC_TIMEOUT_SECONDS)
        deleted += len(page)
        if len(page) < PAGE:
            return deleted


async def sweep(client: AsyncClient, also: Iterable[str] = (), now: datetime | None = None) -> int:
    """One pass over every known chat; return the number of batches deleted."""
    now = now or datetime.now(UTC)
    try:
        chats = await chat_ids(client)
    except gexc.GoogleAPIError as exc:
        # The npm emulator does not implement ListDocuments; production Firestore does.
        logger.debug("listing chats failed (%r); sweeping the chats this process wrote", exc)
        chats = set()
    chats.update(also)
    deleted = 0
    for chat_id in sorted(chats):
        deleted += await sweep_chat(client, chat_id, now)
    if deleted:
        logger.info("swept %d expired batches from %d chats", deleted, len(chats))
    return deleted


async def sweep_forever(
    client: AsyncClient, interval: float, known_chats: Callable[[], Iterable[str]]
) -> None:
    """Sweep every `interval` seconds until cancelled; a failed pass waits for the next."""
    while True:
        await asyncio.sleep(interval)
        try:
            await sweep(client, known_chats())
        except gexc.GoogleAPIError as exc:
            logger.warning("sweep failed, next one in %.0fs: %r", interval, exc)
