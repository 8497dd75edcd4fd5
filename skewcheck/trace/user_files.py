"""Which source files are the user's own: the only frames the line tracer looks inside.

Not the standard library, not installed packages (site-packages / dist-packages: NumPy, OpenCV,
Pillow, TensorFlow), not skewcheck itself, not code without a file (``<frozen ...>``,
``<string>``). The callable's own folder always counts, even when it is an installed package
(``mycompany.preproc:serve`` from site-packages), and so does the bundled example's folder, which
stands for a user's code inside skewcheck.
"""

from __future__ import annotations

import os
import sys
import sysconfig
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import skewcheck

SKEWCHECK_DIR = os.path.dirname(os.path.abspath(skewcheck.__file__))
_INSTALLED_MARKERS = (f"{os.sep}site-packages{os.sep}", f"{os.sep}dist-packages{os.sep}")


def _library_dirs() -> tuple[str, ...]:
    dirs = {sysconfig.get_paths().get(key) for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    dirs |= {os.path.join(prefix, "lib") for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix}}
    return tuple(_folder(d) for d in dirs if d)


def _folder(path: str) -> str:
    return os.path.join(os.path.realpath(path), "")


def callable_dir(fn: Any) -> str | None:
    """The folder of the file that defines ``fn`` (functools.partial and callable objects too)."""
    target = getattr(fn, "func", fn)  # functools.partial
    code = getattr(target, "__code__", None)
    if code is None:  # an object with a __call__ method
        code = getattr(vars(type(target)).get("__call__"), "__code__", None)
    filename = getattr(code, "co_filename", None)
    if not filename or filename.startswith("<"):
        return None
    return _folder(str(Path(filename).parent))


class UserFiles:
    """``is_user(co_filename)``, decided once per file name."""

    def __init__(self, own_dirs: Iterable[str | None] = ()) -> None:
        self._own = tuple(d for d in own_dirs if d)
        self._libraries = _library_dirs()
        self._skewcheck = _folder(SKEWCHECK_DIR)
        self._known: dict[str, bool] = {}

    def is_user(self, filename: str) -> bool:
        known = self._known.get(filename)
        if known is None:
            known = self._known[filename] = self._decide(filename)
        return known

    def _decide(self, filename: str) -> bool:
        if not filename or filename.startswith("<") or not filename.endswith(".py"):
            return False
        path = os.path.realpath(filename)
        if any(path.startswith(d) for d in self._own):
            return True
        if path.startswith(self._skewcheck) or any(m in path for m in _INSTALLED_MARKERS):
            return False
        return not any(path.startswith(d) for d in self._libraries)
