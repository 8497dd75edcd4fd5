"""What runs inside Ray: the pipeline actors, the model actors and the retry ledger.

One Ray Data row is one chunk of ``batch_size`` consecutive images (the local engine's chunk), so
the model sees exactly the batches it sees in the local engine and its numbers are the same. A
row's ``payload`` is a pickled list of :class:`ImageRuns` (then with their predictions): tensors
keep their dtype and shape exactly, which an Arrow column would not promise for ragged outputs.

Nothing here is imported by the driver before Ray is: this module imports ``ray`` at the top.
"""

from __future__ import annotations

import os
import pickle
import sys
from typing import Any

import numpy as np
import ray

from skewcheck.execution.image_runs import ImageRuns
from skewcheck.images.source import ImageRoot

Batch = dict[str, np.ndarray]


def encode(items: list[Any]) -> np.ndarray:
    return np.array([pickle.dumps(items, protocol=pickle.HIGHEST_PROTOCOL)], dtype=object)


def decode(payload: Any) -> list[Any]:
    return pickle.loads(payload)  # noqa: S301 (written by this audit's own actors)


def _join_driver(cwd: str, sys_path: list[str]) -> None:
    """Resolve references as the driver does: its working directory and import path, where this
    node has them (a local cluster; on other nodes the references must resolve by themselves)."""
    for entry in reversed(sys_path):
        if entry and entry not in sys.path and os.path.isdir(entry):
            sys.path.insert(0, entry)
    if os.path.isdir(cwd):
        os.chdir(cwd)


@ray.remote(num_cpus=0)
class Ledger:
    """Counts how often each chunk was started: more than once means Ray retried it."""

    def __init__(self) -> None:
        self.starts: dict[int, int] = {}

    def start(self, chunk: int) -> None:
        self.starts[chunk] = self.starts.get(chunk, 0) + 1

    def retried(self) -> dict[int, int]:
        return {chunk: n for chunk, n in self.starts.items() if n > 1}


class PipelineStage:
    """Both pipelines (and the repeat runs) for each image of a chunk.

    The pipelines run in a :class:`skewcheck.execution.pool.PipelinePool` of one process owned by this
    actor, so a pipeline that segfaults, calls ``os._exit`` or hangs past ``--timeout`` is recorded
    against its image (``WorkerCrashed`` / ``PipelineTimeout``) exactly as with ``--workers``, and
    the actor itself survives; an actor that dies anyway (its node lost, the OOM killer) is
    restarted by Ray and its chunk retried.
    """

    def __init__(
        self,
        refs: dict[str, str],
        root: ImageRoot,
        timeout: float | None,
        max_tensor_mb: float | None,
        verbose: bool,
        ledger: str,
        cwd: str,
        sys_path: list[str],
    ) -> None:
        from skewcheck.execution.pool import PipelinePool

        _join_driver(cwd, sys_path)
        self.ledger = ray.get_actor(ledger)
        self.pool = PipelinePool(refs, root, 1, timeout=timeout, verbose=verbose, max_tensor_mb=max_tensor_mb)
        self.pool.__enter__()

    def __call__(self, batch: Batch) -> Batch:
        out: list[bytes] = []
        for chunk, start, paths, repeats in zip(
            batch["chunk"], batch["start"], batch["paths"], batch["repeats"], strict=True
        ):
            ray.get(self.ledger.start.remote(int(chunk)))  # recorded before the work: a retry shows
            jobs = [(p, bool(r)) for p, r in zip(decode(paths), decode(repeats), strict=True)]
            runs = list(self.pool.imap(jobs))
            for i, item in enumerate(runs):
                item.index = int(start) + i
            out.append(encode(runs)[0])
        return {"chunk": batch["chunk"], "payload": np.array(out, dtype=object)}

    def __del__(self) -> None:
        pool = getattr(self, "pool", None)
        if pool is not None:
            pool.__exit__(None)


class ModelStage:
    """The model, loaded once per actor, on one chunk at a time: the local engines' model stage
    (:func:`skewcheck.execution.model_stage.predict_chunk`)."""

    def __init__(self, model: str, device: str, unsafe_load: bool, cwd: str, sys_path: list[str]) -> None:
        from skewcheck.models import load_model
        from skewcheck.native import quiet_imports, quiet_tensorflow_env

        _join_driver(cwd, sys_path)
        quiet_tensorflow_env()
        with quiet_imports():
            self.runner = load_model(model, device=device, unsafe_load=unsafe_load)

    def __call__(self, batch: Batch) -> Batch:
        from skewcheck.execution.model_stage import predict_chunk
        from skewcheck.native import single_threaded_blas

        out: list[bytes] = []
        for payload in batch["payload"]:
            runs: list[ImageRuns] = decode(payload)
            with single_threaded_blas(), np.errstate(all="ignore"):
                predictions = predict_chunk(self.runner, [r.first for r in runs])
            out.append(encode(list(zip(runs, predictions, strict=True)))[0])
        return {"chunk": batch["chunk"], "payload": np.array(out, dtype=object)}
