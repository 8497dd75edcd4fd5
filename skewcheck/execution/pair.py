"""What every engine yields per image: a :class:`Pair` (both pipelines' outcomes, and maybe more)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from skewcheck.images.source import ImageFile, ImageRoot, relative_name
from skewcheck.pipelines.outcome import Outcome

if TYPE_CHECKING:
    from skewcheck.comparison.predict import SidePrediction
    from skewcheck.diagnose.facts import PairFacts
    from skewcheck.execution.image_runs import ImageRuns

Predictions = dict[str, "SidePrediction | None"]  # per side; None where that side gave no tensor


@dataclass
class Pair:
    path: str  # the image's name relative to the --images folder (the report's key)
    file: ImageFile
    train: Outcome
    serve: Outcome
    predictions: Predictions = field(default_factory=dict)  # by the engine's model stage, else the audit's
    repeats: dict[str, Outcome] = field(default_factory=dict)
    index: int = 0  # position in the audit's file order
    facts: PairFacts | None = None  # measured next to the tensors (run_image), else by the detectors
    finding_keys: frozenset[Any] = frozenset()  # its observations' keys, once diagnosed

    @classmethod
    def from_runs(cls, runs: ImageRuns, root: ImageRoot, predictions: Predictions | None = None) -> Pair:
        return cls(
            relative_name(runs.path, root),
            runs.path,
            runs.first["train"],
            runs.first["serve"],
            predictions=dict(predictions or {}),
            repeats=runs.repeats,
            index=runs.index,
            facts=runs.facts,
        )

    @property
    def nbytes(self) -> int:
        """What the pair holds: its tensors and, in its facts, the residual and the decoded file."""
        outcomes = [self.train, self.serve, *self.repeats.values()]
        held = sum(o.tensor.nbytes for o in outcomes if o.tensor is not None)
        return held + (self.facts.nbytes if self.facts is not None else 0)
