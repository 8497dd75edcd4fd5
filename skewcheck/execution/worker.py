"""A worker process of the pool (:mod:`skewcheck.execution.pool`): it loads the pipelines once,
then runs each image it is sent through :func:`~skewcheck.execution.image_runs.run_image`, marking in
shared memory (``progress``) the run it starts before it starts it, and reporting every run.
"""

from __future__ import annotations

import dataclasses
import multiprocessing as mp
import os
import signal
import threading
import time
from multiprocessing.connection import Connection
from typing import Any

from skewcheck.errors import one_line, type_name
from skewcheck.execution import handoff as handoffs
from skewcheck.execution.image_runs import STEPS, ImageRuns, run_image
from skewcheck.execution.messages import OUTBOX_BYTES, Outbox, pickled
from skewcheck.images.source import ImageRoot
from skewcheck.pipelines.outcome import Outcome

IDLE = -1  # progress[1] outside a pipeline run


def worker_main(
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
    outbox = Outbox(conn, OUTBOX_BYTES)
    while True:
        task = conn.recv()  # EOFError when the parent is gone
        if task is None:
            outbox.flush()
            return
        index, path, steps, hints = task

        def start(side: str, again: bool, index: int = index) -> None:
            progress[1] = IDLE  # never a run of the last image paired with this one's index
            progress[0], progress[2] = index, time.monotonic_ns()
            progress[1] = STEPS.index((side, again))

        runs = ImageRuns(index, path)

        def report(side: str, again: bool, outcome: Outcome, index: int = index, runs: ImageRuns = runs) -> None:
            progress[1] = IDLE
            first = runs.first.get(side)
            if again and first is not None and outcome.tensor is not None and outcome.tensor is first.tensor:
                # the first run's tensor again (ImageRuns.record): the parent has it, send the rest
                message = pickled(("same", index, side, dataclasses.replace(outcome, tensor=None)))
            else:
                message = pickled(("run", index, side, again, outcome))
            if isinstance(message, Outcome):  # the result cannot be sent: that is this image's error
                runs.record(side, again, message)  # run_image's copy too: no facts from the unsendable tensor
                message = pickled(("run", index, side, again, message))
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
        done = pickled(("done", index, handoffs.sent(runs.facts, handoff)))
        if isinstance(done, Outcome):  # facts that cannot be sent: the audit's process measures them
            done = pickled(("done", index, None))
        assert not isinstance(done, Outcome), "an index and None pickle"
        outbox.send(done)
        del runs, report, done  # the image's tensors go now, not when the next image replaces them
