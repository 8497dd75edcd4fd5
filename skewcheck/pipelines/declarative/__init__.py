"""Declarative pipelines: ``FILE.toml#name`` references to a list of steps (see docs/pipelines.md)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from skewcheck.errors import UsageError
from skewcheck.pipelines.declarative.pipeline import DeclarativePipeline, StepResult
from skewcheck.pipelines.declarative.spec import PipelineSpec, SpecError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["DeclarativePipeline", "PipelineSpec", "StepResult", "load_declarative", "read_pipelines"]


def read_pipelines(path: Path, what: str = "pipeline") -> dict[str, Any]:
    """The ``[pipelines.*]`` tables of a TOML file; any problem is a one-line UsageError."""
    if not path.is_file():
        raise UsageError(f"{what}: TOML file not found: {path}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{what}: {path} is not valid TOML: {str(exc)[:200]}") from None
    except (ValueError, RecursionError, OSError) as exc:  # e.g. an integer over Python's 4300-digit limit
        raise UsageError(f"{what}: {path} cannot be read as TOML ({type(exc).__name__}: {str(exc)[:200]})") from None
    tables = data.get("pipelines")
    if not isinstance(tables, dict) or not tables:
        raise UsageError(f"{what}: {path} has no [pipelines.NAME] table")
    return tables


def load_declarative(ref: str, what: str = "pipeline") -> DeclarativePipeline:
    """``FILE.toml#name`` → a validated DeclarativePipeline."""
    file, sep, name = ref.rpartition("#") if "#" in ref else (ref, "", "")
    path = Path(file)
    tables = read_pipelines(path, what)
    names = ", ".join(sorted(tables))
    if not sep or not name:
        raise UsageError(f"{what} {ref!r}: name the pipeline as {file}#NAME (the file defines: {names})")
    table = tables.get(name)
    if not isinstance(table, dict):
        raise UsageError(f"{what} {ref!r}: {path} has no pipeline {name!r} (it defines: {names})")
    unknown = sorted(set(table) - {"steps"})
    if unknown:
        raise UsageError(f"{what} {path}#{name}: unknown key {unknown[0]!r} (a pipeline has only 'steps')")
    try:
        spec = PipelineSpec.from_dict({"name": name, "steps": table.get("steps")}, where=f"{what} {path}#{name}")
    except SpecError as exc:
        raise UsageError(str(exc)) from None
    except (TypeError, ValueError, OverflowError, RecursionError) as exc:  # a value no check foresaw
        raise UsageError(
            f"{what} {path}#{name}: invalid step values ({type(exc).__name__}: {str(exc)[:200]})"
        ) from None
    return DeclarativePipeline(spec, ref)
