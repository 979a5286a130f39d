"""The Cassandra connection: lazy connect, prepared statements, async execution.

The driver does its network I/O on its own reactor thread (libev); results come back
through callbacks, which are turned into asyncio futures here, so no coroutine ever
blocks on Cassandra. Every driver failure leaves this module as `StoreUnavailable`.
"""

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

from cassandra import (
    ConsistencyLevel,
    DriverException,
    OperationTimedOut,
    RequestExecutionException,
)
from cassandra.cluster import (
    EXEC_PROFILE_DEFAULT,
    Cluster,
    ExecutionProfile,
    NoHostAvailable,
    Session,
)
from cassandra.connection import ConnectionException
from cassandra.io.libevreactor import LibevConnection
from cassandra.policies import (
    DCAwareRoundRobinPolicy,
    ExponentialReconnectionPolicy,
    TokenAwarePolicy,
)
from cassandra.query import BatchStatement, BatchType, PreparedStatement, dict_factory

from chat_common.store_access import (
    CassandraAccessSettings,
    cassandra_cluster_kwargs,
    cassandra_consistency,
)
from chat_service.domain.errors import StoreUnavailable
from chat_service.store.schema import qualify

logger = logging.getLogger(__name__)

Row = dict[str, Any]

# Failures that mean "Cassandra is down, overloaded or unreachable": a 503, not a bug.
# (NoHostAvailable is not a DriverException, so it is named on its own.)
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    NoHostAvailable,
    OperationTimedOut,
    RequestExecutionException,
    ConnectionException,
)
Params = Sequence[object]

# After a failed connect, requests fail fast for this long instead of each one paying
# the connect timeout again.
_RECONNECT_BACKOFF_SECONDS = 1.0


def build_cluster(
    hosts: list[str],
    port: int,
    connect_timeout: float,
    request_timeout: float,
    access: CassandraAccessSettings | None = None,
) -> Cluster:
    """A driver Cluster whose every request and connect is bounded in time; `access`
    gives its credentials, TLS and consistency level (default: none, LOCAL_QUORUM)."""
    access = access or CassandraAccessSettings()
    profile = ExecutionProfile(
        load_balancing_policy=TokenAwarePolicy(
            DCAwareRoundRobinPolicy(local_dc=access.CASSANDRA_LOCAL_DC)
        ),
        consistency_level=cassandra_consistency(access),
        serial_consistency_level=ConsistencyLevel.LOCAL_SERIAL,
        request_timeout=request_timeout,
        row_factory=dict_factory,
    )
    return Cluster(
        contact_points=hosts,
        port=port,
        connection_class=LibevConnection,
        execution_profiles={EXEC_PROFILE_DEFAULT: profile},
        connect_timeout=connect_timeout,
        control_connection_timeout=connect_timeout,
        # The default backs off up to 10 minutes; a restarted node should be back in seconds.
        # No attempt limit: the default gives up after 64 tries (about 5 minutes at the cap),
        # and a node down longer than that would then never be used again by this process.
        reconnection_policy=ExponentialReconnectionPolicy(
            base_delay=0.5, max_delay=5.0, max_attempts=None
        ),
        protocol_version=5,
        monitor_reporting_enabled=False,
        **cassandra_cluster_kwargs(access),
    )


def _resolve(future: "asyncio.Future[list[Row]]", rows: object) -> None:
    if not future.done():
        future.set_result(list(rows) if rows is not None else [])  # type: ignore[call-overload]


def _fail(future: "asyncio.Future[list[Row]]", exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)


class CassandraStore:
    """Owns the Cluster and Session of one keyspace and the prepared statements.

    Connecting is lazy and retried on later calls, so the service starts (and answers
    503) while Cassandra is down, and recovers by itself once it is back.
    """

    def __init__(
        self,
        hosts: list[str],
        port: int,
        keyspace: str,
        statements: Mapping[str, str],
        connect_timeout: float = 1.5,
        request_timeout: float = 1.5,
        access: CassandraAccessSettings | None = None,
    ) -> None:
        self._access = access
        self._hosts = hosts
        self._port = port
        self._keyspace = keyspace
        self._cql = dict(statements)
        self._connect_timeout = connect_timeout
        self._request_timeout = request_timeout
        self._cluster: Cluster | None = None
        self._session: Session | None = None
        self._prepared: dict[str, PreparedStatement] = {}
        self._lock = asyncio.Lock()
        self._failed_at = 0.0

    def _connect_blocking(self) -> tuple[Cluster, Session, dict[str, PreparedStatement]]:
        cluster = build_cluster(
            self._hosts, self._port, self._connect_timeout, self._request_timeout, self._access
        )
        try:
            session = cluster.connect()
            prepared = {
                name: session.prepare(qualify(cql, self._keyspace))
                for name, cql in self._cql.items()
            }
        except BaseException:
            cluster.shutdown()
            raise
        return cluster, session, prepared

    async def _ensure_session(self) -> Session:
        if self._session is not None:
            return self._session
        async with self._lock:
            if self._session is not None:
                return self._session
            if time.monotonic() - self._failed_at < _RECONNECT_BACKOFF_SECONDS:
                raise StoreUnavailable("Cassandra is unreachable")
            try:
                cluster, session, prepared = await asyncio.to_thread(self._connect_blocking)
            except (*UNAVAILABLE_ERRORS, DriverException, OSError) as exc:
                # DriverException here includes a missing keyspace (migration not run).
                self._failed_at = time.monotonic()
                logger.warning("cannot connect to Cassandra: %r", exc)
                raise StoreUnavailable("Cassandra is unreachable") from exc
            self._cluster, self._session, self._prepared = cluster, session, prepared
            logger.info("connected to Cassandra keyspace %s", self._keyspace)
            return session

    async def _run(self, statement: object, params: Params | None) -> list[Row]:
        session = await self._ensure_session()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[Row]] = loop.create_future()
        try:
            # The bound on the request is kept here, on our loop, rather than given to the
            # driver: its timer takes a lock and wakes its reactor thread on every query
            # (a fifth of the store's CPU per send, measured).
            response = session.execute_async(statement, params, timeout=None)
        except UNAVAILABLE_ERRORS as exc:
            raise StoreUnavailable(f"Cassandra request failed: {exc!r}") from exc
        # Callbacks run on the driver's reactor thread; hop back onto our loop. One that
        # comes after the timeout finds the future done and is dropped.
        response.add_callbacks(
            lambda rows: loop.call_soon_threadsafe(_resolve, future, rows),
            lambda exc: loop.call_soon_threadsafe(_fail, future, exc),
        )
        try:
            async with asyncio.timeout(self._request_timeout):
                return await future
        except TimeoutError as exc:
            raise StoreUnavailable(
                f"Cassandra did not answer within {self._request_timeout} s"
            ) from exc
        except UNAVAILABLE_ERRORS as exc:
            raise StoreUnavailable(f"Cassandra request failed: {exc!r}") from exc

    async def execute(self, name: str, params: Params | None = None) -> list[Row]:
        """Run the prepared statement `name` with bound values; the rows as dicts."""
        await self._ensure_session()
        return await self._run(self._prepared[name], params)

    async def execute_batch(
        self, statements: Sequence[tuple[str, Params]], logged: bool = True
    ) -> None:
        """Run prepared statements as one batch. Logged: all of them apply or none.
        Unlogged: one round trip, no atomicity (for writes that are repaired otherwise)."""
        await self._ensure_session()
        batch = BatchStatement(batch_type=BatchType.LOGGED if logged else BatchType.UNLOGGED)
        for name, params in statements:
            batch.add(self._prepared[name], params)
        await self._run(batch, None)

    async def ping(self) -> None:
        """Raise StoreUnavailable unless Cassandra answers a trivial query."""
        await self.execute("ping")

    async def close(self) -> None:
        """Shut the driver down (its threads and connections)."""
        cluster, self._cluster, self._session = self._cluster, None, None
        if cluster is not None:
            await asyncio.to_thread(cluster.shutdown)
