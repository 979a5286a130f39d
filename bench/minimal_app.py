"""The minimal send endpoint the chat API is measured against (`bench/endpoint.py`).

What any service storing a message over HTTP pays at least: the same uvicorn (uvloop,
httptools) and flags as chat-api, FastAPI, a pydantic body `{text}`, and one prepared
insert into a table shaped like `message` through the driver's async call. No auth, no
middleware, no outbox, no Kafka. Served by `uvicorn bench.minimal_app:create_app --factory`.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from pydantic import BaseModel

from bench.rows import connect, driver_result
from chat_service.config import Settings
from chat_service.domain.timeuuids import bucket_start, new_message_id
from chat_service.store.schema import qualify

TABLE = "minimal_message"
INSERT = (
    "INSERT INTO {keyspace}." + TABLE + " (chat_id, bucket, message_id, sender_id, text) "
    "VALUES (?, ?, ?, ?, ?)"
)
# The endpoint has no caller to name: every row gets this sender.
SENDER = uuid.UUID(int=1)


class MessageBody(BaseModel):
    text: str


class MessageId(BaseModel):
    id: uuid.UUID


def create_app() -> FastAPI:
    settings = Settings()  # the bench sets CASSANDRA_KEYSPACE to its own keyspace

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        cluster, session = await asyncio.to_thread(connect, settings)
        app.state.session = session
        app.state.insert = session.prepare(qualify(INSERT, settings.CASSANDRA_KEYSPACE))
        try:
            yield
        finally:
            await asyncio.to_thread(cluster.shutdown)

    app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)
    seconds = settings.MESSAGE_BUCKET_SECONDS

    @app.post("/chat/{chat_id}/messages", status_code=201)
    async def send(chat_id: uuid.UUID, body: MessageBody) -> MessageId:
        message_id = new_message_id()
        values = (chat_id, bucket_start(message_id, seconds), message_id, SENDER, body.text)
        await driver_result(app.state.session.execute_async(app.state.insert, values))
        return MessageId(id=message_id)

    @app.get("/readyz")
    async def ready() -> dict[str, str]:
        return {"status": "ready"}

    return app
