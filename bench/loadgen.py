"""The HTTP benchmark's load generator: keep-alive HTTP/1.1 over asyncio streams.

The load generator runs on the machine it measures. httpx spent about 5 ms of CPU per
request there, half a core of a 2-core machine at the rates measured, taken from the server
under test (its raw-SQL baseline has no HTTP and no client). This client does only what the
benchmark needs: one POST at a time per connection, a ``Content-Length`` body in both
directions, the status code and the body returned.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any, TypeVar
from urllib.parse import urlsplit

T = TypeVar("T")


class ClientError(Exception):
    """The connection failed or the server answered something this client cannot read."""


class Connection:
    """One keep-alive connection to ``base_url``, reopened after the server closes it."""

    def __init__(self, base_url: str, headers: dict[str, str], timeout: float = 120.0) -> None:
        url = urlsplit(base_url)
        if url.scheme != "http" or not url.hostname:
            raise ValueError(f"only plain http://host:port URLs: {base_url!r}")
        self.host, self.port = url.hostname, url.port or 80
        fixed = {"Host": f"{self.host}:{self.port}", **headers}
        self.headers = "".join(f"{k}: {v}\r\n" for k, v in fixed.items()).encode("latin-1")
        self.timeout = timeout
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        """Send one POST and read its whole answer: (status, body)."""
        try:
            return await asyncio.wait_for(self._exchange(path, body), self.timeout)
        except (
            OSError,
            TimeoutError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            ValueError,
            IndexError,
        ) as exc:
            await self.close()
            raise ClientError(repr(exc)) from exc

    async def _exchange(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(
            b"POST %s HTTP/1.1\r\n%sContent-Length: %d\r\n\r\n%s"
            % (path.encode(), self.headers, len(body), body)
        )
        status_line = await self.reader.readuntil(b"\r\n")
        status = int(status_line.split(b" ", 2)[1])
        length, keep = -1, True
        while True:
            line = await self.reader.readuntil(b"\r\n")
            if line == b"\r\n":
                break
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and b"close" in value.lower():
                keep = False
            elif name == b"transfer-encoding":
                raise ValueError("chunked answers are not read by this client")
        if length < 0:
            raise ValueError("an answer without Content-Length")
        answer = await self.reader.readexactly(length)
        if not keep:
            await self.close()
        return status, answer

    async def close(self) -> None:
        writer, self.reader, self.writer = self.writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run the load on uvloop when it is installed (as the server does), else asyncio's loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)
