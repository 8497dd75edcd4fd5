"""Engines: where an audit's pairs come from (both pipelines' outcomes per image, and optionally
the model's predictions on them).

The local engine is :func:`skewcheck.audit._pairs` (in-process, or ``--workers N``). Another
engine is any object with ``runs(inputs, files, repeats)`` yielding, in ``files`` order, one
``(ImageRuns, predictions or None)`` per image (see :class:`Engine`); everything after that —
comparison, diagnosis, attribution, ranking, reports — is the same code whatever the engine, so
the report is the same. ``skewcheck.engines.ray_engine`` runs the pipelines and the model on
Ray Data (``--engine ray``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

from skewcheck.comparison.predict import SidePrediction
from skewcheck.workers import ImageRuns

Predictions = dict[str, SidePrediction | None]  # per side; None where that side gave no tensor


class Engine(Protocol):
    name: str

    def runs(
        self, inputs: Any, files: Iterable[Path], repeats: frozenset[int]
    ) -> Iterator[tuple[ImageRuns, Predictions | None]]:
        """Every image of ``files``, in that order; predictions None when the engine runs no model."""
        ...

    def summary(self) -> dict[str, Any]:
        """What the report says about the engine (``summary.engine``)."""
        ...
