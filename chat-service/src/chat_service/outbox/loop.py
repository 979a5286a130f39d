"""The loop both outbox relays run: start the producer, take a step, back off on failure."""

import asyncio
import logging

from chat_common.backoff import Backoff, wait_or_stop
from chat_service.domain.errors import StoreUnavailable
from chat_service.outbox.publisher import KafkaUnavailable

logger = logging.getLogger(__name__)

# Backoff while Kafka or Cassandra is down: quick to notice a return, quiet meanwhile.
_FIRST_RETRY_SECONDS = 0.5
_MAX_RETRY_SECONDS = 4.0


class RelayLoop:
    """`run` calls `step` until `stop`; every failure is logged and retried, never fatal.

    A mixin of the relays' dataclasses, which hold `stopping` (an `asyncio.Event` field)
    and give `step` (one pass, starting the producer when it needs it), `failed` (forget
    what the failed pass held in memory: the outbox keeps it) and `finish` (after the
    last pass)."""

    stopping: asyncio.Event

    def stop(self) -> None:
        self.stopping.set()

    async def step(self) -> None:
        raise NotImplementedError

    def failed(self) -> None:
        """Drop what the failed pass held in memory."""

    async def finish(self) -> None:
        """Write back what the last passes left in memory."""

    async def run(self) -> None:
        backoff = Backoff(_FIRST_RETRY_SECONDS, _MAX_RETRY_SECONDS)
        while not self.stopping.is_set():
            try:
                await self.step()
                backoff.succeeded()
            except (KafkaUnavailable, StoreUnavailable) as exc:
                retry = backoff.failed()
                logger.warning("%s waiting %.1fs: %s", type(self).__name__, retry, exc)
                self.failed()
                await wait_or_stop(self.stopping, retry)
            except Exception:
                # A bug must not silence the realtime path for the life of the process:
                # the outbox still holds every entry, so log loudly and go on.
                logger.exception("%s failed; retrying", type(self).__name__)
                self.failed()
                await wait_or_stop(self.stopping, _MAX_RETRY_SECONDS)
        await self.finish()
