"""``--augment SPEC`` → the transforms to audit, each with the strengths it is tried at.

SPEC is either

- a TOML file, a list of built-in transforms (:mod:`skewcheck.augment.builtin`) with a strength
  range::

      [[transform]]
      name = "rotate"          # flip-h, flip-v, rotate, crop-scale, translate, brightness, ...
      min = 0                  # the range the policy trains with (default: the built-in's)
      max = 30
      steps = 4                # strengths tried across it (default 4); or strengths = [10, 30]
      as = "rotate-small"      # a name of its own, when one built-in appears twice

- or a Python reference ``aug.py:policy`` / ``pkg.module:policy``: a function returning (or a
  dict being) named transforms, ``{name: transform}``. A transform is

  * ``fn(image, rng)``: ``image`` is the train pipeline's tensor as it is (its dtype, layout and
    value range), ``rng`` a seeded ``numpy.random.Generator``; returns the new image;
  * ``fn(image, rng, strength)`` with ``(fn, [strengths])`` as the dict value: tried at each one;
  * box-aware, with a parameter named ``boxes``: ``fn(image, boxes, rng[, strength]) ->
    (image, boxes)``, boxes ``(N, 4)`` x1 y1 x2 y2 in pixels (detection);
  * a Keras preprocessing layer (``keras.layers.RandomFlip("horizontal")``,
    ``RandomRotation(0.1)``, ...): called on the image with ``training=True``; its randomness is
    Keras's, seeded once per transform and chunk by ``keras.utils.set_random_seed``.

A user transform that is not box-aware leaves the boxes where they were: for a geometric one that
is exactly the bug the detection audit finds.
"""

from __future__ import annotations

import difflib
import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from skewcheck.augment import builtin
from skewcheck.augment.value_range import ValueRange, from_unit, to_unit
from skewcheck.errors import UsageError, one_line, type_name

DEFAULT_STEPS = 4
MAX_STEPS = 32
TOML_KEYS = {"name", "min", "max", "steps", "strengths", "as"}

Strength = float | None


@dataclass(frozen=True)
class Transform:
    name: str
    source: str  # "built-in", "python", "keras layer"
    strengths: tuple[Strength, ...]  # (None,): a transform without a strength (a flip, a user fn)
    fn: Callable[..., Any]
    unit: str = ""
    configured: tuple[float, float] | None = None  # the range the policy trains with
    builtin: str | None = None
    takes_strength: bool = False
    takes_boxes: bool = False

    @property
    def moves_boxes(self) -> bool:
        return self.takes_boxes or self.builtin is not None

    def apply(
        self,
        tensor: np.ndarray,
        boxes: np.ndarray | None,
        strength: Strength,
        rng: np.random.Generator,
        value_range: ValueRange,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """The transformed tensor (and boxes, when given) for one image."""
        if self.builtin is not None:
            image = to_unit(tensor, value_range)
            s = 0.0 if strength is None else float(strength)
            if boxes is None:
                out = builtin.BUILTINS[self.builtin].apply(image, s, rng)
            else:
                out, boxes = builtin.apply_with_boxes(self.builtin, image, boxes, s, rng)
            return from_unit(out, tensor, value_range), boxes
        args: list[Any] = [tensor.copy()]
        if self.takes_boxes:
            args.append(np.zeros((0, 4)) if boxes is None else boxes.copy())
        args.append(rng)
        if self.takes_strength:
            args.append(strength)
        result = self.fn(*args)
        if self.takes_boxes:
            if not (isinstance(result, (tuple, list)) and len(result) == 2):
                raise TypeError(f"a box-aware transform returns (image, boxes), got {type_name(result)}")
            image, moved = result
            return _array(image), np.asarray(moved, dtype=np.float64).reshape(-1, 4)
        return _array(result), boxes


def _array(value: Any) -> np.ndarray:
    out = np.asarray(value)
    if not np.issubdtype(out.dtype, np.number) and out.dtype != np.bool_:
        raise TypeError(f"a transform returns an image array, got {type_name(value)} of dtype {out.dtype}")
    return out


def load_spec(ref: str) -> list[Transform]:
    """Any problem with the spec is a one-line UsageError (exit 2)."""
    ref = ref.strip()
    if not ref:
        raise UsageError("--augment: empty spec")
    if ref.lower().endswith(".toml"):
        return _from_toml(Path(ref))
    from skewcheck.pipelines.user_callable import resolve_callable

    target = resolve_callable(ref, "--augment")
    if isinstance(target, dict) or _is_layer(target):
        policy = target
    else:
        try:
            policy = target()
        except Exception as exc:  # noqa: BLE001 (the user's policy function)
            raise UsageError(f"--augment {ref}: calling it raised {type_name(exc)}: {one_line(exc)}") from None
    return _from_policy(policy, ref)


# -- TOML --------------------------------------------------------------------------------------


def _from_toml(path: Path) -> list[Transform]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"--augment file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--augment {path}: cannot read it ({one_line(exc)})") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"--augment {path}: not valid TOML ({one_line(exc)})") from None
    entries = data.get("transform")
    unknown = set(data) - {"transform"}
    if unknown:
        raise UsageError(f"--augment {path}: unknown key(s) {', '.join(sorted(unknown))} (expected [[transform]])")
    if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
        raise UsageError(f"--augment {path}: expected one or more [[transform]] tables")
    transforms = [_toml_entry(path, i, e) for i, e in enumerate(entries, 1)]
    _check_unique(transforms, str(path))
    return transforms


def _toml_entry(path: Path, index: int, entry: dict[str, Any]) -> Transform:
    where = f"--augment {path}, transform {index}"
    unknown = set(entry) - TOML_KEYS
    if unknown:
        raise UsageError(
            f"{where}: unknown key(s) {', '.join(sorted(unknown))} (known: {', '.join(sorted(TOML_KEYS))})"
        )
    name = entry.get("name")
    if not isinstance(name, str) or name not in builtin.BUILTINS:
        close = difflib.get_close_matches(str(name), builtin.BUILTINS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(builtin.BUILTINS)})"
        raise UsageError(f"{where}: {name!r} is not a built-in transform{hint}")
    spec = builtin.BUILTINS[name]
    shown = entry.get("as", name)
    if not isinstance(shown, str) or not shown.strip():
        raise UsageError(f"{where}: 'as' must be a non-empty name")
    if spec.default is None:
        if {"min", "max", "steps", "strengths"} & set(entry):
            raise UsageError(f"{where}: {name} has no strength (it is applied as it is)")
        return Transform(shown, "built-in", (None,), spec.apply, builtin=name)
    lo, hi = (
        _number(where, key, entry.get(key, default)) for key, default in zip(("min", "max"), spec.default, strict=True)
    )
    if lo > hi:
        raise UsageError(f"{where}: min {lo:g} is above max {hi:g}")
    if "strengths" in entry:
        raw = entry["strengths"]
        if not isinstance(raw, list) or not raw:
            raise UsageError(f"{where}: strengths must be a non-empty list of numbers")
        strengths = tuple(_number(where, "strengths", v) for v in raw)
    else:
        steps = entry.get("steps", DEFAULT_STEPS)
        if not isinstance(steps, int) or isinstance(steps, bool) or not 1 <= steps <= MAX_STEPS:
            raise UsageError(f"{where}: steps must be a whole number from 1 to {MAX_STEPS}, got {steps!r}")
        strengths = spread(lo, hi, steps, spec.lower_is_stronger)
    configured = (lo, hi) if {"min", "max"} & set(entry) or "strengths" not in entry else None
    return Transform(shown, "built-in", strengths, spec.apply, spec.unit, configured, builtin=name, takes_strength=True)


def spread(lo: float, hi: float, steps: int, lower_is_stronger: bool = False) -> tuple[float, ...]:
    """``steps`` strengths across [lo, hi], weakest first. A range from 0 (no change) starts at
    its first step above 0: the clean image is measured anyway."""
    if lo == hi or steps == 1:
        return (hi if not lower_is_stronger else lo,)
    if lower_is_stronger:
        values = np.linspace(hi, lo, steps)
    elif lo == 0:
        values = np.linspace(0, hi, steps + 1)[1:]
    else:
        values = np.linspace(lo, hi, steps)
    return tuple(round(float(v), 6) for v in values)


def _number(where: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
        raise UsageError(f"{where}: {key} must be a finite number, got {value!r}")
    return float(value)


def _check_unique(transforms: list[Transform], where: str) -> None:
    seen: set[str] = set()
    for t in transforms:
        if t.name in seen:
            raise UsageError(
                f"--augment {where}: two transforms are named {t.name!r} (give one another name: as = ...)"
            )
        seen.add(t.name)


# -- Python policies ---------------------------------------------------------------------------


def _is_layer(value: Any) -> bool:
    return type(value).__module__.split(".")[0] in ("keras", "tf_keras") and hasattr(value, "call")


def _from_policy(policy: Any, ref: str) -> list[Transform]:
    if _is_layer(policy):
        policy = {type(policy).__name__: policy}
    if isinstance(policy, (list, tuple)):
        try:
            policy = dict(policy)
        except (TypeError, ValueError):
            raise UsageError(f"--augment {ref}: a list policy holds (name, transform) pairs") from None
    if not isinstance(policy, dict) or not policy:
        raise UsageError(
            f"--augment {ref}: the policy must return a non-empty dict {{name: transform}}, got {type_name(policy)}"
        )
    transforms = [_python_entry(ref, str(name), value) for name, value in policy.items()]
    _check_unique(transforms, ref)
    return transforms


def _python_entry(ref: str, name: str, value: Any) -> Transform:
    where = f"--augment {ref}, transform {name!r}"
    strengths: tuple[Strength, ...] = (None,)
    if isinstance(value, tuple) and len(value) == 2 and callable(value[0]):
        value, raw = value
        try:
            strengths = tuple(float(s) for s in raw)
        except (TypeError, ValueError):
            raise UsageError(f"{where}: (fn, strengths) needs a list of numbers as strengths") from None
        if not strengths:
            raise UsageError(f"{where}: (fn, strengths) needs at least one strength")
    if _is_layer(value):
        return Transform(name, "keras layer", (None,), _keras_call(value))
    if not callable(value):
        raise UsageError(f"{where}: not callable ({type_name(value)})")
    try:
        params = list(inspect.signature(value).parameters.values())
    except (TypeError, ValueError):
        params = []
    takes_boxes = any(p.name == "boxes" for p in params)
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    needed = 2 + int(takes_boxes)
    takes_strength = len(positional) > needed or any(p.name == "strength" for p in params)
    if strengths != (None,) and not takes_strength:
        raise UsageError(f"{where}: strengths are given, but the function takes no strength parameter")
    if takes_strength and strengths == (None,):
        raise UsageError(f"{where}: the function takes a strength: give it as (fn, [strengths])")
    return Transform(name, "python", strengths, value, takes_strength=takes_strength, takes_boxes=takes_boxes)


def _keras_call(layer: Any) -> Callable[..., Any]:
    def call(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        batch = np.asarray(image, dtype=np.float32)[None]
        return np.asarray(layer(batch, training=True))[0]

    return call
