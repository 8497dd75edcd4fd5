"""What one image pair says on its own, measured next to its tensors (in a worker with ``--workers``).

The audit's process runs the model and the run-wide part of diagnosis; everything that depends on
one pair alone can be measured where the pair is made, while that process is busy: whether the
tensors are equal within tolerance, the value fit and what it leaves, what the detectors declared
``pure`` find, and, when the tensors differ, the file's own decode, the channel order each side
holds against it, and the renders of the file those measurements drew. Each is a pure function
of the tensors and the file, computed by the same code the detectors would run, so the numbers
are the ones the audit's process would have found itself (``tests/execution/test_workers.py`` checks the
reports are identical).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from skewcheck.diagnose.measure.fit import ValueFit
from skewcheck.diagnose.measure.reference import Reference
from skewcheck.diagnose.measure.residual import ResidualStats
from skewcheck.diagnose.run_state import RunState
from skewcheck.images.source import ImageFile
from skewcheck.pipelines.outcome import Outcome


@dataclass(frozen=True)
class PairFacts:
    within_tolerance: bool
    value_fit: ValueFit | None
    residual_stats: ResidualStats | None
    reference: tuple | None = None  # Reference.portable() of the file, when the tensors differ
    renders: dict[tuple, Any] = field(default_factory=dict)  # the file's renders drawn for the measurements
    observations: dict[str, list[Any]] = field(default_factory=dict)  # the pure detectors' findings, by name
    precomputed: dict[str, Any] = field(default_factory=dict)  # each detector's SPEC.precompute, by name

    def adopt_reference(self, file: ImageFile) -> Reference:
        """The file's Reference rebuilt from the decode, with the renders already drawn of it."""
        from skewcheck.diagnose.measure.rerender import adopt

        ref = Reference.from_portable(file, self.reference)  # type: ignore[arg-type]
        if ref.rgb is not None and self.renders:
            adopt(ref.rgb, self.renders)
        return ref

    @property
    def nbytes(self) -> int:
        """What these facts hold in memory (the decode, the renders)."""
        held = sum(len(part[0]) for part in (self.reference or ())[:2] if part is not None)
        return held + sum(getattr(r, "nbytes", 0) for r in self.renders.values())


def pair_facts(
    train: Outcome,
    serve: Outcome,
    tolerance: tuple[float, float],
    file: ImageFile | None,
    hints: dict[str, Any] | None = None,
) -> PairFacts | None:
    """The facts of a pair whose pipelines both gave a tensor, else None. ``hints``: what the audit
    has settled for the run so far (:func:`hints_from`), by detector, which some facts are measured against."""
    from skewcheck.diagnose import pure_observations, specs
    from skewcheck.diagnose.context import PairContext
    from skewcheck.diagnose.measure.rerender import renders_of

    if not (train.ok and serve.ok):
        return None
    ctx = PairContext("", train, serve, tolerance=tolerance, file=file)
    fit = ctx.value_fit
    if fit is None or ctx.reference is None:
        return PairFacts(ctx.within_tolerance, fit, ctx.residual_stats, observations=pure_observations(ctx))
    precomputed = {}
    for name, spec in specs():
        if spec.precompute is not None:
            value = spec.precompute(ctx, (hints or {}).get(name))
            if value is not None:
                precomputed[name] = value
    observations = pure_observations(ctx)
    rgb = ctx.reference.rgb
    return PairFacts(
        ctx.within_tolerance,
        fit,
        ctx.residual_stats,
        ctx.reference.portable(),
        renders_of(rgb) if rgb is not None else {},
        observations,
        precomputed,
    )


def hints_from(run: RunState) -> dict[str, Any]:
    """What the audit's diagnosis has settled for the run so far, by detector (its ``SPEC.hint``), for
    the facts to be measured against."""
    from skewcheck.diagnose import specs

    hints = {name: spec.hint(run) for name, spec in specs() if spec.hint is not None}
    return {name: hint for name, hint in hints.items() if hint is not None}
