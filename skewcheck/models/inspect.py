"""``skewcheck inspect MODEL``: the model's signature and the preprocessing baked into it.

No image is needed. For Keras models (``.keras``, ``.h5``) the preprocessing layers and ops right
after the input are read (see :mod:`skewcheck.models.keras_preproc`) and turned into the input
range the model expects: ``Rescaling(1/255)`` inside means it expects [0, 255], and a pipeline
that divides by 255 as well normalizes twice. For quantized TFLite models the input's scale and
zero point say the same: the model expects integers ``q = round(x / scale + zero_point)``.
SavedModel, float TFLite and ONNX graphs are not analysed (signature only), and neither is a user
callable: for those the expected range is unknown and the range lint stays silent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from skewcheck.models.base import ModelInfo, TensorSpec
from skewcheck.models.keras_preproc import Affine, PreprocStep, Walker, g, match_preset

_CANDIDATES = ((0.0, 255.0), (0.0, 1.0))  # the input ranges images come in


@dataclass(frozen=True)
class ExpectedInput:
    """What the model's input should hold, and why skewcheck thinks so."""

    dtype: str
    range: tuple[float, float]
    because: str  # e.g. "Rescaling(scale=0.00392157, offset=0) inside"
    mul: float = 1.0  # inside = mul * x + add (averaged over channels), what the network then sees
    add: float = 0.0
    quantization: tuple[float, int] | None = None
    preset: str | None = None  # keras.applications preprocess_input mode, when recognised

    def inside(self, lo: float, hi: float) -> tuple[float, float]:
        a, b = self.mul * lo + self.add, self.mul * hi + self.add
        return (min(a, b), max(a, b))

    @property
    def text(self) -> str:
        return f"expects {self.dtype} in [{g(self.range[0])}, {g(self.range[1])}]; {self.because}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "dtype": self.dtype,
            "range": list(self.range),
            "because": self.because,
            "network_sees": [round(v, 6) for v in self.inside(*self.range)],
            "text": self.text,
        }
        if self.quantization is not None:
            out["quantization"] = {"scale": self.quantization[0], "zero_point": self.quantization[1]}
        if self.preset is not None:
            out["preset"] = self.preset
        return out


@dataclass
class ModelInspection:
    path: str
    format: str
    inputs: list[TensorSpec]
    outputs: list[TensorSpec]
    preprocessing: list[PreprocStep] = field(default_factory=list)
    expected: ExpectedInput | None = None
    notes: list[str] = field(default_factory=list)
    heads: dict[str, Any] | None = None  # skewcheck.comparison.heads.HeadPlan.to_dict(), from one probe tensor

    def to_dict(self) -> dict[str, Any]:
        return {
            "heads": self.heads,
            "path": self.path,
            "format": self.format,
            "inputs": [s.to_dict() for s in self.inputs],
            "outputs": [s.to_dict() for s in self.outputs],
            "preprocessing": [s.to_dict() for s in self.preprocessing],
            "expected_input": self.expected.to_dict() if self.expected is not None else None,
            "notes": list(self.notes),
        }


def inspect_model(ref: str, *, unsafe_load: bool = False) -> ModelInspection:
    """Load ``ref`` on the CPU and inspect it; UsageError (one line) when it cannot be loaded."""
    from skewcheck.errors import UsageError
    from skewcheck.models.loader import load_model

    runner = load_model(ref, device="cpu", unsafe_load=unsafe_load)
    if runner is None:
        raise UsageError("inspect needs a model, not 'none'")
    result = inspect_runner(runner)
    result.heads = _heads(runner, result)
    return result


def _heads(runner: Any, result: ModelInspection) -> dict[str, Any] | None:
    """How ``compare`` would judge each output, from one mid-grey tensor through the model (the
    heads are told apart by their values as well as their shapes)."""
    import numpy as np

    from skewcheck.comparison.heads import plan_heads

    spec = result.inputs[0] if result.inputs else None
    if spec is None or not spec.shape:
        return None
    shape = [1] + [64 if d is None else int(d) for d in spec.shape[1:]]
    lo, hi = result.expected.range if result.expected is not None else (0.0, 1.0)
    dtype = np.dtype(spec.dtype) if spec.dtype not in ("", "any") else np.dtype("float32")
    tensor = np.full(shape, (lo + hi) / 2, dtype=dtype)
    try:
        outputs = [np.asarray(o)[0] for o in runner.predict(tensor)]
    except Exception as exc:  # noqa: BLE001 (a model that rejects the probe: its heads stay unknown)
        result.notes.append(f"heads not inferred: the model rejected a {shape} probe tensor ({type(exc).__name__})")
        return None
    return plan_heads(outputs, [s.name for s in result.outputs]).to_dict()


def inspect_runner(runner: Any) -> ModelInspection:
    """Inspect an already loaded runner (what ``compare`` does, without loading twice)."""
    info: ModelInfo = runner.info
    result = ModelInspection(info.path, info.format, list(info.inputs), list(info.outputs))
    spec = info.inputs[0] if info.inputs else None
    keras_model = getattr(runner, "model", None) if info.format in ("keras", "h5") else None
    if keras_model is not None and spec is not None:
        _inspect_keras(keras_model, spec, result)
    elif spec is not None and spec.quantization is not None:
        result.expected = _quantized(spec)
    elif info.format in ("savedmodel", "tflite", "onnx"):
        result.notes.append(f"preprocessing inside a {info.format} graph is not analysed: only the signature is shown")
    elif info.format == "callable":
        result.notes.append("a user callable: its input signature and preprocessing are unknown")
    if spec is not None and result.expected is None and spec.dtype == "uint8":
        result.expected = ExpectedInput("uint8", (0.0, 255.0), "the input dtype is uint8")
    return result


def expected_input(runner: Any) -> ExpectedInput | None:
    """The expected input of a loaded runner for the range lint; None when unknown or on any error."""
    if runner is None:
        return None
    try:
        return inspect_runner(runner).expected
    except Exception:  # inspection is advisory: it must never break an audit
        return None


def _quantized(spec: TensorSpec) -> ExpectedInput:
    assert spec.quantization is not None
    scale, zero_point = spec.quantization
    info = np.iinfo(np.dtype(spec.dtype))
    return ExpectedInput(
        dtype=spec.dtype,
        range=(float(info.min), float(info.max)),
        because=f"quantized input (scale={g(scale)}, zero_point={zero_point}): {quantize_formula(scale, zero_point)}",
        mul=scale,
        add=-scale * zero_point,
        quantization=(scale, zero_point),
    )


def quantize_formula(scale: float, zero_point: int) -> str:
    """``q = round(x / 0.00392157)`` / ``q = round(x / 1) − 128``: how a float x becomes the input."""
    shift = "" if zero_point == 0 else f" {'+' if zero_point > 0 else '−'} {abs(zero_point)}"
    return f"q = round(x / {g(scale)}){shift}"


def _inspect_keras(model: Any, spec: TensorSpec, result: ModelInspection) -> None:
    walker = Walker()
    try:
        walker.walk(model)
    except Exception as exc:  # an unusual config: report it, keep the signature
        result.notes.append(f"could not read the preprocessing layers: {type(exc).__name__}: {exc}")
        return
    result.preprocessing = list(walker.steps)
    affine = walker.affine
    if affine.is_identity:
        if not walker.steps:
            result.notes.append(
                "no preprocessing layer after the input: the model expects whatever training fed it "
                "(skewcheck cannot tell the range from the model alone)"
            )
        return
    preset = match_preset(affine)
    rng = _pick_range(affine)
    because = " then ".join(affine.steps) + " inside"
    if preset is not None:
        because += f" (= keras.applications preprocess_input, mode '{preset}')"
    dtype = spec.dtype if spec.dtype != "any" else "float32"
    result.expected = ExpectedInput(
        dtype=dtype,
        range=rng,
        because=because,
        mul=float(np.mean(affine.a)),
        add=float(np.mean(affine.b)),
        preset=preset,
    )


def _pick_range(affine: Affine) -> tuple[float, float]:
    """Of [0, 255] and [0, 1], the input range that the network after the preprocessing sees as
    a normalised signal: a span near 1 (within a few units) and centred near 0."""
    best: tuple[float, tuple[float, float]] | None = None
    for lo, hi in _CANDIDATES:
        out_lo = np.minimum(affine.a * lo + affine.b, affine.a * hi + affine.b)
        out_hi = np.maximum(affine.a * lo + affine.b, affine.a * hi + affine.b)
        span = float(np.mean(out_hi - out_lo))
        center = float(np.mean((out_lo + out_hi) / 2))
        score = abs(math.log10(span)) if span > 0 else math.inf
        if abs(center) > max(3.0, span):
            score += 10.0
        if best is None or score < best[0]:
            best = (score, (lo, hi))
    assert best is not None
    return best[1]
