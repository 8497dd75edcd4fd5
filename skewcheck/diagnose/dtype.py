"""dtype: the tensors (or a tensor and the model's input) have different dtypes.

Cause: float64 from NumPy arithmetic, raw uint8 from a decoder, float16 on a mobile path.
Evidence: the dtypes of train, serve and the model input. Fix: cast explicitly to the model's
dtype in the serving pipeline. At least major even when this model tolerates it: the next one
(or a TFLite/ONNX runtime) may not.
"""

from __future__ import annotations

from skewcheck.diagnose.context import PairContext
from skewcheck.diagnose.registry import DetectorSpec
from skewcheck.findings import Observation, Severity

SPEC = DetectorSpec(kinds=("dtype",))


def detect(ctx: PairContext) -> list[Observation]:
    if not ctx.both_ok:
        return []
    assert ctx.train.tensor is not None and ctx.serve.tensor is not None
    dt, ds = str(ctx.train.tensor.dtype), str(ctx.serve.tensor.dtype)
    expected = ctx.model_dtype
    observations = []
    if expected is not None:
        for side, got in (("train", dt), ("serve", ds)):
            if got != expected:
                observations.append(_observation(side, dt, ds, expected))
    elif dt != ds:
        observations.append(_observation("serve", dt, ds, None))
    return observations


def _observation(side: str, dt: str, ds: str, model: str | None) -> Observation:
    evidence = {"train": dt, "serve": ds}
    target = model or dt
    if model is not None:
        evidence["model"] = model
    got = dt if side == "train" else ds
    where = f"the model's input is {model}" if model else f"train gives {dt}"
    return Observation(
        "dtype",
        Severity.MAJOR,
        side,
        evidence,
        f"{side} gives {got} tensors while {where}.",
        f"Cast the {side} tensor to {target} explicitly (x.astype(np.{target}) / tf.cast(x, tf.{target})).",
        1.0,
        repair=("dtype",),
    )
