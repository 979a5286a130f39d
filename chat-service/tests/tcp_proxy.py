"""A switchable TCP forwarder: tests take a server "down" for chat-service without
stopping the server everyone shares."""

import asyncio
import contextlib


class TcpProxy:
    """Listens on a free local port while up and forwards every connection to a target."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        # Cleared while stalled: connections stay open, but nothing is forwarded.
        self._flowing = asyncio.Event()
        self._flowing.set()
        self.port = 0

    async def reserve_port(self) -> int:
        """Pick a free port without listening on it yet (the proxy starts out down)."""
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
        return self.port

    async def up(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def down(self) -> None:
        """Stop listening and cut every forwarded connection."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    def stall(self) -> None:
        """Keep every connection open but forward nothing: a server that hangs."""
        self._flowing.clear()

    def resume(self) -> None:
        """Forward again, starting with what was held back."""
        self._flowing.set()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.close()
            return
        self._writers.update({writer, upstream_writer})
        await asyncio.gather(
            self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer)
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await reader.read(65536):
                await self._flowing.wait()
                writer.write(data)
                await writer.drain()
        writer.close()
        self._writers.discard(writer)
