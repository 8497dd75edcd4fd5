"""Feed one side's tensors of a chunk of images through the model, batched.

Tensors that do not fit the model's input are adapted where that is safe (cast, batch or channel
axis, HWC↔CHW) and the adaptation is recorded; a tensor that cannot be adapted is skipped. A batch
the model rejects is retried image by image so one bad tensor costs only its own prediction.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from skewcheck.errors import one_line
from skewcheck.native import capture_native_stderr


@dataclass
class SidePrediction:
    outputs: list[np.ndarray] | None = None  # one array per model output, no batch axis
    error: str | None = None
    skipped: str | None = None
    notes: list[str] = field(default_factory=list)
    mismatches: list[Any] = field(default_factory=list)  # skewcheck.models.adapt.Mismatch

    def summary(self) -> dict[str, Any]:
        if self.error:
            return {"status": "model-error", "error": self.error}
        if self.skipped:
            return {"status": "skipped", "reason": self.skipped}
        out: dict[str, Any] = {"status": "ok" if self.outputs is not None else "none"}
        if self.notes:
            out["adapted"] = self.notes
        return out


def predict_side(runner: Any, tensors: list[np.ndarray | None]) -> list[SidePrediction | None]:
    """One SidePrediction per tensor (None where the pipeline produced no tensor)."""
    from skewcheck.models.adapt import fit_to_input

    spec = runner.info.inputs[0] if runner.info.inputs else None
    results: list[SidePrediction | None] = [None] * len(tensors)
    groups: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    ready: dict[int, np.ndarray] = {}
    for i, tensor in enumerate(tensors):
        if tensor is None:
            continue
        pred = SidePrediction()
        results[i] = pred
        if spec is not None:
            adapted = fit_to_input(tensor, spec)
            pred.notes = list(adapted.notes)
            pred.mismatches = list(adapted.mismatches)
            if adapted.tensor is None:
                pred.skipped = "tensor does not fit the model input: " + "; ".join(m.detail for m in adapted.mismatches)
                continue
            tensor = adapted.tensor
        ready[i] = tensor
        groups[(tensor.shape, str(tensor.dtype))].append(i)
    for indices in groups.values():
        _run_group(runner, indices, ready, results)
    return results


def _run_group(runner: Any, indices: list[int], ready: dict[int, np.ndarray], results: list[Any]) -> None:
    batch = np.stack([ready[i] for i in indices])
    try:
        with capture_native_stderr():
            outputs = runner.predict(batch)
    except Exception as exc:  # noqa: BLE001 (a model that rejects a tensor is a recorded outcome)
        if len(indices) == 1:
            results[indices[0]].error = f"{type(exc).__name__}: {one_line(exc, limit=300)}"
            return
        for i in indices:  # find which images the model rejects
            _run_group(runner, [i], ready, results)
        return
    for row, i in enumerate(indices):
        results[i].outputs = [np.asarray(out[row]) for out in outputs]
