"""Deletes batch documents past their `expire_at`.

In production a Firestore TTL policy on the `batches` collection group's `expire_at`
field does this (`gcloud firestore fields ttls update expire_at --collection-group=batches
--enable-ttl`); the emulator has no TTL, so the aggregator sweeps. Collection-group queries
are outside the emulator's faithful subset, so the sweep walks chats one by one: those
listed under `chats` (missing parent documents included) plus those this process wrote to,
each until its last batch has expired and been swept, at most `SWEEP_MAX_CHATS` of them
(the least recently written are dropped first); a chat it wrote to is only queried once its
first batch may have expired. Where a TTL policy exists the sweep is
switched off (`SWEEP_ENABLED=false`).
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from google.api_core import exceptions as gexc
from google.cloud.firestore import AsyncClient
from google.cloud.firestore_v1.base_query import FieldFilter

from chat_common.backoff import wait_or_stop
from chat_common.contract.documents import chat_batches

logger = logging.getLogger(__name__)

PAGE = 200
RPC_TIMEOUT_SECONDS = 10.0


class SweepFailed(RuntimeError):
    """Some chats could not be swept (the others were)."""


class ChatsToSweep:
    """Chats written to, each with the expiry of its oldest and newest batch written since
    it was last forgotten; at most `limit` of them."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        # chat -> (earliest, latest) expire_at of the batches this process wrote there.
        self._expiry: OrderedDict[str, tuple[datetime, datetime]] = OrderedDict()

    def add(self, chat_id: str, expire_at: datetime) -> None:
        if self.limit <= 0:
            return
        previous = self._expiry.pop(chat_id, None)
        self._expiry[chat_id] = (
            (expire_at, expire_at)
            if previous is None
            else (min(previous[0], expire_at), max(previous[1], expire_at))
        )
        while len(self._expiry) > self.limit:
            self._expiry.popitem(last=False)  # the least recently written

    def due(self, now: datetime) -> list[str]:
        """Chats holding a batch that may have expired by `now`. Querying the others finds
        nothing, and the emulator answers a query by scanning every batch of the chat: a
        sweep of every chat written to took two-thirds of a core for a second each minute."""
        return [chat for chat, (earliest, _) in self._expiry.items() if earliest <= now]

    def swept(self, now: datetime) -> None:
        """A sweep at `now` succeeded: chats whose every batch had expired by then are done."""
        for chat_id in [c for c, (_, latest) in self._expiry.items() if latest <= now]:
            del self._expiry[chat_id]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._expiry))

    def __len__(self) -> int:
        return len(self._expiry)


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
    batches = client.collection(chat_batches(chat_id))
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
    """One pass over every known chat; return the number of batches deleted.

    A chat that fails does not stop the others; the pass then raises at the end.
    """
    now = now or datetime.now(UTC)
    try:
        chats = await chat_ids(client)
    except gexc.GoogleAPIError as exc:
        # The npm emulator does not implement ListDocuments; production Firestore does.
        logger.debug("listing chats failed (%r); sweeping the chats this process wrote", exc)
        chats = set()
    chats.update(also)
    deleted = 0
    failed: list[gexc.GoogleAPIError] = []
    for chat_id in sorted(chats):
        try:
            deleted += await sweep_chat(client, chat_id, now)
        except gexc.GoogleAPIError as exc:
            failed.append(exc)
    if deleted:
        logger.info("swept %d expired batches from %d chats", deleted, len(chats))
    if failed:
        raise SweepFailed(f"{len(failed)} of {len(chats)} chats failed, first: {failed[0]!r}")
    return deleted


class Sweeper:
    """Sweeps every `interval` seconds until `stop`; a failed pass waits for the next."""

    def __init__(self, client: AsyncClient, interval: float, written: ChatsToSweep) -> None:
        self._client = client
        self._interval = interval
        self._written = written
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        while True:
            await wait_or_stop(self._stopping, self._interval)
            if self._stopping.is_set():
                return
            now = datetime.now(UTC)
            try:
                await sweep(self._client, self._written.due(now), now)
            except (gexc.GoogleAPIError, SweepFailed) as exc:
                logger.warning("sweep failed, next one in %.0fs: %r", self._interval, exc)
            else:
                self._written.swept(now)
