"""``--model REF`` → a runner: the one table of model formats, and the sniffing that picks one.

Each format is a :class:`ModelFormat` in ``FORMATS``: how it recognises a reference, how it loads
(importing its runner module only then, so TensorFlow and onnxruntime stay lazy), and the words
the error message lists. Order matters: the first format that claims a reference loads it.
Adding a format is one ``register_model_format(...)`` call (CONTRIBUTING.md).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from skewcheck.errors import UsageError
from skewcheck.models._common import check_device_name
from skewcheck.models.base import ModelRunner
from skewcheck.models.callable_runner import split_ref
from skewcheck.no_model import is_no_model

Loader = Callable[[str, Path, str, bool], ModelRunner]  # (ref, path, device, unsafe_load) -> runner


@dataclass(frozen=True)
class ModelFormat:
    name: str
    described_as: str  # how the "expected ..." message names it, e.g. "a .tflite file"
    claims: Callable[[str, Path], bool]  # (ref as given, ref as a path) -> this format loads it
    load: Loader


def _lazy(module: str, cls: str, *, unsafe_load: bool = False) -> Loader:
    """A loader that imports ``skewcheck.models.<module>`` only when the format is used."""

    def load(ref: str, path: Path, device: str, unsafe: bool) -> ModelRunner:
        runner = getattr(importlib.import_module(f"skewcheck.models.{module}"), cls)
        return runner(path, device=device, unsafe_load=unsafe) if unsafe_load else runner(path, device=device)

    return load


def _callable(ref: str, path: Path, device: str, unsafe: bool) -> ModelRunner:
    from skewcheck.models.callable_runner import CallableRunner

    return CallableRunner(ref)


KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")

FORMATS: list[ModelFormat] = [
    ModelFormat("onnx", "a .onnx file", lambda ref, p: p.suffix.lower() == ".onnx", _lazy("onnx_runner", "OnnxRunner")),
    ModelFormat(
        "savedmodel",
        "a SavedModel directory",
        lambda ref, p: p.is_dir(),
        _lazy("savedmodel_runner", "SavedModelRunner"),
    ),
    ModelFormat(
        "keras",
        "a .keras or .h5 file",
        lambda ref, p: p.suffix.lower() in KERAS_SUFFIXES,
        _lazy("keras_runner", "KerasRunner", unsafe_load=True),
    ),
    ModelFormat(
        "tflite", "a .tflite file", lambda ref, p: p.suffix.lower() == ".tflite", _lazy("tflite_runner", "TFLiteRunner")
    ),
    ModelFormat(
        "callable",
        "pkg.module:fn or path/to/file.py:fn",
        lambda ref, p: not p.is_file() and split_ref(ref) is not None,
        _callable,
    ),
]


def register_model_format(fmt: ModelFormat, *, before: str | None = None) -> None:
    """Add a model format (``before``: the name of a format it must be tried ahead of)."""
    if any(f.name == fmt.name for f in FORMATS):
        raise ValueError(f"model format {fmt.name!r} is registered already")
    at = next((i for i, f in enumerate(FORMATS) if f.name == before), len(FORMATS))
    FORMATS.insert(at, fmt)


def supported() -> str:
    return ", ".join(f.described_as for f in FORMATS) + ", or none"


def load_model(ref: str, *, device: str = "auto", unsafe_load: bool = False) -> ModelRunner | None:
    """Load ``ref`` as a model runner, or return None for ``none`` (tensor-only audit).

    Raises UsageError (one line, exit code 2) for anything missing or unloadable.
    TensorFlow is imported here, lazily, only when a TensorFlow format is asked for.
    """
    if is_no_model(ref):
        return None
    ref = ref.strip()
    check_device_name(device)
    path = Path(ref).expanduser()
    for fmt in FORMATS:
        if fmt.claims(ref, path):
            return fmt.load(ref, path, device, unsafe_load)
    if path.is_file():
        if path.suffix.lower() == ".py":
            raise UsageError(f"{ref}: name the function too, e.g. {ref}:predict")
        raise UsageError(f"cannot tell the model format of {ref}: expected {supported()}")
    raise UsageError(f"model not found: {ref} (expected {supported()})")
