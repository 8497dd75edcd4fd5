"""Declarative pipeline specs: TOML steps → frozen dataclasses, and back (``to_dict`` / ``from_dict``).

One dataclass per op. Parsing checks every key and value, so a typo is a one-line error naming the
step instead of a silent default. ``size`` is always ``[height, width]`` (the order of
``tf.image.resize`` and of a model's input shape); the resize op swaps it for Pillow and OpenCV,
which take ``(width, height)``.

A decoder's options default to what that library does when called plainly (OpenCV returns BGR and
applies EXIF orientation; Pillow and TensorFlow return RGB and ignore it), so a spec that leaves
them out describes the plain library call, and ``to_dict`` writes them all out.

(Over 400 lines on purpose: the schema of every op, its defaults and its checks read as one list,
the one place a user's TOML is validated; split by op they would scatter it.)
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar

LIBRARIES = ("pil", "opencv", "tf")
METHODS = ("nearest", "bilinear", "bicubic", "area", "lanczos")
DTYPES = ("uint8", "int32", "float16", "float32", "float64")
PRESET_NAMES = ("keras.caffe", "keras.tf", "keras.torch", "torchvision.imagenet")

# What each library's decoder does when called plainly; the other options default the same for all.
DECODE_DEFAULTS: dict[str, dict[str, str]] = {
    "pil": {"color": "rgb", "exif": "ignore", "truncated": "error"},  # Image.open(...).convert("RGB")
    "opencv": {"color": "bgr", "exif": "apply", "truncated": "allow"},  # cv2.imdecode(buf, IMREAD_COLOR)
    "tf": {"color": "rgb", "exif": "ignore", "truncated": "error"},  # tf.io.decode_image(data, channels=3)
}
RESIZE_ANTIALIAS = {"pil": True, "opencv": False, "tf": False}  # Pillow always filters when shrinking


MAX_SIDE = 65535  # a resize or crop to more pixels than this per side is a typo, not a model input


class SpecError(ValueError):
    """One step's problem; the loader adds the file, pipeline and step index."""


def _show(value: Any, limit: int = 60) -> str:
    """``repr`` of a user's value, short (a 400-digit number or a long list stays one line)."""
    try:
        text = repr(value)
    except (ValueError, RecursionError):  # an int beyond Python's str-conversion limit
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _finite(key: str, value: Any) -> float:
    try:
        number = float(value)
    except OverflowError:
        raise SpecError(f"{key} = {_show(value)} is too large") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise SpecError(f"{key} must be a finite number, got {_show(value)}")
    return number


class _Reader:
    """Reads one step's table, remembering which keys were asked for (the rest are typos)."""

    def __init__(self, op: str, raw: dict[str, Any]) -> None:
        self.op, self.raw = op, raw
        self.known: set[str] = set()

    def get(self, key: str) -> Any:
        self.known.add(key)
        return self.raw.get(key)

    def choice(self, key: str, choices: tuple[str, ...], default: str | None = None) -> str:
        value = self.get(key)
        if value is None:
            if default is None:
                raise SpecError(f"missing '{key}' (one of {', '.join(choices)})")
            return default
        if not isinstance(value, str) or value not in choices:
            raise SpecError(f"{key} = {_show(value)} is not one of {', '.join(choices)}")
        return str(value)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise SpecError(f"{key} must be true or false, got {_show(value)}")
        return value

    def number(self, key: str, default: float | None = None) -> float:
        value = self.get(key)
        if value is None:
            if default is None:
                raise SpecError(f"missing '{key}' (a number)")
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SpecError(f"{key} must be a number, got {_show(value)}")
        return _finite(key, value)

    def numbers(self, key: str) -> tuple[float, ...]:
        value = self.get(key)
        if value is None:
            raise SpecError(f"missing '{key}' (a list of numbers, one per channel)")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = [value]
        if (
            not isinstance(value, (list, tuple))
            or not value
            or any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in value)
        ):
            raise SpecError(f"{key} must be a list of numbers, got {_show(value)}")
        return tuple(_finite(key, v) for v in value)

    def size(self, key: str, required: bool = True) -> tuple[int, int] | None:
        value = self.get(key)
        if value is None:
            if required:
                raise SpecError(f"missing '{key}' = [height, width]")
            return None
        if (
            not isinstance(value, (list, tuple))
            or len(value) != 2
            or any(isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= MAX_SIDE for v in value)
        ):
            raise SpecError(f"{key} must be [height, width], two integers from 1 to {MAX_SIDE}, got {_show(value)}")
        return int(value[0]), int(value[1])

    def done(self) -> None:
        unknown = sorted(set(self.raw) - self.known)
        if unknown:
            allowed = ", ".join(sorted(self.known)) or "no parameter"
            raise SpecError(f"unknown key {unknown[0]!r} for op {self.op!r} (it takes {allowed})")


@dataclass(frozen=True)
class Decode:
    """Bytes → H×W×C uint8 with one library's decoder."""

    op: ClassVar[str] = "decode"
    library: str
    channels: int = 3
    color: str = "rgb"
    icc: str = "ignore"
    exif: str = "ignore"
    truncated: str = "error"
    alpha: str = "drop"

    @classmethod
    def read(cls, r: _Reader) -> Decode:
        library = r.choice("library", LIBRARIES)
        native = DECODE_DEFAULTS[library]
        channels = r.get("channels")
        if channels is None:
            channels = 3
        if channels not in (1, 3) or isinstance(channels, bool):
            raise SpecError(f"channels = {_show(channels)}: 1 (grey) or 3 (colour)")
        step = cls(
            library=library,
            channels=channels,
            color=r.choice("color", ("rgb", "bgr"), native["color"] if channels == 3 else "rgb"),
            icc=r.choice("icc", ("ignore", "to-srgb"), "ignore"),
            exif=r.choice("exif", ("apply", "ignore"), native["exif"]),
            truncated=r.choice("truncated", ("error", "allow"), native["truncated"]),
            alpha=r.choice("alpha", ("drop", "white", "black"), "drop"),
        )
        if channels == 1 and (step.color != "rgb" or step.icc != "ignore" or step.alpha != "drop"):
            raise SpecError("channels = 1 decodes grey: color, icc and alpha apply to colour decoding only")
        return step

    def describe(self) -> str:
        parts = [self.library, "grey" if self.channels == 1 else self.color]
        parts += [f"icc {self.icc}"] if self.icc != "ignore" else []
        parts += [f"exif {self.exif}"] if self.exif != "ignore" else []
        parts += [f"truncated {self.truncated}"] if self.truncated != "error" else []
        parts += [f"alpha on {self.alpha}"] if self.alpha != "drop" else []
        return f"decode({', '.join(parts)})"


@dataclass(frozen=True)
class Resize:
    """H×W×C → size = [height, width]; with keep_aspect, fit inside and pad (letterbox)."""

    op: ClassVar[str] = "resize"
    size: tuple[int, int]
    library: str
    method: str = "bilinear"
    antialias: bool = False
    keep_aspect: bool = False
    pad: float = 0.0

    @classmethod
    def read(cls, r: _Reader) -> Resize:
        size = r.size("size")
        library = r.choice("library", LIBRARIES)
        method = r.choice("method", METHODS, "bilinear")
        antialias = r.boolean("antialias", RESIZE_ANTIALIAS[library])
        if library == "pil" and not antialias and method != "nearest":
            raise SpecError("Pillow always antialiases when shrinking: antialias = false needs library opencv or tf")
        if library == "opencv" and antialias:
            raise SpecError("cv2.resize has no antialias switch: use method = 'area' to shrink without aliasing")
        assert size is not None
        return cls(size, library, method, antialias, r.boolean("keep_aspect", False), r.number("pad", 0.0))

    def describe(self) -> str:
        parts = [self.library, self.method, f"{self.size[0]}x{self.size[1]}"]
        parts += ["antialias"] if self.antialias and self.library != "pil" else []
        parts += [f"keep aspect, pad {self.pad:g}"] if self.keep_aspect else []
        return f"resize({', '.join(parts)})"


@dataclass(frozen=True)
class CenterCrop:
    """The centred size = [height, width] window, or the central fraction of each side."""

    op: ClassVar[str] = "center_crop"
    size: tuple[int, int] | None = None
    fraction: float | None = None

    @classmethod
    def read(cls, r: _Reader) -> CenterCrop:
        size = r.size("size", required=False)
        fraction = r.get("fraction")
        if (size is None) == (fraction is None):
            raise SpecError("give either size = [height, width] or fraction (0 < fraction <= 1)")
        if fraction is not None:
            fraction = r.number("fraction")
            if not 0 < fraction <= 1:
                raise SpecError(f"fraction = {fraction} must be in (0, 1]")
        return cls(size, fraction)

    def describe(self) -> str:
        what = f"{self.size[0]}x{self.size[1]}" if self.size else f"fraction {self.fraction:g}"
        return f"center_crop({what})"


@dataclass(frozen=True)
class ChannelOrder:
    """Permute the last axis; the default [2, 1, 0] swaps RGB ↔ BGR."""

    op: ClassVar[str] = "channel_order"
    order: tuple[int, ...] = (2, 1, 0)

    @classmethod
    def read(cls, r: _Reader) -> ChannelOrder:
        order = r.get("order")
        if order is None:
            return cls()
        if (
            not isinstance(order, list)
            or len(order) < 2
            or any(isinstance(i, bool) or not isinstance(i, int) for i in order)
            or sorted(order) != list(range(len(order)))
        ):
            raise SpecError(f"order = {_show(order)} must be a permutation such as [2, 1, 0]")
        return cls(tuple(int(i) for i in order))

    def describe(self) -> str:
        return "channel_order(rgb↔bgr)" if self.order == (2, 1, 0) else f"channel_order({list(self.order)})"


@dataclass(frozen=True)
class Cast:
    op: ClassVar[str] = "cast"
    dtype: str

    @classmethod
    def read(cls, r: _Reader) -> Cast:
        return cls(r.choice("dtype", DTYPES))

    def describe(self) -> str:
        return f"cast({self.dtype})"


@dataclass(frozen=True)
class Scale:
    """x * factor + offset, with NumPy's own type promotion (uint8 × float → float64)."""

    op: ClassVar[str] = "scale"
    factor: float
    offset: float = 0.0

    @classmethod
    def read(cls, r: _Reader) -> Scale:
        return cls(r.number("factor"), r.number("offset", 0.0))

    def describe(self) -> str:
        return f"scale(×{self.factor:.6g}" + (f", {self.offset:+g})" if self.offset else ")")


@dataclass(frozen=True)
class Normalize:
    """(x - mean) / std per channel (one value applies to every channel)."""

    op: ClassVar[str] = "normalize"
    mean: tuple[float, ...]
    std: tuple[float, ...]

    @classmethod
    def read(cls, r: _Reader) -> Normalize:
        mean, std = r.numbers("mean"), r.numbers("std")
        if any(s == 0 for s in std):
            raise SpecError("std must not contain 0")
        return cls(mean, std)

    def describe(self) -> str:
        return f"normalize(mean {list(self.mean)}, std {list(self.std)})"


@dataclass(frozen=True)
class Preset:
    """A library's named preprocessing, with the constants of skewcheck.presets."""

    op: ClassVar[str] = "preset"
    name: str

    @classmethod
    def read(cls, r: _Reader) -> Preset:
        return cls(r.choice("name", PRESET_NAMES))

    def describe(self) -> str:
        return f"preset({self.name})"


@dataclass(frozen=True)
class Layout:
    op: ClassVar[str] = "layout"
    to: str

    @classmethod
    def read(cls, r: _Reader) -> Layout:
        return cls(r.choice("to", ("chw", "hwc")))

    def describe(self) -> str:
        return f"layout({'hwc→chw' if self.to == 'chw' else 'chw→hwc'})"


@dataclass(frozen=True)
class Batch:
    op: ClassVar[str] = "batch"

    @classmethod
    def read(cls, r: _Reader) -> Batch:
        return cls()

    def describe(self) -> str:
        return "batch(1)"


Step = Decode | Resize | CenterCrop | ChannelOrder | Cast | Scale | Normalize | Preset | Layout | Batch
OPS: dict[str, Any] = {
    c.op: c for c in (Decode, Resize, CenterCrop, ChannelOrder, Cast, Scale, Normalize, Preset, Layout, Batch)
}
HWC_ONLY = ("resize", "center_crop", "channel_order", "normalize", "preset")


def step_to_dict(step: Step) -> dict[str, Any]:
    out: dict[str, Any] = {"op": step.op}
    for f in fields(step):
        value = getattr(step, f.name)
        if value is not None:
            out[f.name] = list(value) if isinstance(value, tuple) else value
    return out


def step_from_dict(raw: Any) -> Step:
    if not isinstance(raw, dict):
        raise SpecError(f'a step must be a table like {{ op = "resize", ... }}, got {_show(raw)}')
    op = raw.get("op")
    if not isinstance(op, str) or op not in OPS:
        raise SpecError(f"unknown op {_show(op)} (known: {', '.join(OPS)})")
    reader = _Reader(op, {k: v for k, v in raw.items() if k != "op"})
    step = OPS[op].read(reader)
    reader.done()
    return step


def check_sequence(steps: tuple[Step, ...]) -> None:
    """Order rules, as (index, message) SpecErrors: decode first, HWC ops before CHW, batch last."""
    if not steps or not isinstance(steps[0], Decode):
        raise IndexedSpecError(0, 'the first step must be { op = "decode", ... }')
    channels, layout = steps[0].channels, "hwc"
    for index, step in enumerate(steps[1:], 1):
        if isinstance(step, Decode):
            raise IndexedSpecError(index, "decode may only be the first step")
        if isinstance(steps[index - 1], Batch):
            raise IndexedSpecError(index - 1, "batch must be the last step")
        if step.op in HWC_ONLY and layout == "chw":
            raise IndexedSpecError(index, f"{step.op} works on HWC tensors: put it before layout(hwc→chw)")
        if isinstance(step, Layout):
            if step.to == layout:
                raise IndexedSpecError(index, f"the tensor is already {layout}")
            layout = step.to
        if isinstance(step, ChannelOrder) and len(step.order) != channels:
            raise IndexedSpecError(index, f"order has {len(step.order)} entries for {channels} channel(s)")
        if isinstance(step, Normalize):
            for key in ("mean", "std"):
                if len(getattr(step, key)) not in (1, channels):
                    raise IndexedSpecError(index, f"{key} needs 1 or {channels} values")
        if isinstance(step, Preset) and channels != 3:
            raise IndexedSpecError(index, f"preset {step.name} needs 3 RGB channels")


class IndexedSpecError(SpecError):
    def __init__(self, index: int, message: str) -> None:
        super().__init__(message)
        self.index = index


@dataclass(frozen=True)
class PipelineSpec:
    """A named list of steps; ``from_dict(spec.to_dict()) == spec``."""

    name: str
    steps: tuple[Step, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "steps": [step_to_dict(s) for s in self.steps]}

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str | None = None) -> PipelineSpec:
        """Validate; any problem is a one-line SpecError naming ``where`` and the step index."""
        name = str(data.get("name", ""))
        where = where or f"pipeline {name!r}"
        raw_steps = data.get("steps")
        if not isinstance(raw_steps, list) or not raw_steps:
            raise SpecError(f"{where}: 'steps' must be a non-empty list of {{ op = ... }} tables")
        steps = []
        for index, raw in enumerate(raw_steps):
            try:
                steps.append(step_from_dict(raw))
            except SpecError as exc:
                op = raw.get("op") if isinstance(raw, dict) else None
                raise SpecError(f"{where}: step {index}{f' ({op})' if isinstance(op, str) else ''}: {exc}") from None
        try:
            check_sequence(tuple(steps))
        except IndexedSpecError as exc:
            raise SpecError(f"{where}: step {exc.index} ({steps[exc.index].op}): {exc}") from None
        return cls(name, tuple(steps))

    @property
    def description(self) -> str:
        return " → ".join(s.describe() for s in self.steps)
