"""One image through both pipelines: :func:`run_image`, the one path for every engine.

Whether an image runs in the audit's process (:class:`~skewcheck.execution.local.SerialEngine`), in
a worker process (:class:`~skewcheck.execution.pool.PipelinePool`) or in a Ray actor (which owns a
pool of one), its runs are the same: train, serve, then (for a repeat image) each side again where
its first run gave a tensor; the result is one :class:`ImageRuns`.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skewcheck.images.source import ImageFile, held_while_run
from skewcheck.pipelines.outcome import Outcome

if TYPE_CHECKING:
    from skewcheck.diagnose.facts import PairFacts

Step = tuple[str, bool]  # (side, is the repeat run)
STEPS: list[Step] = [("train", False), ("serve", False), ("train", True), ("serve", True)]


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
