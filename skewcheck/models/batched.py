"""The lifecycle every model runner shares, written once (as Polygraphy's ``infer()`` wraps each
backend's ``infer_impl()``): check the batch against the signature, split it into chunks, pad a
chunk to a model's fixed batch size and drop the padding after, check each output's batch axis,
and concatenate. A format only says how to run one chunk.
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np

from skewcheck.errors import UsageError
from skewcheck.models._common import DEFAULT_CHUNK, check_batch, chunks, concat
from skewcheck.models.base import ModelInfo


class BatchedRunner:
    info: ModelInfo
    chunk_size: int = DEFAULT_CHUNK  # images per forward pass when the model takes any batch size
    fixed_batch: int | None = None  # a model exported for one batch size (e.g. 1): every chunk is that size

    def infer_chunk(self, chunk: np.ndarray) -> list[np.ndarray]:
        """Every output for one chunk, batch axis first (the format's own call)."""
        raise NotImplementedError

    def scope(self) -> contextlib.AbstractContextManager[Any]:
        """Entered around one ``predict`` (e.g. TensorFlow's device scope)."""
        return contextlib.nullcontext()

    def predict(self, batch: np.ndarray) -> list[np.ndarray]:
        """Run one batch (leading axis = images) and return every output, batch axis first."""
        batch = check_batch(batch, self.info.inputs[0])
        size = self.fixed_batch or self.chunk_size
        parts: list[list[np.ndarray]] = []
        with self.scope():
            for sl in chunks(len(batch), size):
                chunk, real = batch[sl], sl.stop - sl.start
                if self.fixed_batch is not None and real < self.fixed_batch:  # pad, then drop the padding
                    pad = np.zeros((self.fixed_batch - real, *chunk.shape[1:]), dtype=chunk.dtype)
                    chunk = np.concatenate([chunk, pad])
                outputs = [np.asarray(o) for o in self.infer_chunk(chunk)]
                self._check_batch_axis(outputs, len(chunk))
                parts.append([o[:real] for o in outputs])
        return concat(parts, len(parts[0]) if parts else len(self.info.outputs))

    def _check_batch_axis(self, outputs: list[np.ndarray], n: int) -> None:
        for i, out in enumerate(outputs):
            if out.ndim == 0 or out.shape[0] != n:
                raise UsageError(
                    f"model {self.info.path}: output {i} has shape {out.shape} for a batch of {n}; "
                    "outputs need the batch axis first"
                )
