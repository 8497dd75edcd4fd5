"""A thread that pulls an iterator's items ahead of its consumer, bounded in items and bytes.

The pool engine (:class:`~skewcheck.execution.local.PoolEngine`) keeps its workers fed through
one while the audit's process imports TensorFlow, runs the model and diagnoses. The thread only
waits on pipes: pipelines never run in a thread of the audit's process.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

_JOIN_S = 5.0


class Prefetch:
    """``source``'s items pulled by a thread ahead of the consumer, in order: up to ``depth`` items
    and, when ``weigh`` is given, up to ``budget`` bytes of them (one item always fits).

    An exception in ``source`` is raised to the consumer at its place in the stream.
    :meth:`close` stops the thread, then calls ``on_close(exc_type, exc, tb)`` (e.g. a pool's
    ``__exit__``: ``exc_type`` is None only when ``source`` ran to its end).
    """

    _END = object()

    def __init__(
        self,
        source: Iterator[Any],
        depth: int,
        on_close: Callable[..., object] | None = None,
        *,
        weigh: Callable[[Any], int] | None = None,
        budget: int = 0,
    ) -> None:
        self._source = source
        self._depth, self._weigh, self._budget = max(1, depth), weigh, budget
        self._items: deque[tuple[Any, BaseException | None, int]] = deque()
        self._bytes = 0
        self._ready = threading.Condition()
        self._stop = threading.Event()
        self._on_close = on_close
        self._finished = False  # the source ran to its end
        self._closed = False
        self._thread = threading.Thread(target=self._pull, name="skewcheck-prefetch", daemon=True)
        self._thread.start()

    def _pull(self) -> None:
        try:
            for item in self._source:
                if not self._put(item, None, self._weigh(item) if self._weigh is not None else 0):
                    return
        except BaseException as exc:  # noqa: BLE001 (handed to the consumer, who raises it)
            self._put(self._END, exc, 0)
            return
        self._finished = True
        self._put(self._END, None, 0)

    def _full(self) -> bool:
        if not self._items:
            return False
        return len(self._items) >= self._depth or (self._weigh is not None and self._bytes >= self._budget)

    def _put(self, item: Any, exc: BaseException | None, size: int) -> bool:
        with self._ready:
            while self._full() and not self._stop.is_set():
                self._ready.wait(0.1)
            if self._stop.is_set():
                return False
            self._items.append((item, exc, size))
            self._bytes += size
            self._ready.notify_all()
        return True

    def __iter__(self) -> Prefetch:
        return self

    def backlog(self) -> int:
        """Items pulled and not yet taken by the consumer."""
        return len(self._items)

    def __next__(self) -> Any:
        if self._closed:
            raise StopIteration
        with self._ready:
            while not self._items:
                self._ready.wait()
            item, exc, size = self._items[0]
            if item is not self._END:  # the end stays: a later next() ends too
                self._items.popleft()
                self._bytes -= size
                self._ready.notify_all()
        if exc is not None:
            raise exc
        if item is self._END:
            raise StopIteration
        return item

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        with self._ready:
            self._items.clear()
            self._bytes = 0
            self._ready.notify_all()  # a thread waiting for room sees the stop
        self._thread.join(_JOIN_S)
        if self._on_close is not None:
            if self._finished:
                self._on_close(None, None, None)
            else:
                self._on_close(GeneratorExit, GeneratorExit(), None)  # stopped early: workers are killed
