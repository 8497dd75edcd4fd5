"""skewcheck: find training-serving skew in image models.

The public API is importable from here without loading TensorFlow; heavy libraries load only in
the code paths that need them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from skewcheck.report.model import Report

__all__ = ["__version__", "compare"]


def compare(**kwargs: Any) -> Report:
    """Run an audit and return its :class:`~skewcheck.report.model.Report` (see ``skewcheck.api``)."""
    from skewcheck.api import compare as _compare

    return _compare(**kwargs)
