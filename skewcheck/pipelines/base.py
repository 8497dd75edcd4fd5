"""The pipeline contract: one image file in, one :class:`Outcome` out.

The file is a local ``Path`` or an object under a URI (:class:`~skewcheck.images.source.ObjectFile`);
both give their bytes with ``read_bytes()``.
"""

from __future__ import annotations

from typing import Protocol

from skewcheck.images.source import ImageFile
from skewcheck.pipelines.outcome import Outcome


class Pipeline(Protocol):
    ref: str  # what the user passed (--train / --serve)
    description: str  # one line for reports

    def run(self, path: ImageFile) -> Outcome: ...
