"""dtype: the tensors (or a tensor and the model's input) have different dtypes.

Cause: float64 from NumPy arithmetic, raw uint8 from a decoder, float16 on a mobile path.
Evidence: the dtypes of train, serve and the model input. Fix: cast explicitly to the model's
dtype in the serving pipeline. At least major even when this model tolerates it: the next one
(or a TFLite/ONNX runtime) may not.
"""

from __future__ import annotations

import numpy as np

from skewcheck.diagnose.context import PairContext
from skewcheck.diagnose.registry import DetectorSpec
from skewcheck.diagnose.replay import Candidate, ReplayImage
from skewcheck.findings import Observation, Severity


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


def replay() -> list[Candidate]:
    """The black-box replay's candidate (skewcheck/diagnose/replay.py): train's tensor through float16."""
    return [
        Candidate(
            "float16",
            "dtype",
            {"serve_dtype": "float16"},
            "The serving stack rounds the input to float16: feed float32 as training does.",
            _float16,
        )
    ]


def _float16(t: np.ndarray, img: ReplayImage) -> np.ndarray | None:
    return t.astype(np.float16).astype(t.dtype) if np.issubdtype(t.dtype, np.floating) else None


SPEC = DetectorSpec(kinds=("dtype",), replay=replay)
