"""The model stage every engine runs: one chunk of pairs, one batched model call per side.

The local engines' audit loop (skewcheck/audit.py) and Ray's ``ModelStage`` actors
(skewcheck/engines/ray_stages.py) both call :func:`predict_chunk`, so the model sees the same
batches whichever engine runs it. Train's side goes first: a live endpoint standing as the serve
side (``serve_source``) reads what train's answers look like to parse its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from skewcheck.comparison.predict import SidePrediction, predict_side

if TYPE_CHECKING:
    from skewcheck.images.source import ImageFile
    from skewcheck.pipelines.outcome import Outcome


def predict_chunk(
    runner: Any,
    outcomes: Sequence[Mapping[str, Outcome]],
    serve_source: Any = None,
    files: Sequence[ImageFile] | None = None,
) -> list[dict[str, SidePrediction | None]]:
    """Per pair, each side's prediction: ``runner`` on the side's tensor (None where the pipeline
    failed), or for serve the endpoint's answer for the file (``serve_source.predict``)."""
    out: list[dict[str, SidePrediction | None]] = [{} for _ in outcomes]
    for side in ("train", "serve"):
        if side == "serve" and serve_source is not None:
            train = [slot.get("train") for slot in out]
            preds = serve_source.predict(list(files or ()), [o["serve"] for o in outcomes], train)
        else:
            preds = predict_side(runner, [o[side].tensor if o[side].ok else None for o in outcomes])
        for slot, pred in zip(out, preds, strict=True):
            slot[side] = pred
    return out
