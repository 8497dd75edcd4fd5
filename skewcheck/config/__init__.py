"""Configuration files: every ``compare`` option in ``[tool.skewcheck]`` (pyproject.toml) or a
``skewcheck.toml``, with named profiles; the command line overrides them (docs/ci.md).

    from skewcheck.config import load_config
    config = load_config(profile="mobile")  # None when no file is found
    config.values  # {"train": "/repo/training/input.py:preprocess", "fail_on": "minor", ...}
"""

from __future__ import annotations

from skewcheck.config.loader import FileConfig, find_config, load_config
from skewcheck.config.options import OPTIONS, Option

__all__ = ["OPTIONS", "FileConfig", "Option", "find_config", "load_config"]
