"""A worker's messages to the pool: pickled in the worker, arrays out of band, sent by a thread.

A worker's reports leave through a thread of its own (:class:`Outbox`): while the parent is too
busy to read them (TensorFlow's import holds its GIL for seconds at a time) the worker goes on with
its next images instead of waiting on a full pipe. A tensor travels as a frame of its own, read in
the parent straight into the array it unpickles (:func:`receive`).
"""

from __future__ import annotations

import io
import os
import pickle
import struct
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.reduction import ForkingPickler
from types import FunctionType
from typing import Any

from skewcheck.errors import one_line, type_name
from skewcheck.pipelines.outcome import Outcome

OUTBOX_BYTES = 128 * 2**20  # reports a worker may hold while the parent does not read (one always fits)


class _WorkerPickler(ForkingPickler):
    """Refuses what the parent could not unpickle: a class or function of a pipeline's own
    ``file.py``, imported in the worker under a per-process module name (a dtype's metadata
    holding an instance of one, say: the parent's ``recv`` would raise and stop the audit)."""

    def __init__(self, file: Any, protocol: int, buffer_callback: Callable[[Any], Any] | None = None) -> None:
        pickle.Pickler.__init__(self, file, protocol, buffer_callback=buffer_callback)
        self.dispatch_table = self._copyreg_dispatch_table.copy()  # type: ignore[attr-defined]  # as ForkingPickler's
        self.dispatch_table.update(self._extra_reducers)  # type: ignore[attr-defined]

    def reducer_override(self, obj: Any) -> Any:
        from skewcheck.pipelines.user_callable import USER_MODULE_PREFIX

        if isinstance(obj, (type, FunctionType)) and str(getattr(obj, "__module__", "")).startswith(USER_MODULE_PREFIX):
            raise pickle.PicklingError(
                f"{obj.__qualname__} is defined in the pipeline's file, which only its worker imports"
            )
        return NotImplemented


@dataclass(frozen=True)
class _Frames:
    """Sent first for a message whose arrays follow it out of band: the sizes of those frames."""

    sizes: tuple[int, ...]


@dataclass
class Message:
    """A message pickled in the worker: the pickle, and the memory of the arrays it refers to
    (pickle protocol 5), sent as frames of their own straight from that memory: no copy of a
    tensor is made to send it, and the parent reads each into the array it unpickles."""

    data: memoryview
    buffers: list[memoryview]

    @property
    def nbytes(self) -> int:
        return self.data.nbytes + sum(b.nbytes for b in self.buffers)

    def send(self, conn: Connection) -> None:
        if self.buffers:
            conn.send(_Frames(tuple(b.nbytes for b in self.buffers)))
        conn.send_bytes(self.data)
        for buffer in self.buffers:
            conn.send_bytes(buffer)


def receive(conn: Connection) -> Any:
    """The next message from a worker (what :meth:`Message.send` or ``conn.send`` sent)."""
    head = conn.recv()
    if not isinstance(head, _Frames):
        return head
    data = conn.recv_bytes()
    return pickle.loads(data, buffers=[_frame_into(conn, size) for size in head.sizes])


def _frame_into(conn: Connection, size: int) -> bytearray:
    """One frame of ``size`` bytes, read into a new bytearray (the unpickled array's memory)."""
    if os.name != "posix":
        return bytearray(conn.recv_bytes())
    fd = conn.fileno()
    (n,) = struct.unpack("!i", _read_exactly(fd, memoryview(bytearray(4))))
    if n == -1:  # Connection's framing of a frame over 2 GiB
        (n,) = struct.unpack("!Q", _read_exactly(fd, memoryview(bytearray(8))))
    if n != size:
        raise OSError(f"a worker's frame has {n} bytes where {size} were announced")
    out = bytearray(size)
    _read_exactly(fd, memoryview(out))
    return out


def _read_exactly(fd: int, view: memoryview) -> memoryview:
    got = 0
    while got < len(view):
        n = os.readv(fd, [view[got:]])
        if n == 0:
            raise EOFError("the worker's pipe closed inside a message")
        got += n
    return view


def pickled(message: tuple[Any, ...]) -> Message | Outcome:
    """``message`` pickled here, in the worker (protocol 5, its arrays out of band: :class:`Message`,
    which :func:`receive` reads in the parent); a message that cannot be pickled (a tensor whose dtype holds a
    lock, say) gives the ``PicklingError`` outcome to record instead. Sent unpickled, it would
    fail in the outbox's thread and end the worker, and the image would kill every replacement."""
    try:
        buffers: list[pickle.PickleBuffer] = []
        out = io.BytesIO()
        _WorkerPickler(out, 5, buffers.append).dump(message)
        return Message(out.getbuffer(), [b.raw() for b in buffers])
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 (whatever the result's own pickling code raised)
        return Outcome(
            status="pipeline-error",
            error_type="PicklingError",
            error=f"the pipeline's result cannot be sent from its worker process: {type_name(exc)}: {one_line(exc, 300)}",
        )


class Outbox:
    """A worker's messages to the parent, already pickled, sent in order by a thread of their own,
    up to ``budget`` bytes held. A send that fails (the parent is gone) raises on the next :meth:`send`."""

    def __init__(self, conn: Connection, budget: int) -> None:
        self._conn, self._budget = conn, budget
        self._queue: deque[tuple[Message, int]] = deque()
        self._held = 0
        self._error: BaseException | None = None
        self._changed = threading.Condition()
        threading.Thread(target=self._pump, name="skewcheck-outbox", daemon=True).start()

    def send(self, message: Message) -> None:
        size = message.nbytes
        with self._changed:
            while self._queue and self._held + size > self._budget and self._error is None:
                self._changed.wait()
            if self._error is not None:
                raise self._error
            self._queue.append((message, size))
            self._held += size
            self._changed.notify_all()

    def flush(self) -> None:
        with self._changed:
            while self._queue and self._error is None:
                self._changed.wait()

    def _pump(self) -> None:
        while True:
            with self._changed:
                while not self._queue:
                    self._changed.wait()
                message, size = self._queue[0]
            try:
                message.send(self._conn)
            except BaseException as exc:  # noqa: BLE001 (the worker's main thread raises it)
                with self._changed:
                    self._error = exc
                    self._changed.notify_all()
                return
            with self._changed:
                self._queue.popleft()
                self._held -= size
                self._changed.notify_all()
