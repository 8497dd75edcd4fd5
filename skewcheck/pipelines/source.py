"""Where a pipeline is defined: the file and line a report (SARIF) can point a reviewer to.

A callable: the file and first line of its definition (``inspect``). A declarative pipeline: its
TOML file, the line of its ``[pipelines.NAME]`` table and the line of each step. A snapshot:
its ``.npz`` file. Others (``tensors:DIR``, a live endpoint) have no source: None.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

_STEP = re.compile(r"\bop\s*=")


def pipeline_source(pipeline: Any) -> dict[str, Any] | None:
    """``{"file": absolute path, "line": n, "steps": [line of each step]}`` (``line`` and
    ``steps`` where known), or None."""
    spec = getattr(pipeline, "spec", None)
    if spec is not None and ".toml" in str(getattr(pipeline, "ref", "")):
        return _toml_source(str(pipeline.ref), len(getattr(spec, "steps", ())))
    fn = getattr(pipeline, "fn", None)
    if fn is not None:
        return _callable_source(fn)
    ref = str(getattr(pipeline, "ref", ""))
    if ref.lower().endswith(".npz"):
        return {"file": str(Path(ref).resolve())}
    return None


def _callable_source(fn: Any) -> dict[str, Any] | None:
    target = inspect.unwrap(fn) if callable(fn) else fn
    if not (inspect.isfunction(target) or inspect.ismethod(target) or inspect.isclass(target)):
        target = type(target)  # a callable object: its class
    try:
        file = inspect.getsourcefile(target)
        _, line = inspect.getsourcelines(target)
    except (OSError, TypeError):  # a builtin, a C extension, code typed into a REPL
        return None
    if file is None:
        return None
    return {"file": str(Path(file).resolve()), "line": max(line, 1)}


def _toml_source(ref: str, steps: int) -> dict[str, Any] | None:
    """The ``[pipelines.NAME]`` table's line and its steps' lines (each ``op =``, in order)."""
    file, _, name = ref.rpartition("#") if "#" in ref else (ref, "", "")
    path = Path(file).resolve()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    header = re.compile(
        rf"^\s*\[\s*pipelines\s*\.\s*(\"{re.escape(name)}\"|'{re.escape(name)}'|{re.escape(name)})\s*\]"
    )
    start = next((i for i, text in enumerate(lines) if header.match(text)), None)
    if start is None:
        return {"file": str(path)}
    found: list[int] = []
    for i in range(start + 1, len(lines)):
        text = lines[i].split("#", 1)[0]  # a comment may mention op = too
        if text.lstrip().startswith("["):  # the next table
            break
        found += [i + 1] * len(_STEP.findall(text))
    out: dict[str, Any] = {"file": str(path), "line": start + 1}
    if len(found) == steps:  # only when every step is found: never a wrong line
        out["steps"] = found
    return out
