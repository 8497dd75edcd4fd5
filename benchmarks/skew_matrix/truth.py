"""What a case's audit *should* say, measured by the harness itself, not by skewcheck's detectors.

**Kinds.** A case's true kinds are the expected kinds (causes.py) of its *effective* causes: a
cause is effective when its serve pipeline alone (train's settings plus that one change) gives,
on at least one image, a tensor of another shape or dtype, or values outside skewcheck's own
equality tolerance (``|s - t| <= 1e-5 + 1e-5·|t|``, compare's ``atol`` / ``rtol`` defaults). A
cause that changes nothing on these images (EXIF ignored on untagged files, OpenCV decoding a
PNG) is *inert*: it adds no kind, and a case left with none must stay quiet.

**Should the gate fail (exit 1 at ``--fail-on major``)?** Yes when, on this case's images, any of
the documented gate rules (docs/findings.md, "Does the run fail?") holds, measured here:

1. a contract break: a serve tensor of another dtype or shape than train's;
2. one side failing where the other does not, on ≥ 1 % of the images;
3. gross inputs: ≥ 1 % of the images have an input distance under 18.1 dB, re-implemented here
   (the RMSE of the two tensors averaged over an 8 × 8 grid of cells, against the train tensor's
   value range; ``cell_distance_db``);
4. answers: with a model, the share of images whose answer changed (models.py's test per output
   kind) has a 95 % Wilson lower bound ≥ 1 % (one changed answer in 8 images is enough).

A case that meets none should pass. The rule is the gate's documented policy, not the truth of
what hurts in production; it is honest in the sense that it is measured without skewcheck's code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.skew_matrix import models

GROSS_DB = 18.1
ATOL = RTOL = 1e-5


def cell_distance_db(train: np.ndarray, serve: np.ndarray) -> float | None:
    """8 × 8 cell-mean RMSE against train's range, dB (None: not comparable; inf: equal)."""
    a, b = np.asarray(train, np.float64), np.asarray(serve, np.float64)
    if a.shape != b.shape or a.ndim not in (2, 3) or a.size == 0:
        return None
    if a.ndim == 3 and a.shape[0] <= 4 < a.shape[-1]:  # CHW → HWC
        a, b = np.moveaxis(a, 0, -1), np.moveaxis(b, 0, -1)
    lo, hi = float(a.min()), float(a.max())
    span = hi - lo if hi > lo else max(abs(hi), 1.0)

    def cells(x: np.ndarray) -> np.ndarray:
        rows = np.array_split(np.arange(x.shape[0]), min(8, x.shape[0]))
        cols = np.array_split(np.arange(x.shape[1]), min(8, x.shape[1]))
        return np.array([[x[r][:, c].mean(axis=(0, 1)) for c in cols] for r in rows])

    rmse = float(np.sqrt(np.mean((cells(a) - cells(b)) ** 2)))
    if not math.isfinite(rmse):
        return -math.inf
    return math.inf if rmse == 0 else 20 * math.log10(span / rmse)


def wilson_lower(k: int, n: int, z: float = 1.959964) -> float:
    if n == 0:
        return 0.0
    p = k / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, (centre - spread) / (1 + z * z / n))


def differs(t: Any, s: Any) -> bool:
    if isinstance(t, BaseException) or isinstance(s, BaseException):
        return isinstance(t, BaseException) != isinstance(s, BaseException)
    if t.shape != s.shape or t.dtype != s.dtype:
        return True
    t64, s64 = t.astype(np.float64), s.astype(np.float64)
    return not bool(np.all(np.abs(s64 - t64) <= ATOL + RTOL * np.abs(t64)))


def run_all(fn: Any, files: list[str]) -> list[Any]:
    out: list[Any] = []
    for f in files:
        try:
            out.append(fn(f))
        except Exception as exc:  # noqa: BLE001 - a pipeline failing on a file is a measured outcome
            out.append(exc)
    return out


@dataclass
class Truth:
    kinds: list[str] = field(default_factory=list)  # expected kinds of the effective causes
    accepted: list[str] = field(default_factory=list)  # other kinds that name them correctly
    inert: list[str] = field(default_factory=list)  # causes that changed no tensor
    cause_db: dict[str, float | None] = field(default_factory=dict)  # median distance per cause alone
    equal: bool = True  # serve == train within tolerance on every image
    contract: bool = False
    one_side_fails: int = 0
    gross: int = 0
    answers_changed: int | None = None
    images: int = 0
    should_fail: bool = False
    why: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _median_db(train: list[Any], serve: list[Any]) -> float | None:
    ds = [cell_distance_db(t, s) for t, s in zip(train, serve, strict=True) if not isinstance(t, BaseException)]
    ds = [d for d in ds if d is not None]
    return float(np.median(ds)) if ds else None


def _answers(model: str, folder: Path, train: list[Any], serve: list[Any]) -> int | None:
    """Images whose answer changed (None: the model cannot take both sides' tensors)."""
    from benchmarks.skew_matrix.models import runner

    spec = runner(model, folder).info.inputs[0]
    pairs = [(t, s) for t, s in zip(train, serve, strict=True) if not isinstance(t, BaseException)]
    pairs = [(t, s) for t, s in pairs if not isinstance(s, BaseException)]

    def fits(x: np.ndarray) -> bool:
        want = spec.shape[1:] if len(spec.shape) == x.ndim + 1 else None
        return want is not None and all(w is None or w == g for w, g in zip(want, x.shape, strict=True))

    if not pairs or not all(fits(t) and fits(s) for t, s in pairs):
        return None
    n = 0
    same_shape = len({t.shape for t, _ in pairs}) == 1
    groups = [pairs] if same_shape else [[p] for p in pairs]
    for group in groups:
        tb = models.predict(model, folder, np.stack([t for t, _ in group]))
        sb = models.predict(model, folder, np.stack([s for _, s in group]))
        n += sum(models.changed(model, tb, sb, i) for i in range(len(group)))
    return n


def measure(
    files: list[str],
    train_fn: Any,
    serve_fn: Any,
    causes: dict[str, tuple[Any, str, tuple[str, ...]]],
    model: str | None,
    folder: Path,
) -> Truth:
    """``causes``: name → (the serve pipeline with that cause alone, its kind, accepted kinds)."""
    train = run_all(train_fn, files)
    serve = run_all(serve_fn, files)
    truth = Truth(images=len(files))
    for name, (alone, kind, accepted) in causes.items():
        single = serve if len(causes) == 1 else run_all(alone, files)
        if any(differs(t, s) for t, s in zip(train, single, strict=True)):
            if kind not in truth.kinds:
                truth.kinds.append(kind)
            truth.accepted += [k for k in accepted if k not in truth.accepted]
            truth.cause_db[name] = _median_db(train, single)
        else:
            truth.inert.append(name)
    truth.equal = not any(differs(t, s) for t, s in zip(train, serve, strict=True))
    for t, s in zip(train, serve, strict=True):
        if isinstance(t, BaseException) != isinstance(s, BaseException):
            truth.one_side_fails += 1
        elif not isinstance(t, BaseException):
            if t.shape != s.shape or t.dtype != s.dtype:
                truth.contract = True
            else:
                d = cell_distance_db(t, s)
                truth.gross += int(d is not None and d < GROSS_DB)
    if model is not None and not truth.equal:
        truth.answers_changed = _answers(model, folder, train, serve)
    n = len(files)
    if truth.contract:
        truth.why.append("contract")
    if n and truth.one_side_fails / n >= 0.01:
        truth.why.append("one side fails")
    if n and truth.gross / n >= 0.01:
        truth.why.append("gross inputs")
    if truth.answers_changed and wilson_lower(truth.answers_changed, n) >= 0.01:
        truth.why.append("answers changed")
    truth.should_fail = bool(truth.why)
    return truth
