"""Find, read and validate a configuration file: ``[tool.skewcheck]`` in pyproject.toml, or the
top level of a ``skewcheck.toml``, with named profiles under ``profiles.NAME``.

Any problem is one :class:`~skewcheck.errors.UsageError` line that names the file and the key.
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from skewcheck.config.options import BY_KEY, PATH, PROFILES, Option
from skewcheck.config.paths import resolve
from skewcheck.errors import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

STANDALONE = "skewcheck.toml"
PYPROJECT = "pyproject.toml"


@dataclass(frozen=True)
class FileConfig:
    """The options a configuration file sets (keyed by the ``compare`` parameter they set), its
    path, and the profile applied. Values are validated and their paths resolved."""

    path: Path
    profile: str | None
    values: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    profiles: tuple[str, ...] = ()

    @property
    def where(self) -> str:
        return describe(self.path)


def describe(path: Path) -> str:
    """How messages name a configuration file: ``/repo/pyproject.toml [tool.skewcheck]``."""
    return f"{path} [tool.skewcheck]" if path.name == PYPROJECT else str(path)


def find_config(start: Path) -> Path | None:
    """The nearest configuration file from ``start`` upwards: in each folder ``skewcheck.toml``
    first, then a ``pyproject.toml`` that has a ``[tool.skewcheck]`` table (one without it is skipped)."""
    for folder in (start, *start.parents):
        standalone = folder / STANDALONE
        if standalone.is_file():
            return standalone
        pyproject = folder / PYPROJECT
        if pyproject.is_file() and _has_tool_table(pyproject):
            return pyproject
    return None


def _has_tool_table(path: Path) -> bool:
    try:
        data = _read(path)
    except UsageError:
        return True  # broken: reading it again says why
    tool = data.get("tool")
    return isinstance(tool, dict) and "skewcheck" in tool


def load_config(
    cwd: Path | None = None, path: Path | None = None, profile: str | None = None, required: bool = False
) -> FileConfig | None:
    """The configuration: the file at ``path`` (``--config``), else the nearest one from ``cwd``
    upwards; with ``profile`` applied on top of its top-level options. None when there is no
    file and neither ``path`` nor ``profile`` (nor ``required``) asked for one."""
    if path is None:
        path = find_config((cwd or Path.cwd()).resolve())
        if path is None:
            if profile is not None or required:
                raise UsageError(
                    f"--profile {profile}: no {STANDALONE} or {PYPROJECT} with [tool.skewcheck] found "
                    f"from {cwd or Path.cwd()} upwards (or name one with --config)"
                    if profile is not None
                    else f"no {STANDALONE} or {PYPROJECT} with [tool.skewcheck] found (name one with --config)"
                )
            return None
    path = path.resolve() if path.exists() else path
    table = _table(path)
    where = describe(path)
    raw_profiles = table.pop(PROFILES, {})
    if not isinstance(raw_profiles, dict) or not all(isinstance(v, dict) for v in raw_profiles.values()):
        raise UsageError(f"{where}: '{PROFILES}' must be a table of tables ([{_prefix(path)}{PROFILES}.NAME])")
    values = _options(table, where, path.parent)
    if profile is not None:
        if profile not in raw_profiles:
            known = ", ".join(sorted(raw_profiles)) or "none"
            raise UsageError(f"{where}: no profile {profile!r} (profiles: {known})")
        overrides = dict(raw_profiles[profile])
        if PROFILES in overrides:
            raise UsageError(f"{where}: profile {profile!r}: profiles do not nest")
        values.update(_options(overrides, f"{where} profile {profile!r}", path.parent))
    return FileConfig(path, profile, MappingProxyType(values), tuple(sorted(raw_profiles)))


def _prefix(path: Path) -> str:
    return "tool.skewcheck." if path.name == PYPROJECT else ""


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"configuration file not found: {path}") from None
    except IsADirectoryError:
        raise UsageError(f"configuration file {path} is a folder") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path} is not valid TOML: {str(exc)[:200]}") from None
    except (ValueError, RecursionError, OSError) as exc:
        raise UsageError(f"{path} cannot be read ({type(exc).__name__}: {str(exc)[:200]})") from None


def _table(path: Path) -> dict[str, Any]:
    data = _read(path)
    if path.name != PYPROJECT:
        return data
    tool = data.get("tool")
    table = tool.get("skewcheck") if isinstance(tool, dict) else None
    if not isinstance(table, dict):
        raise UsageError(f"{path} has no [tool.skewcheck] table")
    return dict(table)


def _options(table: dict[str, Any], where: str, base: Path) -> dict[str, Any]:
    """``compare`` parameter → validated value, paths resolved against ``base``."""
    out: dict[str, Any] = {}
    seen: dict[str, str] = {}
    for raw_key, value in table.items():
        key = raw_key.replace("-", "_")
        option = BY_KEY.get(key)
        if option is None:
            near = difflib.get_close_matches(key, [*BY_KEY, PROFILES], n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise UsageError(f"{where}: unknown key {raw_key!r}{hint}")
        if key in seen:
            raise UsageError(f"{where}: {raw_key!r} and {seen[key]!r} set the same option")
        seen[key] = raw_key
        out[option.param] = _value(option, raw_key, value, where, base)
    return out


def _value(option: Option, raw_key: str, value: Any, where: str, base: Path) -> Any:
    def wrong(expected: str) -> UsageError:
        return UsageError(f"{where}: {raw_key!r} must be {expected}, got {_show(value)}")

    kind = option.type
    if kind == "boolean":
        if not isinstance(value, bool):
            raise wrong("true or false")
        return value
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise wrong("an integer")
        _range(option, raw_key, value, where)
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise wrong("a number")
        _range(option, raw_key, value, where)
        return float(value)
    if kind in ("integer-or-string", "number-or-string"):
        numeric = (int,) if kind == "integer-or-string" else (int, float)
        if isinstance(value, bool) or not isinstance(value, (*numeric, str)):
            raise wrong("a number or a string")
        if isinstance(value, (int, float)):
            _range(option, raw_key, value, where)
        return str(value)
    if kind == "strings":
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(v, str) and v for v in items):
            raise wrong("a string or a list of strings")
        return [_resolved(option, v, base) for v in items]
    if not isinstance(value, str) or not value.strip():
        raise wrong("a non-empty string")
    if option.choices and value not in option.choices:
        raise wrong("one of " + ", ".join(option.choices))
    return _resolved(option, value, base)


def _resolved(option: Option, value: str, base: Path) -> Any:
    """A path option as a Path, a reference as text, both read against the file's folder."""
    if option.path is None:
        return value
    resolved = resolve(value, option.path, base)
    return Path(resolved) if option.path == PATH else resolved


def _range(option: Option, raw_key: str, value: float, where: str) -> None:
    if option.minimum is not None and value < option.minimum:
        raise UsageError(f"{where}: {raw_key!r} must be at least {option.minimum:g}, got {value}")
    if option.maximum is not None and value > option.maximum:
        raise UsageError(f"{where}: {raw_key!r} must be at most {option.maximum:g}, got {value}")


def _show(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 40 else text[:39] + '…'}"
