"""The pipeline contract: one image file in, one :class:`Outcome` out."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from skewcheck.pipelines.outcome import Outcome


class Pipeline(Protocol):
    ref: str  # what the user passed (--train / --serve)
    description: str  # one line for reports

    def run(self, path: Path) -> Outcome: ...
