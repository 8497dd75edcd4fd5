"""Judge each side against a probe's expectation, independently of the other side.

A probe says what a correct pipeline does with it: decode it to its base image's pixels
(``same-as-base``) or refuse it (``reject``). Each side's tensor for the probe is compared with the
same side's tensor for the base PNG, so the report can say *which* side is wrong, and can also
flag the case where both sides agree and both are wrong.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from skewcheck.images.source import ImageFile, ImageRoot, relative_name
from skewcheck.pipelines.outcome import Outcome
from skewcheck.probes.model import base_file

MARGIN_255 = 1.0  # on top of the probe's own tolerance: resampling in the pipeline blurs a little


class ProbeExpectations:
    def __init__(self, probes: dict[str, Any]) -> None:
        self.probes = probes
        self.base_paths = {base_file(p.base): p.base for p in probes.values() if p.base}
        self.base_tensors: dict[str, dict[str, np.ndarray]] = {"train": {}, "serve": {}}

    def bases_first(self, files: Iterable[ImageFile], root: ImageRoot) -> Iterable[ImageFile]:
        """Base images run first so that every probe after them can be judged (``files`` as they
        are when there is no probe base: a large folder is never listed in memory)."""
        if not self.base_paths:
            return files
        return sorted(files, key=lambda f: relative_name(f, root) not in self.base_paths)

    def check(self, path: str, probe: Any, train: Outcome, serve: Outcome) -> dict[str, bool]:
        """Per side: True when it deviates from the probe's expectation (sides it can't judge left out)."""
        outcomes = {"train": train, "serve": serve}
        if path in self.base_paths:
            for side, outcome in outcomes.items():
                if outcome.ok:
                    self.base_tensors[side][self.base_paths[path]] = np.array(outcome.tensor, copy=True)
            return {}
        if probe is None:
            return {}
        if probe.expect == "reject":
            return {side: outcome.ok for side, outcome in outcomes.items()}
        if probe.expect != "same-as-base" or not probe.base:
            return {}
        verdict = {}
        for side, outcome in outcomes.items():
            reference = self.base_tensors[side].get(probe.base)
            if reference is None:
                continue
            verdict[side] = not outcome.ok or not _close(outcome.tensor, reference, probe.tolerance or {})
        return verdict


def _close(tensor: np.ndarray | None, reference: np.ndarray, tolerance: dict[str, float]) -> bool:
    if tensor is None or tensor.shape != reference.shape:
        return False
    a, b = tensor.astype(np.float64), reference.astype(np.float64)
    span = float(b.max() - b.min()) or 1.0
    mean_abs_255 = float(np.mean(np.abs(a - b))) / span * 255
    return mean_abs_255 <= tolerance.get("mean_abs", 0.0) + MARGIN_255
