"""Run one pipeline call under ``sys.settrace`` and record the images its own lines bind.

A global trace function answers each new frame: frames of the user's own files (see
:mod:`skewcheck.trace.user_files`) get a local trace function, every other frame (NumPy, OpenCV,
Pillow, TensorFlow, the standard library, skewcheck) runs untraced. Before each line of a user
frame, and when it returns, the local function looks at the frame's locals: an image-like value
(see :mod:`skewcheck.trace.digest`) that a name newly holds, or that changed in place, becomes a
:class:`Snapshot` of the line that just ran; a returned image becomes one of the ``return`` line.

Cost and memory are bounded: at most ``max_snapshots`` snapshots of at most 32 x 32 x C values,
and a time budget after which tracing stops (what was recorded so far is kept). A failure of the
tracer itself stops the tracing and is recorded, never raised into the user's code; the trace
function that was installed before (a debugger, coverage) is always put back.
"""

from __future__ import annotations

import linecache
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType, TracebackType
from typing import Any

import numpy as np

from skewcheck.errors import one_line, type_name
from skewcheck.trace.digest import Digest, as_array, digest, image_like
from skewcheck.trace.user_files import UserFiles

MAX_SNAPSHOTS = 64  # per side and image: 64 x (at most 32 x 32 x 4 float32) = 1 MiB
RETURN_LOOKBACK = 4
RECENT = 4  # a value equal to one of the last few snapshots (a helper's return, rebound) is not new

TraceFn = Callable[[FrameType, str, Any], Any]


@dataclass(frozen=True)
class Snapshot:
    """An image-like value a user line bound: where, under which name, and its digest."""

    file: str
    line: int
    name: str  # the local variable, or "return" for the value a function returned
    digest: Digest


@dataclass
class Trace:
    snapshots: list[Snapshot] = field(default_factory=list)
    error: str | None = None  # the tracer's own failure (tracing stopped there)
    stopped: str | None = None  # why tracing stopped early: snapshot cap or time budget


class LineRecorder:
    """A context manager: ``with LineRecorder(files) as rec: fn(x)``; then ``rec.trace``."""

    def __init__(self, user_files: UserFiles, max_snapshots: int = MAX_SNAPSHOTS, budget_s: float = 10.0) -> None:
        self.user_files = user_files
        self.max_snapshots = max_snapshots
        self.budget_s = budget_s
        self.trace = Trace()
        self._off = False
        self._deadline = 0.0
        self._depth = 0  # user frames active
        self._previous: Any = None  # the trace function installed before (a debugger, coverage)

    def __enter__(self) -> LineRecorder:
        self._previous = sys.gettrace()
        self._deadline = time.perf_counter() + self.budget_s
        sys.settrace(self._on_call)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._off = True  # a generator frame resumed later finds its local function switched off
        sys.settrace(self._previous)

    # ------------------------------------------------------------------ trace functions

    def _on_call(self, frame: FrameType, event: str, arg: Any) -> TraceFn | None:
        if self._off or event != "call":
            return None
        try:
            if not self.user_files.is_user(frame.f_code.co_filename):
                return None
            return self._local_for(frame)
        except Exception as exc:  # the tracer's own bug: stop tracing, never break the user's call
            self._fail(exc)
            return None

    def _local_for(self, frame: FrameType) -> TraceFn:
        seen: dict[str, tuple[Any, bytes]] = {}
        for name, value in list(frame.f_locals.items()):  # the arguments: the caller's values, not new
            token = _token(value)
            if token is not None:
                seen[name] = (value, token)
        where = [frame.f_lineno]
        visited: list[int] = []  # the last lines run, to find the return statement (see _return_line)
        self._depth += 1
        outermost = self._depth == 1  # the pipeline's own return value: always kept, as its last line

        def local(frame: FrameType, event: str, arg: Any) -> TraceFn | None:
            if self._off:
                return None
            try:
                if event == "line":
                    self._look(frame, where[0], seen)
                    where[0] = frame.f_lineno
                    visited[:] = [*visited[-(RETURN_LOOKBACK - 1) :], frame.f_lineno]
                elif event == "return":
                    self._depth -= 1
                    self._look(frame, where[0], seen)
                    array = _array(arg)
                    if array is not None:
                        file = frame.f_code.co_filename
                        self._record(
                            file, _return_line(file, frame.f_lineno, visited), "return", array, always=outermost
                        )
                if time.perf_counter() > self._deadline:
                    self._stop(f"time budget of {self.budget_s:g} s spent")
            except Exception as exc:
                self._fail(exc)
                return None
            return local

        return local

    # ------------------------------------------------------------------ recording

    def _look(self, frame: FrameType, line: int, seen: dict[str, tuple[Any, bytes]]) -> None:
        for name, value in list(frame.f_locals.items()):
            token = _token(value)
            if token is None:
                continue
            before = seen.get(name)
            if before is not None and before[0] is value and before[1] == token:
                continue
            seen[name] = (value, token)  # the reference keeps its id from being reused meanwhile
            array = _array(value)
            if array is not None:
                self._record(frame.f_code.co_filename, line, name, array)

    def _record(self, file: str, line: int, name: str, array: np.ndarray, always: bool = False) -> None:
        if self._off:
            return
        new = digest(array)
        recent = self.trace.snapshots[-RECENT:]
        if not always and any(_same(new, s.digest) for s in recent):
            return
        self.trace.snapshots.append(Snapshot(file, line, name, new))
        if len(self.trace.snapshots) >= self.max_snapshots:
            self._stop(f"{self.max_snapshots} snapshots recorded")

    def _stop(self, why: str) -> None:
        self._off = True
        self.trace.stopped = why

    def _fail(self, exc: BaseException) -> None:
        self._off = True
        self.trace.error = f"{type_name(exc)}: {one_line(exc, 300)}"


def _return_line(file: str, line: int, visited: list[int]) -> int:
    """The ``return`` statement that made the value. Python reports a return from inside a
    ``with`` block at the ``with`` line (its ``__exit__`` runs last), so look back a few lines."""
    for candidate in (line, *reversed(visited)):
        if linecache.getline(file, candidate).lstrip().startswith("return"):
            return candidate
    return line


def _token(value: Any) -> bytes | None:
    """A cheap change check, before any digest: NumPy arrays by a few sampled values (in-place
    changes), PIL images and tensors (immutable) by their kind alone. None: not an image carrier."""
    if isinstance(value, np.ndarray):
        if not image_like(value):
            return None
        few = value[tuple(slice(None, None, max(1, n // 8)) for n in value.shape)]  # a view: no copy
        return few.tobytes() + str((value.shape, value.dtype)).encode()
    module = type(value).__module__ or ""
    if module.startswith("PIL.") or module.startswith("tensorflow"):
        return module.encode()
    return None


def _array(value: Any) -> np.ndarray | None:
    try:
        array = as_array(value)
    except Exception:  # a symbolic tensor, a closed image: nothing to record
        return None
    return array if array is not None and image_like(array) else None


def _same(a: Digest, b: Digest) -> bool:
    return (
        a.shape == b.shape
        and a.dtype == b.dtype
        and a.mean == b.mean
        and np.array_equal(a.sample, b.sample, equal_nan=True)
    )
