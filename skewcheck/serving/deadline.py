"""One deadline for a whole request: connect, TLS, sending, the headers and the body together.

httpx's timeouts bound each socket operation, so a server that sends one byte a second never
trips them and holds a request as long as it likes. Here every connection httpx opens goes
through :class:`DeadlineBackend`, whose streams give each socket operation at most the time left
before the calling thread's deadline (set by :func:`deadline` around one request and the reading
of its body) and raise httpcore's timeout once it has passed; httpx turns that into its own
``ConnectTimeout`` / ``ReadTimeout`` / ``WriteTimeout``.

httpx has no public hook for its network backend, so :func:`install` swaps it in on the client's
connection pools (``transport._pool._network_backend``, there since httpcore 0.17); it raises
RuntimeError where a pool is not where it should be, so that a change in httpx fails loudly, in
the tests, rather than leaving requests unbounded.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Iterator
from typing import Any

_local = threading.local()


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Everything this thread sends or receives in the block ends within ``seconds`` of entering it
    (no deadline when ``seconds`` is not a finite number)."""
    previous = getattr(_local, "at", None)
    _local.at = time.monotonic() + seconds if math.isfinite(seconds) else None
    try:
        yield
    finally:
        _local.at = previous


def _left(timeout: float | None, error: type[Exception]) -> float | None:
    """The socket operation's timeout: httpx's, or less when this thread's deadline is nearer."""
    at = getattr(_local, "at", None)
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise error("the request's deadline passed")
    return left if timeout is None else min(timeout, left)


class DeadlineStream:
    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        import httpcore

        return bytes(self._stream.read(max_bytes, _left(timeout, httpcore.ReadTimeout)))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        import httpcore

        self._stream.write(buffer, _left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None) -> Any:
        import httpcore

        tls = self._stream.start_tls(ssl_context, server_hostname, _left(timeout, httpcore.ConnectTimeout))
        return DeadlineStream(tls)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class DeadlineBackend:
    """An httpcore network backend whose streams honour this thread's :func:`deadline`."""

    def __init__(self, backend: Any) -> None:
        self._backend = backend

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> DeadlineStream:
        import httpcore

        left = _left(timeout, httpcore.ConnectTimeout)
        return DeadlineStream(self._backend.connect_tcp(host, port, left, local_address, socket_options))

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: Any = None) -> Any:
        import httpcore

        left = _left(timeout, httpcore.ConnectTimeout)
        return DeadlineStream(self._backend.connect_unix_socket(path, left, socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def install(client: Any) -> None:
    """Route every connection of an ``httpx.Client`` (its proxies' included) through DeadlineBackend."""
    transports = [client._transport, *(t for t in client._mounts.values() if t is not None)]
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if backend is None:
            raise RuntimeError(f"httpx {type(transport).__name__} has no connection pool to bound by a deadline")
        if not isinstance(backend, DeadlineBackend):
            pool._network_backend = DeadlineBackend(backend)  # type: ignore[union-attr]
