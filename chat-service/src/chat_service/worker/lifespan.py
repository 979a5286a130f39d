"""chat-worker's lifespan: the consumer groups and the outbox sweeper, as background loops.

Each consumer group is a projection run by the shared consume loop (`chat_common.consume`):
the inbox and receipts (group INBOX_GROUP_ID of KAFKA_TOPIC) and the erasure of deleted
accounts (group USER_EVENTS_GROUP_ID of USER_EVENTS_TOPIC), each parking what it cannot
handle on its topic's dead-letter topic. On SIGTERM uvicorn ends the lifespan: each loop
writes what it holds and commits, then the core closes. A loop that dies fails /healthz.
"""

import contextlib
from collections.abc import AsyncIterator, Mapping
from functools import partial
from typing import Literal

from fastapi import FastAPI

from chat_common.background import Loop, loops_check, running
from chat_common.consume.clients import tail_consumer
from chat_common.consume.dead_letters import KafkaDeadLetterSink
from chat_common.consume.loop import ConsumeLoop, group_loop
from chat_common.consume.projection import Projection
from chat_common.consume.tail import Tail
from chat_common.contract.firestore import async_firestore_client
from chat_common.observability import ReadinessCheck
from chat_common.service_app import state_of
from chat_service.config import Settings
from chat_service.core import Core, open_core
from chat_service.domain.sessions import RefusedSessions
from chat_service.outbox.sweeper import Sweeper
from chat_service.projections.erasure import AccountEraser, ErasureProjection
from chat_service.projections.inbox.projection import InboxProjection
from chat_service.projections.scrub import BatchScrubber, DeletedTexts, GraceRepeats


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = state_of(app, "settings", Settings)
    async with open_core(settings) as core, contextlib.AsyncExitStack() as stack:
        app.state.core = core
        firestore = async_firestore_client(
            settings.FIRESTORE_PROJECT, settings.FIRESTORE_EMULATOR_HOST
        )
        stack.callback(firestore.close)
        dead_letters = KafkaDeadLetterSink(settings.KAFKA_BOOTSTRAP_SERVERS, settings)
        stack.push_async_callback(dead_letters.close)
        consume = partial(_consume_loop, settings, dead_letters)
        grace = settings.ERASURE_GRACE_SECONDS
        sessions = RefusedSessions()
        inbox = InboxProjection(
            core.counts,
            firestore,
            settings.INBOX_WRITE_INTERVAL_SECONDS,
            settings.INBOX_RECEIPT_INTERVAL_SECONDS,
            deleted_texts=DeletedTexts(BatchScrubber(firestore), GraceRepeats(grace)),
            is_deleted=sessions.is_deleted,
        )
        eraser = AccountEraser(core.chats, core.changes, core.message_changes, firestore)
        # A new inbox group starts at the end of the topic (its documents are rebuilt from
        # the counts as chats move); a new erasure group reads every deletion still kept.
        app.state.inbox = consume(
            settings.KAFKA_TOPIC, settings.KAFKA_DLQ_TOPIC, settings.INBOX_GROUP_ID, inbox, "latest"
        )
        erasure = consume(
            settings.USER_EVENTS_TOPIC,
            settings.USER_EVENTS_DLQ_TOPIC,
            settings.USER_EVENTS_GROUP_ID,
            ErasureProjection(eraser, GraceRepeats(grace)),
            "earliest",
        )
        loops: list[Loop] = [
            Sweeper(core.chats, core.publisher, settings.OUTBOX_SCAN_INTERVAL_SECONDS),
            app.state.inbox,
            erasure,
            # Which users are deleted, for the inbox projection (no group, like chat-api's).
            Tail(
                partial(tail_consumer, settings.KAFKA_BOOTSTRAP_SERVERS, settings),
                settings.USER_EVENTS_TOPIC,
                sessions.read,
            ),
        ]
        async with running(loops) as app.state.loops:
            yield


def _consume_loop(
    settings: Settings,
    dead_letters: KafkaDeadLetterSink,
    topic: str,
    dlq_topic: str,
    group: str,
    projection: Projection,
    offset_reset: Literal["earliest", "latest"],
) -> ConsumeLoop:
    return group_loop(
        settings,
        settings.KAFKA_BOOTSTRAP_SERVERS,
        group,
        topic,
        dlq_topic,
        projection,
        dead_letters,
        offset_reset=offset_reset,
        max_failures=settings.DLQ_AFTER_FAILURES,
    )


def readiness_checks(app: FastAPI) -> Mapping[str, ReadinessCheck]:
    core = state_of(app, "core", Core)
    return {"cassandra": core.store.ping, "kafka": core.publisher.check, "loops": loops_check(app)}
