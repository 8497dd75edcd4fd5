"""skewcheck: find training-serving skew in image models.

The public API is importable from here without loading TensorFlow; heavy libraries load only in
the code paths that need them. ``skewcheck.compare`` is :func:`skewcheck.api.compare` itself,
imported on first use so that ``skewcheck --help`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from skewcheck.api import compare

__all__ = ["__version__", "compare"]


def __getattr__(name: str) -> Any:
    if name == "compare":
        from skewcheck.api import compare

        return compare
    raise AttributeError(f"module 'skewcheck' has no attribute {name!r}")
