"""``skewcheck check-config``: does the configuration hold, and does every reference in it
resolve? Cheap enough for a pre-commit hook: no model is loaded, no image read, and no user code
runs (a ``file.py:fn`` or ``pkg.module:fn`` is found by reading the module's source, not by
importing it).
"""

from __future__ import annotations

import ast
import importlib.util
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from skewcheck.config.loader import FileConfig, find_config, load_config
from skewcheck.errors import UsageError
from skewcheck.no_model import is_no_model

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def check_config(
    cwd: Path | None = None, path: Path | None = None, profile: str | None = None, specs: tuple[Path, ...] = ()
) -> tuple[list[str], list[str]]:
    """(what was checked, the problems found: one line each). Every profile is checked unless
    ``profile`` names one; ``specs`` are declarative pipeline files checked whole."""
    checked: list[str] = []
    problems: list[str] = []
    for spec in specs:
        _collect(checked, problems, f"{spec}", lambda spec=spec: _check_spec_file(spec))
    if path is None and profile is None and specs and find_config((cwd or Path.cwd()).resolve()) is None:
        return checked, problems  # only spec files were asked for, and there is no configuration
    try:
        base = load_config(cwd=cwd, path=path, profile=profile, required=True)
    except UsageError as exc:
        return checked, [*problems, str(exc)]
    assert base is not None
    configs = [base]
    if profile is None:
        for name in base.profiles:
            try:
                configs.append(load_config(path=base.path, profile=name))  # type: ignore[arg-type]
            except UsageError as exc:
                problems.append(str(exc))
    for config in configs:
        where = config.where + (f" profile {config.profile!r}" if config.profile else "")
        checked.append(f"{where}: every key and value")
        for key, ref in _references(config.values):
            _collect(checked, problems, f"{where}: {key} = {ref}", lambda k=key, r=ref: check_reference(k, r))
        _collect(checked, problems, f"{where}: the options together", lambda c=config: _builds(c.values))
    return checked, problems


def _builds(values: Mapping[str, Any]) -> None:
    """The audit's configuration builds from these values, as ``compare`` builds it (the rules
    between options: --timeout needs --workers, --ray-address needs --engine ray, a worker needs
    pipeline references, the heads, an endpoint's settings …). A file may leave the pipelines to the
    command line: a placeholder reference stands in for a side it does not name."""
    from skewcheck.config.audit_config import AuditConfig

    placeholders = {side: values.get(side) or f"{side}_pipeline.py:fn" for side in ("train", "serve")}
    AuditConfig.from_options({**values, **placeholders})


def _collect(checked: list[str], problems: list[str], label: str, check: Any) -> None:
    try:
        check()
    except UsageError as exc:
        problems.append(f"{label}: {exc}" if not str(exc).startswith(label) else str(exc))
    else:
        checked.append(label)


def _references(values: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    for key in ("model", "train", "serve", "postprocess", "images", "labels", "class_names", "endpoint_ca"):
        value = values.get(key)
        if value is not None:
            yield key, str(value)


def check_reference(key: str, ref: str) -> None:
    """Raise UsageError when ``ref`` (the value of option ``key``) does not resolve."""
    if _URI.match(ref) or (key == "model" and is_no_model(ref)):
        return  # a URI or an endpoint is not fetched here
    if key in ("train", "serve") and (".toml#" in ref or ref.lower().endswith(".toml")):
        from skewcheck.pipelines.declarative import load_declarative

        load_declarative(ref, what=key)
        return
    if key in ("train", "serve") and ref.startswith("tensors:"):
        _exists(Path(ref[len("tensors:") :]), key, folder=True)
        return
    if key in ("train", "serve", "postprocess", "model") and ":" in ref and not Path(ref).exists():
        _check_callable(ref, key)
        return
    _exists(Path(ref), key, folder=key == "images")


def _exists(path: Path, key: str, folder: bool = False) -> None:
    if folder and not path.is_dir():
        raise UsageError(f"{key}: folder not found: {path}")
    if not path.exists():
        raise UsageError(f"{key}: not found: {path}")


def _check_callable(ref: str, key: str) -> None:
    target, _, attr = ref.rpartition(":")
    if target.endswith(".py") or "/" in target or "\\" in target:
        source = Path(target)
        if not source.is_file():
            raise UsageError(f"{key}: file not found: {source}")
    else:
        try:
            spec = importlib.util.find_spec(target)
        except (ImportError, ValueError) as exc:
            raise UsageError(f"{key}: cannot find module {target!r} ({exc})") from None
        if spec is None:
            raise UsageError(f"{key}: cannot find module {target!r}")
        if not spec.origin or not spec.origin.endswith(".py"):
            return  # a compiled or namespace module: its names are only known by importing it
        source = Path(spec.origin)
    if not _defines(source, attr):
        raise UsageError(f"{key}: {source} defines no top-level {attr!r}")


def _defines(source: Path, name: str) -> bool:
    """Whether the module's top level binds ``name`` (def, class, assignment, import), or may
    (a star import or a module ``__getattr__``)."""
    try:
        tree = ast.parse(source.read_text(encoding="utf-8"), str(source))
    except (SyntaxError, UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"{source} cannot be parsed as Python ({type(exc).__name__}: {exc})") from None
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if node.name in (name, "__getattr__"):
                return True
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name == "*" or (alias.asname or alias.name.split(".")[0]) == name:
                    return True
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(n, ast.Name) and n.id == name for t in targets for n in ast.walk(t)):
                return True
    return False


def _check_spec_file(path: Path) -> None:
    """Every pipeline of a declarative TOML file parses and validates."""
    from skewcheck.pipelines.declarative import load_declarative, read_pipelines

    for name in read_pipelines(path, what=str(path)):
        load_declarative(f"{path}#{name}", what=f"{path}#{name}")


__all__ = ["FileConfig", "check_config", "check_reference"]
