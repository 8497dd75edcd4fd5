"""``--model REF`` → a runner: sniff the reference and pick the format.

Order: ``none``; ``.onnx`` (onnxruntime, the optional ``onnx`` extra); an existing directory (SavedModel) or file (by
extension); ``something:function`` (a user callable); else a one-line UsageError.
"""

from __future__ import annotations

from pathlib import Path

from skewcheck.errors import UsageError
from skewcheck.models._common import check_device_name
from skewcheck.models.base import ModelRunner
from skewcheck.models.callable_runner import split_ref

KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")
SUPPORTED = (
    "a .keras, .h5, .tflite or .onnx file, a SavedModel directory, pkg.module:fn, path/to/file.py:fn, or none"
)


def load_model(ref: str, *, device: str = "auto", unsafe_load: bool = False) -> ModelRunner | None:
    """Load ``ref`` as a model runner, or return None for ``none`` (tensor-only audit).

    Raises UsageError (one line, exit code 2) for anything missing or unloadable.
    TensorFlow is imported here, lazily, only when a TensorFlow format is asked for.
    """
    ref = ref.strip()
    if ref.lower() == "none":
        return None
    check_device_name(device)
    path = Path(ref).expanduser()
    suffix = path.suffix.lower()
    if suffix == ".onnx":
        from skewcheck.models.onnx_runner import OnnxRunner  # noqa: PLC0415

        return OnnxRunner(path, device=device)
    if path.is_dir():
        from skewcheck.models.savedmodel_runner import SavedModelRunner  # noqa: PLC0415

        return SavedModelRunner(path, device=device)
    if path.is_file() or suffix in (*KERAS_SUFFIXES, ".tflite"):
        if suffix in KERAS_SUFFIXES:
            from skewcheck.models.keras_runner import KerasRunner  # noqa: PLC0415

            return KerasRunner(path, device=device, unsafe_load=unsafe_load)
        if suffix == ".tflite":
            from skewcheck.models.tflite_runner import TFLiteRunner  # noqa: PLC0415

            return TFLiteRunner(path, device=device)
        if suffix == ".py":
            raise UsageError(f"{ref}: name the function too, e.g. {ref}:predict")
        raise UsageError(f"cannot tell the model format of {ref}: expected {SUPPORTED}")
    if split_ref(ref) is not None:
        from skewcheck.models.callable_runner import CallableRunner  # noqa: PLC0415

        return CallableRunner(ref)
    raise UsageError(f"model not found: {ref} (expected {SUPPORTED})")
