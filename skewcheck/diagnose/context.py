"""Everything a detector may look at for one image pair, with shared work computed once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from skewcheck.comparison.metrics import ClassComparison, within
from skewcheck.diagnose.measure.fit import ValueFit, fit_values
from skewcheck.diagnose.measure.reference import Reference
from skewcheck.diagnose.measure.residual import ResidualStats, residual_stats
from skewcheck.diagnose.run_state import RunState
from skewcheck.images.source import ImageFile
from skewcheck.pipelines.outcome import Outcome
from skewcheck.tensor_layout import CHANNEL_COUNTS, is_chw

T = TypeVar("T")

if TYPE_CHECKING:
    from skewcheck.diagnose.facts import PairFacts
    from skewcheck.findings import Observation
    from skewcheck.models.adapt import Mismatch
    from skewcheck.models.inspect import ExpectedInput
    from skewcheck.probes.model import ProbeEntry


@dataclass
class PairContext:
    path: str
    train: Outcome
    serve: Outcome
    probe: ProbeEntry | None = None  # when the image comes from a probe set
    model_dtype: str | None = None  # the model input's dtype, when known
    model_expects: ExpectedInput | None = None  # the range the model expects
    prediction: ClassComparison | None = None
    outputs_within_tolerance: bool | None = None  # non-class outputs (boxes, masks…)
    answer_changed: bool | None = None  # dense / embedding / detection task: its own test (comparison.outputs)
    found: list[Observation] = field(default_factory=list)  # observations of earlier detectors
    tolerance: tuple[float, float] | None = None  # (atol, rtol): tensors this close count as equal
    file: ImageFile | None = None  # the image file itself (local or under a URI), for detectors that re-render it
    repeats: dict[str, Outcome] = field(default_factory=dict)  # a second run on the same bytes
    deviates: dict[str, bool] = field(default_factory=dict)  # per side, vs the probe's expectation
    run: RunState = field(default_factory=RunState)  # what the diagnosis keeps across the audit's images
    detector_errors: list[str] = field(default_factory=list)
    model_mismatches: dict[str, list[Mismatch]] = field(default_factory=dict)  # per side
    model_skipped: dict[str, str | None] = field(default_factory=dict)  # per side: why no prediction, if skipped
    model_errors: dict[str, str | None] = field(default_factory=dict)  # per side: the model's error, if it failed
    facts: PairFacts | None = None  # computed with the tensors (skewcheck/execution/image_runs.py run_image), else here
    _memo: dict[Any, Any] = field(default_factory=dict, repr=False)

    def memo(self, key: Any, make: Callable[[], T]) -> T:
        """``make()`` once per pair and key: work several detectors (or several sides) of this pair reuse."""
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]

    def precomputed(self, detector: str) -> Any:
        """What ``detector``'s ``SPEC.precompute`` measured next to the tensors, or None."""
        return self.facts.precomputed.get(detector) if self.facts is not None else None

    @cached_property
    def reference(self) -> Reference | None:
        if self.file is None:
            return None
        if self.facts is not None and self.facts.reference is not None:
            return self.facts.adopt_reference(self.file)
        return Reference(self.file)

    @property
    def found_kinds(self) -> set[str]:
        return {o.kind for o in self.found}

    @cached_property
    def residual_stats(self) -> ResidualStats | None:
        if self.facts is not None:
            return self.facts.residual_stats
        pair = self.fitted_pair
        return residual_stats(pair[1], pair[0], pair[2]) if pair is not None else None

    @property
    def fitted_pair(self) -> tuple[np.ndarray, np.ndarray, ValueFit] | None:
        """(train, serve, the value fit), both tensors channels last (views, in their own dtypes),
        when there is a fit: what the residual is measured on (skewcheck/diagnose/measure/residual.py)."""
        fit = self.value_fit
        s, _ = self.aligned_serve
        if fit is None or s is None or self.train.tensor is None:
            return None
        t = self.train.tensor
        if is_chw(t):
            t, s = np.moveaxis(t, 0, -1), np.moveaxis(s, 0, -1)
        return t, s, fit

    @property
    def both_ok(self) -> bool:
        return self.train.ok and self.serve.ok

    @cached_property
    def aligned_serve(self) -> tuple[np.ndarray | None, str | None]:
        """The serve tensor in train's layout, and how it was moved there (None if it can't be)."""
        if not self.both_ok:
            return None, None
        t, s = self.train.tensor, self.serve.tensor
        assert t is not None and s is not None
        if t.shape == s.shape:
            return s, None
        return align_layout(t.shape, s)

    @cached_property
    def within_tolerance(self) -> bool:
        """|serve - train| <= atol + rtol·|train| everywhere (layout aligned; dtype is not a value)."""
        if self.facts is not None:
            return self.facts.within_tolerance
        s, _ = self.aligned_serve
        t = self.train.tensor
        if self.tolerance is None or s is None or t is None or s.shape != t.shape:
            return False
        if not (np.issubdtype(t.dtype, np.number) and np.issubdtype(s.dtype, np.number)):
            return False
        atol, rtol = self.tolerance
        return within(t, s, atol, rtol)  # in blocks: no full-size float64 copies

    @cached_property
    def value_fit(self) -> ValueFit | None:
        """None when there is nothing to fit: no pair of numeric tensors, or equal within tolerance."""
        if self.facts is not None:
            return self.facts.value_fit
        s, _ = self.aligned_serve
        if s is None or self.train.tensor is None or self.train.tensor.size == 0 or self.within_tolerance:
            return None
        if not (np.isfinite(s).all() and np.isfinite(self.train.tensor).all()):
            return None  # NaN/Inf: nothing to fit; the pipeline-error detector reports them
        if not (np.issubdtype(self.train.tensor.dtype, np.number) and np.issubdtype(s.dtype, np.number)):
            return None
        t = self.train.tensor
        if is_chw(t):
            t, s = np.moveaxis(t, 0, -1), np.moveaxis(s, 0, -1)  # CHW on both sides: fit channels last
        return fit_values(t, s)


def align_layout(train_shape: tuple[int, ...], serve: np.ndarray) -> tuple[np.ndarray | None, str | None]:
    """Recognise HWC↔CHW, a missing or extra channel axis, and an extra batch axis."""
    s_shape = serve.shape
    if serve.ndim == len(train_shape) + 1 and s_shape[0] == 1 and s_shape[1:] == train_shape:
        return serve[0], "extra-batch-axis"
    if serve.ndim + 1 == len(train_shape) and s_shape == train_shape[1:] and train_shape[0] == 1:
        return serve[None], "missing-batch-axis"
    if serve.ndim == len(train_shape) == 3:
        if np.moveaxis(serve, 0, -1).shape == train_shape and s_shape[0] in CHANNEL_COUNTS:
            return np.moveaxis(serve, 0, -1), "CHW-vs-HWC"
        if np.moveaxis(serve, -1, 0).shape == train_shape and s_shape[-1] in CHANNEL_COUNTS:
            return np.moveaxis(serve, -1, 0), "HWC-vs-CHW"
    if serve.ndim + 1 == len(train_shape) and train_shape[-1] == 1 and s_shape == train_shape[:-1]:
        return serve[..., None], "missing-channel-axis"
    if serve.ndim == len(train_shape) + 1 and s_shape[-1] == 1 and s_shape[:-1] == train_shape:
        return serve[..., 0], "extra-channel-axis"
    return None, None
