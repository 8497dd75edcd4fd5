"""DeclarativePipeline: a validated spec that runs as a Pipeline, whole or step by step."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from skewcheck.errors import one_line
from skewcheck.images.source import ImageFile, read_image_bytes
from skewcheck.native import capture_native_stderr
from skewcheck.pipelines.declarative import geometry, values
from skewcheck.pipelines.declarative.decode import decode
from skewcheck.pipelines.declarative.spec import PipelineSpec, Step
from skewcheck.pipelines.outcome import (
    DEFAULT_MAX_TENSOR_MB,
    NativeBudget,
    Outcome,
    tensor_too_large,
)
from skewcheck.pipelines.user_callable import finish_tensor

OPS: dict[str, Callable[[Any, Any], np.ndarray]] = {
    "decode": decode,
    "resize": geometry.resize,
    "center_crop": geometry.center_crop,
    "channel_order": values.channel_order,
    "cast": values.cast,
    "scale": values.scale,
    "normalize": values.normalize,
    "preset": values.preset,
    "layout": values.layout,
    "batch": values.batch,
}


def apply_step(step: Step, value: Any) -> np.ndarray:
    return OPS[step.op](value, step)


@dataclass(frozen=True)
class StepResult:
    """The tensor after one step, or the error that step raised (later steps did not run)."""

    index: int
    description: str
    tensor: np.ndarray | None
    error: str | None = None


class DeclarativePipeline:
    def __init__(self, spec: PipelineSpec, ref: str) -> None:
        self.spec = spec
        self.ref = ref
        self.description = f"declarative: {spec.description}"
        self.max_tensor_mb: float | None = DEFAULT_MAX_TENSOR_MB
        self._native_budget = NativeBudget()

    def iter_steps(self, data: bytes) -> Iterator[StepResult]:
        value: Any = data
        for index, step in enumerate(self.spec.steps):  # noqa: B007 (read after a failure)
            try:
                value = apply_step(step, value)
            except Exception as exc:  # noqa: BLE001 (a failing step is a result to compare)
                message = one_line(exc) if str(exc).strip() else ""
                yield StepResult(index, step.describe(), None, f"{type(exc).__name__}: {message}".rstrip(": "))
                return
            yield StepResult(index, step.describe(), value)

    def run_steps(self, path: ImageFile | str) -> list[StepResult]:
        """Every intermediate tensor for one image (a few steps' worth: one image at a time)."""
        with capture_native_stderr():
            return list(self.iter_steps(read_image_bytes(path)))

    def run(self, path: ImageFile | str) -> Outcome:
        start = time.perf_counter()
        index = -1
        with capture_native_stderr() as native:
            try:
                value: Any = read_image_bytes(path)
                for index, step in enumerate(self.spec.steps):  # noqa: B007 (read after a failure)
                    value = apply_step(step, value)
                error: BaseException | None = None
            except Exception as exc:  # noqa: BLE001 (failing on an image is a result, not a crash)
                error = exc
        seconds = time.perf_counter() - start
        lines = self._native_budget.cap(native.lines)
        if error is not None:
            outcome = Outcome.from_exception(error, lines, seconds)
            if index == 0:
                outcome.status = "decode-error"  # whatever the decode step raised, the bytes did not decode
            if index >= 0:
                outcome.notes.append(f"failed at step {index}: {self.spec.steps[index].describe()}")
            return outcome
        too_large = tensor_too_large(np.asarray(value), self.max_tensor_mb)
        if too_large is not None:
            too_large.seconds, too_large.native_warnings = seconds, lines
            return too_large
        notes: list[str] = []
        tensor = finish_tensor(value, notes)
        return Outcome(status="ok", tensor=tensor, native_warnings=lines, notes=notes, seconds=seconds)
