"""A bounded pool of worker processes that run the train and serve pipelines (``--workers N``).

Why not ``concurrent.futures``: when a worker dies, ``ProcessPoolExecutor`` breaks as a whole and
does not say which task killed it. Here each worker has its own pipe, runs the images it is sent in
the order it got them, reports every pipeline run, and marks in shared memory (``_Worker.progress``)
the run it starts before it starts it. So the parent always knows which image, and which run on it,
a dead worker was busy with: that run is recorded as a ``pipeline-error`` (``WorkerCrashed``), the
worker is replaced, the runs still owed (the ones it had not reported) go to the new worker, and
the audit goes on. A worker's reports leave through a thread of its own (:class:`_Outbox`): while the
parent is too busy to read them (TensorFlow's import holds its GIL for seconds at a time) the
worker goes on with its next images instead of waiting on a full pipe.

Bounded: at most ``PER_WORKER × size`` images are between "handed to the pool" and "given back to the
audit loop" (queued, running, or finished and waiting for an earlier image), and results come back
in input order, so a report does not depend on the number of workers.

Workers use the "spawn" start method (TensorFlow may already run threads in the parent; a forked
copy of it is unsafe) and rebuild the pipelines from their string references once at start.
"""

from __future__ import annotations

import dataclasses
import io
import multiprocessing as mp
import os
import pickle
import signal
import stat
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.reduction import ForkingPickler
from pathlib import Path
from types import FunctionType
from typing import TYPE_CHECKING, Any

from skewcheck import handoff as handoffs
from skewcheck.errors import AuditError, one_line, type_name
from skewcheck.images.source import ImageFile, ImageRoot, held_while_run
from skewcheck.pipelines.outcome import Outcome

if TYPE_CHECKING:
    from skewcheck.diagnose.facts import PairFacts

Step = tuple[str, bool]  # (side, is the repeat run)
# Images sent to one worker ahead: enough that it keeps busy while this process holds the GIL for
# long stretches (TensorFlow's import: its C initialisers; with 2 ahead, the worker sat idle for
# most of it), few enough that a crash requeues little and memory stays small.
PER_WORKER = 32
_JOIN_S = 5.0
OUTBOX_BYTES = 128 * 2**20  # reports a worker may hold while the parent does not read (one always fits)
_STEPS: list[Step] = [("train", False), ("serve", False), ("train", True), ("serve", True)]
_IDLE = -1  # progress[1] outside a pipeline run


@dataclass
class ImageRuns:
    """Everything the pipelines produced for one image, as the in-process path would have."""

    index: int
    path: ImageFile
    first: dict[str, Outcome] = field(default_factory=dict)
    repeats: dict[str, Outcome] = field(default_factory=dict)
    facts: PairFacts | None = None  # the pair's value fit etc., when computed with the tensors

    def record(self, side: str, repeat: bool, outcome: Outcome) -> None:
        if repeat:
            share_if_equal(self.first.get(side), outcome)
        (self.repeats if repeat else self.first)[side] = outcome


def share_if_equal(first: Outcome | None, again: Outcome) -> None:
    """A repeat run that gave the first run's tensor again (same shape, dtype and values) holds the
    first one's array instead of its own, so an image never holds more than two tensors for long
    (the nondeterminism detector reads the two as equal, which they are)."""
    import numpy as np

    from skewcheck.comparison.metrics import equal_values

    a, b = (first.tensor if first is not None else None), again.tensor
    if a is None or b is None or a is b or a.shape != b.shape or a.dtype != b.dtype:
        return
    if type(b) is np.ndarray and type(a) is np.ndarray and equal_values(a, b):
        again.tensor = a


def steps_for(repeat: bool) -> list[Step]:
    """The runs for one image, in the in-process order: train, serve, then the repeats."""
    steps = [("train", False), ("serve", False)]
    return steps + [("train", True), ("serve", True)] if repeat else steps


def wanted(step: Step, first: dict[str, Outcome]) -> bool:
    """A repeat runs only when that side's first run gave a tensor (as in the in-process path)."""
    side, repeat = step
    return not repeat or side not in first or first[side].ok


def run_image(
    pipelines: Mapping[str, Any],
    index: int,
    path: ImageFile,
    repeat: bool,
    *,
    steps: Iterable[Step] | None = None,
    on_start: Callable[[str, bool], None] | None = None,
    on_run: Callable[[str, bool, Outcome], None] | None = None,
    tolerance: tuple[float, float] | None = None,
    hints: dict[str, Any] | None = None,
    runs: ImageRuns | None = None,
) -> ImageRuns:
    """One image through both pipelines, the one path whether it runs in-process or in a worker:
    train, serve, then (``repeat``) each side again where its first run gave a tensor. ``steps``:
    the runs still owed (a replaced worker's image); ``on_start`` hears each run as it begins and
    ``on_run`` as it ends (a worker marks the one it starts, so a crash is pinned on it). With a
    ``tolerance`` (atol, rtol), the pair's facts (value fit, residual) are computed here too,
    next to the tensors, with ``hints`` (skewcheck/diagnose/facts.py ``hints_from``). ``runs``:
    where to record them (``on_run`` may replace an outcome there), else a new one."""
    runs = runs if runs is not None else ImageRuns(index, path)
    file = held_while_run(path)  # an object: one read for all the runs below
    gone = vanished(file)
    for side, again in steps_for(repeat) if steps is None else steps:
        if not wanted((side, again), runs.first):
            continue
        if on_start is not None:
            on_start(side, again)
        outcome = gone if gone is not None else pipelines[side].run(file)
        runs.record(side, again, outcome)
        if on_run is not None:
            on_run(side, again, outcome)
    if tolerance is not None and "train" in runs.first and "serve" in runs.first:
        train, serve = runs.first["train"], runs.first["serve"]
        if max(_nbytes(train), _nbytes(serve)) <= FACTS_MAX_BYTES:  # else the audit measures them in place
            runs.facts = _facts(train, serve, tolerance, file, hints)  # the bytes held above
    return runs


def vanished(file: ImageFile) -> Outcome | None:
    """Both sides' outcome for a local file counted at the start that is gone (or is no longer a
    regular file, which is never opened: a FIFO would block), else None: the pipelines run."""
    if not isinstance(file, Path):
        return None
    try:
        mode = os.stat(file).st_mode
    except FileNotFoundError:
        return Outcome(
            status="pipeline-error",
            error_type="FileNotFoundError",
            error="the file was removed after the audit counted it; no pipeline ran on it",
        )
    except OSError:
        return None  # unreadable, say: the pipelines meet that error themselves
    if stat.S_ISREG(mode):
        return None
    return Outcome(
        status="pipeline-error",
        error_type="NotARegularFile",
        error="the file was replaced by something else than a regular file after the audit counted it; never opened",
    )


FACTS_MAX_BYTES = 64 * 2**20  # larger tensors: their residual is not copied to the audit's process


def _nbytes(outcome: Outcome) -> int:
    return outcome.tensor.nbytes if outcome.tensor is not None else 0


def _facts(
    train: Outcome, serve: Outcome, tolerance: tuple[float, float], path: ImageFile, hints: dict[str, Any] | None
) -> PairFacts | None:
    """The pair's facts; None (the audit computes them itself, and records what fails) on an error."""
    import warnings

    import numpy as np

    from skewcheck.diagnose.facts import pair_facts

    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():  # odd tensors: numbers, not noise
            warnings.simplefilter("ignore", RuntimeWarning)
            return pair_facts(train, serve, tolerance, path, hints)
    except Exception:  # noqa: BLE001 (the detectors meet the same error in the audit and record it)
        return None


@dataclass
class _Task:
    runs: ImageRuns
    steps: list[Step]
    reported: set[Step] = field(default_factory=set)
    facts: dict[str, Any] | None = None  # the worker measures the pair's facts with these hints (None: not)
    after_crash: bool = False  # requeued from a dead worker: its facts are measured by the audit's process
    idle_deaths: int = 0  # workers that died on it between its pipeline runs (no run to blame)


def _worker_main(
    conn: Connection,
    progress: Any,
    refs: dict[str, str],
    images_root: ImageRoot,
    verbose: bool,
    max_tensor_mb: float | None = 512.0,
    tolerance: tuple[float, float] | None = None,
    handoff: str | None = None,
) -> None:
    """One worker: load the pipelines once, then run the images sent until told to stop.

    A worker never outlives the audit: a watchdog thread ends it as soon as its parent is gone
    (killed by SIGKILL, say, with no chance to stop it), and a closed pipe ends it quietly, with no
    BrokenPipe traceback on the terminal of a run that was interrupted on purpose.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's: it stops the workers
    _own_process_group()
    _watch_parent()
    from skewcheck.native import single_threaded_blas

    try:
        with single_threaded_blas():  # as in the audit's process: the same sums, the same numbers
            _serve(conn, progress, refs, images_root, verbose, max_tensor_mb, tolerance, handoff)
    except (BrokenPipeError, ConnectionResetError, EOFError):
        return  # the parent stopped listening (interrupted, or gone): nobody to report to


def _own_process_group() -> None:
    """The worker leads a process group of its own, which the processes a pipeline starts join:
    the pool kills the group when it stops the worker (:func:`kill_group`), so none of them
    outlives the audit (they held its stdout: ``out=$(skewcheck ...)`` waited for them)."""
    if hasattr(os, "setpgid"):
        try:
            os.setpgid(0, 0)
        except OSError:
            pass


def kill_group(pid: int | None) -> None:
    """SIGKILL to the process group a worker of ``pid`` leads (what its pipelines started and left)."""
    if pid is None or not hasattr(os, "killpg"):
        return
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:  # no such group left (or the worker never made it: nothing of ours to kill)
        pass


def _watch_parent(interval_s: float = 0.25) -> None:
    parent = mp.parent_process()
    parent_pid = parent.pid if parent is not None else os.getppid()

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(interval_s)
        if os.getpgrp() == os.getpid():  # what the pipelines started goes too (and this process with it)
            kill_group(os.getpid())
        os._exit(1)  # orphaned (re-parented to init or a subreaper): stop now, whatever is running

    threading.Thread(target=watch, name="skewcheck-parent-watch", daemon=True).start()


def _serve(
    conn: Connection,
    progress: Any,
    refs: dict[str, str],
    images_root: ImageRoot,
    verbose: bool,
    max_tensor_mb: float | None,
    tolerance: tuple[float, float] | None,
    handoff: str | None,
) -> None:
    from skewcheck.native import quiet_imports, set_verbose
    from skewcheck.pipelines import load_pipeline

    set_verbose(verbose)
    try:
        with quiet_imports():  # a pipeline module importing TensorFlow: its log lines stay out of the terminal
            pipelines = {
                side: load_pipeline(ref, what=f"--{side}", images_root=images_root, max_tensor_mb=max_tensor_mb)
                for side, ref in refs.items()
            }
    except BaseException as exc:  # noqa: BLE001 (reported to the parent, which stops the audit)
        conn.send(("failed", f"{type_name(exc)}: {one_line(exc, 500)}"))
        return
    conn.send(("ready",))
    outbox = _Outbox(conn, OUTBOX_BYTES)
    while True:
        task = conn.recv()  # EOFError when the parent is gone
        if task is None:
            outbox.flush()
            return
        index, path, steps, hints = task

        def start(side: str, again: bool, index: int = index) -> None:
            progress[1] = _IDLE  # never a run of the last image paired with this one's index
            progress[0], progress[2] = index, time.monotonic_ns()
            progress[1] = _STEPS.index((side, again))

        runs = ImageRuns(index, path)

        def report(side: str, again: bool, outcome: Outcome, index: int = index, runs: ImageRuns = runs) -> None:
            progress[1] = _IDLE
            first = runs.first.get(side)
            if again and first is not None and outcome.tensor is not None and outcome.tensor is first.tensor:
                # the first run's tensor again (ImageRuns.record): the parent has it, send the rest
                message = _pickled(("same", index, side, dataclasses.replace(outcome, tensor=None)))
            else:
                message = _pickled(("run", index, side, again, outcome))
            if isinstance(message, Outcome):  # the result cannot be sent: that is this image's error
                runs.record(side, again, message)  # run_image's copy too: no facts from the unsendable tensor
                message = _pickled(("run", index, side, again, message))
            assert not isinstance(message, Outcome), "an error outcome is plain data"
            outbox.send(message)

        wanted_tolerance = tolerance if hints is not None else None  # the audit's process measures them otherwise
        runs = run_image(
            pipelines,
            index,
            path,
            False,
            steps=steps,
            on_start=start,
            on_run=report,
            tolerance=wanted_tolerance,
            hints=hints,
            runs=runs,
        )
        done = _pickled(("done", index, handoffs.sent(runs.facts, handoff)))
        if isinstance(done, Outcome):  # facts that cannot be sent: the audit's process measures them
            done = _pickled(("done", index, None))
        assert not isinstance(done, Outcome), "an index and None pickle"
        outbox.send(done)
        del runs, report, done  # the image's tensors go now, not when the next image replaces them


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
class _Message:
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
    """The next message from a worker (what :meth:`_Message.send` or ``conn.send`` sent)."""
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


def _pickled(message: tuple[Any, ...]) -> _Message | Outcome:
    """``message`` pickled here, in the worker (protocol 5, its arrays out of band: :class:`_Message`,
    which :func:`receive` reads in the parent); a message that cannot be pickled (a tensor whose dtype holds a
    lock, say) gives the ``PicklingError`` outcome to record instead. Sent unpickled, it would
    fail in the outbox's thread and end the worker, and the image would kill every replacement."""
    try:
        buffers: list[pickle.PickleBuffer] = []
        out = io.BytesIO()
        _WorkerPickler(out, 5, buffers.append).dump(message)
        return _Message(out.getbuffer(), [b.raw() for b in buffers])
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 (whatever the result's own pickling code raised)
        return Outcome(
            status="pipeline-error",
            error_type="PicklingError",
            error=f"the pipeline's result cannot be sent from its worker process: {type_name(exc)}: {one_line(exc, 300)}",
        )


class _Outbox:
    """A worker's messages to the parent, already pickled, sent in order by a thread of their own,
    up to ``budget`` bytes held. A send that fails (the parent is gone) raises on the next :meth:`send`."""

    def __init__(self, conn: Connection, budget: int) -> None:
        self._conn, self._budget = conn, budget
        self._queue: deque[tuple[_Message, int]] = deque()
        self._held = 0
        self._error: BaseException | None = None
        self._changed = threading.Condition()
        threading.Thread(target=self._pump, name="skewcheck-outbox", daemon=True).start()

    def send(self, message: _Message) -> None:
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


class _Worker:
    def __init__(self, ctx: Any, args: tuple[Any, ...]) -> None:
        self.conn, child = ctx.Pipe(duplex=True)
        # (image index, _STEPS index of the run it is in or _IDLE, monotonic ns when that run began)
        self.progress = ctx.RawArray("q", [-1, _IDLE, 0])
        # not daemonic: a user's pipeline may start processes of its own
        self.process = ctx.Process(target=_worker_main, args=(child, self.progress, *args), name="skewcheck-worker")
        self.process.start()
        child.close()
        self.tasks: deque[_Task] = deque()
        self.ready = False

    def running_since(self) -> float | None:
        """When the pipeline run it is in began (time.monotonic()), None between runs."""
        return self.progress[2] / 1e9 if self.progress[1] != _IDLE else None

    def send(self, task: _Task) -> bool:
        try:
            self.conn.send(
                (task.runs.index, task.runs.path, task.steps, task.facts)
            )  # a Path, or an object: (URI, name)
        except OSError:
            return False
        self.tasks.append(task)
        return True

    def stop(self, kill: bool) -> None:
        if not kill and self.process.is_alive():
            try:
                self.conn.send(None)
            except OSError:
                pass
            self.process.join(_JOIN_S)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(_JOIN_S)
        kill_group(self.process.pid)
        self.conn.close()


def exit_text(exitcode: int | None) -> str:
    if exitcode is None:
        return "no exit status"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            return f"signal {-exitcode}"
        return f"{name}, e.g. killed when out of memory" if name == "SIGKILL" else name
    return f"exit code {exitcode}"


class PipelinePool:
    """``size`` worker processes running both pipelines; use as a context manager, feed :meth:`imap`."""

    def __init__(
        self,
        refs: dict[str, str],
        images_root: ImageRoot,
        size: int,
        *,
        timeout: float | None = None,
        verbose: bool = False,
        max_tensor_mb: float | None = 512.0,
        tolerance: tuple[float, float] | None = None,
        facts_wanted: Callable[[], dict[str, Any] | None] | None = None,
        sides: tuple[str, ...] = ("train", "serve"),
    ) -> None:
        """``sides``: the pipelines of ``refs`` each image runs through (``augment`` decodes with the
        train side alone). ``tolerance``: the workers compute each pair's facts too (value fit, decode …), with the
        hints ``facts_wanted()`` gives when an image is sent, unless it gives None (the audit's
        process then computes them: the same numbers either way, so the split can follow whichever
        process has time)."""
        if size < 1:
            raise ValueError("a pool needs at least one worker")
        self._ctx = mp.get_context("spawn")
        self._args = (dict(refs), images_root, verbose, max_tensor_mb, tolerance)
        self.size = size
        self.window = PER_WORKER * size
        self.timeout = timeout
        self._workers: list[_Worker] = []
        self._stopping = False  # set by __exit__: a worker that dies now is not replaced
        self._facts_wanted = facts_wanted or (lambda: {})
        self._handoff: handoffs.HandoffDir | None = None
        self.sides = sides

    def __enter__(self) -> PipelinePool:
        self._handoff = handoffs.HandoffDir()
        self._workers = [self._new_worker() for _ in range(self.size)]
        return self

    def _new_worker(self) -> _Worker:
        assert self._handoff is not None, "workers start inside the pool's with block"
        return _Worker(self._ctx, (*self._args, self._handoff.path))

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self._stopping = True  # imap may be running in a Prefetch thread: it must not start new workers
        for worker in self._workers:
            worker.stop(kill=exc_type is not None)
        self._workers = []
        if self._handoff is not None:
            self._handoff.close()
            self._handoff = None

    def imap(self, items: Iterable[tuple[ImageFile, bool]]) -> Iterator[ImageRuns]:
        """(image, run it twice?) in → :class:`ImageRuns` out, in the same order."""
        source = iter(enumerate(items))
        pending: deque[_Task] = deque()  # not sent yet; a crashed worker's images go first
        finished: dict[int, ImageRuns] = {}
        made = given = 0
        exhausted = False
        while True:
            while given in finished:
                yield finished.pop(given)
                given += 1
            while not exhausted and made - given < self.window:
                item = next(source, None)
                if item is None:
                    exhausted = True
                    break
                index, (path, repeat) = item
                steps = [step for step in steps_for(repeat) if step[0] in self.sides]
                pending.append(_Task(ImageRuns(index, path), steps))
                made += 1
            if exhausted and given == made:
                return
            self._dispatch(pending)
            self._service(pending, finished)  # something is outstanding: it waits for a message or a death

    def _dispatch(self, pending: deque[_Task]) -> None:
        while pending:
            worker = min(self._workers, key=lambda w: len(w.tasks))
            pending[0].facts = None if pending[0].after_crash else self._facts_wanted()
            if len(worker.tasks) >= PER_WORKER or not worker.send(pending[0]):
                return  # all busy, or that one is dead: _service will see it and replace it
            pending.popleft()

    def _service(self, pending: deque[_Task], finished: dict[int, ImageRuns]) -> None:
        """Wait for messages or a death (or a timeout), and handle them."""
        by_conn = {w.conn: w for w in self._workers}
        by_sentinel = {w.process.sentinel: w for w in self._workers}
        ready = wait([*by_conn, *by_sentinel], timeout=self._wait_s())
        dead: list[_Worker] = []
        for obj in ready:
            worker = by_conn.get(obj)
            if worker is not None:
                if not self._drain(worker, finished) and worker not in dead:
                    dead.append(worker)
            elif by_sentinel[obj] not in dead:
                dead.append(by_sentinel[obj])
        for worker in dead:
            self._replace(worker, pending, finished, timed_out=False)
        if self.timeout is not None:
            now = time.monotonic()
            for worker in list(self._workers):
                since = worker.running_since()
                if worker.ready and since is not None and now - since > self.timeout:
                    self._replace(worker, pending, finished, timed_out=True)

    def _wait_s(self) -> float | None:
        if self.timeout is None:
            return None
        started = [s for s in (w.running_since() for w in self._workers if w.ready) if s is not None]
        # a run not started yet is polled for: it may start any moment
        return max(0.0, min(started) + self.timeout - time.monotonic()) + 0.01 if started else _POLL_S

    def _drain(self, worker: _Worker, finished: dict[int, ImageRuns]) -> bool:
        """Handle what the worker has sent; False when its pipe is closed (it is dead)."""
        try:
            while worker.conn.poll():
                self._handle(worker, receive(worker.conn), finished)
        except (EOFError, OSError):
            return False
        return True

    def _handle(self, worker: _Worker, message: tuple[Any, ...], finished: dict[int, ImageRuns]) -> None:
        kind = message[0]
        if kind == "ready":
            worker.ready = True
        elif kind == "failed":
            raise AuditError(f"a worker process could not load the pipelines: {message[1]}")
        elif kind == "run":
            _, index, side, repeat, outcome = message
            task = worker.tasks[0]
            assert task.runs.index == index, (task.runs.index, index)
            task.runs.record(side, repeat, outcome)
            task.reported.add((side, repeat))
        elif kind == "same":  # a repeat run that gave the first run's tensor again
            _, index, side, outcome = message
            task = worker.tasks[0]
            assert task.runs.index == index, (task.runs.index, index)
            outcome.tensor = task.runs.first[side].tensor
            task.runs.record(side, True, outcome)
            task.reported.add((side, True))
        elif kind == "done":
            task = worker.tasks.popleft()
            assert task.runs.index == message[1], (task.runs.index, message[1])
            task.runs.facts = handoffs.received(message[2])  # None when this worker ran only part of the image
            finished[task.runs.index] = task.runs

    def _replace(
        self, worker: _Worker, pending: deque[_Task], finished: dict[int, ImageRuns], *, timed_out: bool
    ) -> None:
        """Record the run the worker died on (or was stopped in), requeue the rest, start a new one."""
        if self._stopping:  # killed by __exit__, not by its image: a replacement would be orphaned
            raise AuditError("the worker pool was stopped")
        if timed_out:
            worker.process.kill()
        worker.process.join(_JOIN_S)
        self._drain(worker, finished)  # what it sent before dying
        if not worker.ready:
            raise AuditError(
                f"a worker process died while loading the pipelines ({exit_text(worker.process.exitcode)}); "
                "a script that calls compare(workers=...) must guard its top level with if __name__ == '__main__':"
            )
        index, code = worker.progress[0], worker.progress[1]
        tasks = list(worker.tasks)
        worker.stop(kill=True)
        self._workers[self._workers.index(worker)] = self._new_worker()
        # The worker runs its images in order: those before the marked one ran to their end (what
        # they reported may not have left its outbox), the marked one died in the marked run (none
        # when it died outside a pipeline run), those after it never started.
        at = next((i for i, task in enumerate(tasks) if task.runs.index == index), -1)
        # Died between runs: the image it was on (or about to start) is charged, and after
        # MAX_IDLE_DEATHS its remaining runs are recorded as lost, so no image restarts workers forever.
        charged = (at if at >= 0 else 0) if code == _IDLE else -1
        again: list[_Task] = []
        for i, task in enumerate(tasks):
            if i == at and code != _IDLE:
                step = _STEPS[int(code)]
                task.runs.record(*step, _lost_run(worker.process.exitcode, timed_out, self.timeout))
                task.reported.add(step)
            deaths = task.idle_deaths + (i == charged)
            left = [s for s in task.steps if s not in task.reported and wanted(s, task.runs.first)]
            if left and deaths >= MAX_IDLE_DEATHS:
                for step in left:
                    task.runs.record(*step, _lost_between_runs(worker.process.exitcode, deaths))
                left = []
            if left:
                again.append(_Task(task.runs, left, task.reported, after_crash=True, idle_deaths=deaths))
            else:
                finished[task.runs.index] = task.runs  # without facts: the audit's process measures them
        pending.extendleft(reversed(again))


_POLL_S = 0.05  # with --timeout, how often a pool waiting for messages looks at its workers' runs
MAX_IDLE_DEATHS = 3  # workers one image may end outside its pipeline runs before its runs are given up


def _lost_between_runs(exitcode: int | None, deaths: int) -> Outcome:
    return Outcome(
        status="pipeline-error",
        error_type="WorkerCrashed",
        error=f"{deaths} worker processes died on this image between its pipeline runs (the last: {exit_text(exitcode)})",
    )


def _lost_run(exitcode: int | None, timed_out: bool, timeout: float | None) -> Outcome:
    if timed_out:
        return Outcome(
            status="pipeline-error",
            error_type="PipelineTimeout",
            error=f"the pipeline ran past --timeout {timeout:g}s on this image; its worker process was stopped",
        )
    return Outcome(
        status="pipeline-error",
        error_type="WorkerCrashed",
        error=f"the pipeline crashed its worker process ({exit_text(exitcode)}) on this image",
    )


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
