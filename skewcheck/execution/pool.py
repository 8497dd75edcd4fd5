"""A bounded pool of worker processes that run the train and serve pipelines (``--workers N``).

Why not ``concurrent.futures``: when a worker dies, ``ProcessPoolExecutor`` breaks as a whole and
does not say which task killed it. Here each worker has its own pipe, runs the images it is sent in
the order it got them, reports every pipeline run, and marks in shared memory (``_Worker.progress``)
the run it starts before it starts it. So the parent always knows which image, and which run on it,
a dead worker was busy with: that run is recorded as a ``pipeline-error`` (``WorkerCrashed``), the
worker is replaced, the runs still owed (the ones it had not reported) go to the new worker, and
the audit goes on. A worker's reports leave through a thread of its own (:class:`~skewcheck.execution.messages.Outbox`): while the
parent is too busy to read them (TensorFlow's import holds its GIL for seconds at a time) the
worker goes on with its next images instead of waiting on a full pipe.

Bounded: at most ``PER_WORKER × size`` images are between "handed to the pool" and "given back to the
audit loop" (queued, running, or finished and waiting for an earlier image), and results come back
in input order, so a report does not depend on the number of workers.

Workers use the "spawn" start method (TensorFlow may already run threads in the parent; a forked
copy of it is unsafe) and rebuild the pipelines from their string references once at start.
"""

from __future__ import annotations

import multiprocessing as mp
import signal
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from typing import Any

from skewcheck.errors import AuditError
from skewcheck.execution import handoff as handoffs
from skewcheck.execution.image_runs import STEPS, ImageRuns, Step, steps_for, wanted
from skewcheck.execution.messages import receive
from skewcheck.execution.worker import IDLE, kill_group, worker_main
from skewcheck.images.source import ImageFile, ImageRoot
from skewcheck.pipelines.outcome import Outcome

# Images sent to one worker ahead: enough that it keeps busy while this process holds the GIL for
# long stretches (TensorFlow's import: its C initialisers; with 2 ahead, the worker sat idle for
# most of it), few enough that a crash requeues little and memory stays small.
PER_WORKER = 32
_JOIN_S = 5.0


@dataclass
class _Task:
    runs: ImageRuns
    steps: list[Step]
    reported: set[Step] = field(default_factory=set)
    facts: dict[str, Any] | None = None  # the worker measures the pair's facts with these hints (None: not)
    after_crash: bool = False  # requeued from a dead worker: its facts are measured by the audit's process
    idle_deaths: int = 0  # workers that died on it between its pipeline runs (no run to blame)


class _Worker:
    def __init__(self, ctx: Any, args: tuple[Any, ...]) -> None:
        self.conn, child = ctx.Pipe(duplex=True)
        # (image index, STEPS index of the run it is in or IDLE, monotonic ns when that run began)
        self.progress = ctx.RawArray("q", [-1, IDLE, 0])
        # not daemonic: a user's pipeline may start processes of its own
        self.process = ctx.Process(target=worker_main, args=(child, self.progress, *args), name="skewcheck-worker")
        self.process.start()
        child.close()
        self.tasks: deque[_Task] = deque()
        self.ready = False

    def running_since(self) -> float | None:
        """When the pipeline run it is in began (time.monotonic()), None between runs."""
        return self.progress[2] / 1e9 if self.progress[1] != IDLE else None

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
        charged = (at if at >= 0 else 0) if code == IDLE else -1
        again: list[_Task] = []
        for i, task in enumerate(tasks):
            if i == at and code != IDLE:
                step = STEPS[int(code)]
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
