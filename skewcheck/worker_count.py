"""How many worker processes ``--workers auto`` (the default) starts.

Measured on 2 cores (README, benchmarks/vs_handwritten.py): one worker running the pipelines
while this process imports TensorFlow, runs the model and diagnoses wins on 1,000 images, and a
second worker loses (the main process needs its core). A worker costs about a second to start
(spawn, imports, the pipelines loaded again), more when a pipeline module imports TensorFlow, so
small audits (the bundled example's 60 images took 9.2 s in-process, 11.9 s with one worker) stay
in-process. One core: in-process. Python callables cannot travel to a worker: in-process.
"""

from __future__ import annotations

import os

from skewcheck.errors import UsageError

AUTO = "auto"
MIN_IMAGES = 500  # fewer images than this: the worker's start costs more than it saves
MAX_WORKERS = 8
MAX_EXPLICIT = 64  # --workers N: at most this many, or 4 per usable CPU if that is more


def max_explicit_workers(cpus: int | None = None) -> int:
    """The most worker processes ``--workers N`` may ask for. Each one is a Python process with
    the pipelines' libraries imported (100-300 MB): 100,000 of them filled 8 GB before the first
    image, so a larger count is a usage error rather than a machine brought down."""
    return max(MAX_EXPLICIT, 4 * (usable_cpus() if cpus is None else cpus))


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask, e.g. a container's cpuset), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def parse_workers(value: int | str) -> int | str:
    """``auto`` or a count ≥ 0; anything else is a usage error (one line, exit 2)."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text == AUTO:
            return AUTO
        try:
            value = int(text)
        except ValueError:
            raise UsageError(
                f"--workers must be 'auto' or a number of processes (0: in-process), got {value!r}"
            ) from None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise UsageError(f"--workers must be 'auto' or 0 (in-process) or more, got {value!r}")
    if value > (most := max_explicit_workers()):
        raise UsageError(f"--workers {value} is more processes than this machine can run: at most {most} here")
    return value


def auto_workers(images: int, references: bool, timeout: float | None, cpus: int | None = None) -> int:
    """The worker count ``auto`` means for this audit."""
    if not references:
        return 0
    spare = (usable_cpus() if cpus is None else cpus) - 1
    if timeout is not None:  # only a worker process can be stopped mid-run
        return max(1, min(spare, MAX_WORKERS))
    if spare < 1 or images < MIN_IMAGES:
        return 0
    return min(spare, MAX_WORKERS)
