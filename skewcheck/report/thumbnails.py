"""A few example images per finding, kept while the audit streams: small PNGs, encoded at once.

Memory stays flat whatever the number of images: at most ``PER_FINDING`` examples for each of at
most ``MAX_FINDINGS`` finding keys, each example three thumbnails of at most ``THUMB_SIDE`` px
(train, serve, |diff| heat map) as PNG bytes. Full tensors are never kept.

Tensors are made viewable, not faithful: each is min-max scaled to 0-255 on its own (so a /255
bug looks the same on both sides: the captions carry the value ranges), CHW is moved to HWC, and
channels are shown in the order they are stored (a BGR tensor is drawn as if it were RGB, so a
channel swap shows as swapped colours).
"""

from __future__ import annotations

import base64
import heapq
import io
import json
from collections.abc import Callable
from typing import Any

import numpy as np

from skewcheck.tensor_layout import CHANNEL_COUNTS, channels_last

PER_FINDING = 3
MAX_FINDINGS = 64
THUMB_SIDE = 128

# The "inferno" colour map at five anchors: black → purple → red → orange → pale yellow.
_HEAT = np.array([[0, 0, 4], [87, 16, 110], [188, 55, 84], [249, 142, 9], [252, 255, 164]], dtype=np.float64)


def example_key(key: tuple[Any, ...]) -> str:
    """``Observation.key`` (= ``Finding.key``: equal keys merge into one Finding) as a dict key for JSON."""
    return json.dumps(list(key), default=str)


def to_hwc(tensor: np.ndarray) -> np.ndarray | None:
    """H×W or H×W×C (C = 1, 3 or 4) float64, or None when the tensor is not an image."""
    t = np.asarray(tensor)
    if t.dtype == bool:
        t = t.astype(np.uint8)
    if not np.issubdtype(t.dtype, np.number) or np.iscomplexobj(t):
        return None
    while t.ndim > 3 and t.shape[0] == 1:
        t = t[0]
    t = channels_last(t)
    if t.ndim == 3 and t.shape[-1] not in CHANNEL_COUNTS:
        t = t[..., 0]  # many channels: show the first
    if t.ndim not in (2, 3) or min(t.shape[:2]) < 1:
        return None
    step = -(-max(t.shape[:2]) // (2 * THUMB_SIDE))  # ceil
    if step > 1:  # a big image: a strided view is plenty for a thumbnail (and no full-size float64 copy)
        t = t[::step, ::step]
    return np.nan_to_num(t.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)


def viewable(tensor: np.ndarray) -> np.ndarray | None:
    """uint8 H×W or H×W×3: min-max per tensor to 0-255 (alpha dropped, single channel as grey)."""
    t = to_hwc(tensor)
    if t is None:
        return None
    if t.ndim == 3:
        t = t[..., 0] if t.shape[-1] == 1 else t[..., :3]
    lo, hi = float(t.min()), float(t.max())
    scaled = (t - lo) / (hi - lo) * 255 if hi > lo else np.zeros_like(t)
    return np.round(scaled).astype(np.uint8)


def heat_map(train: np.ndarray, serve: np.ndarray) -> tuple[np.ndarray, float] | None:
    """|serve - train| averaged over channels, coloured from 0 (black) to its maximum (pale yellow).
    The maximum returned is over the pixels drawn (a strided grid for images over 256 px)."""
    a, b = to_hwc(train), to_hwc(serve)
    if a is None or b is None or a.shape != b.shape:
        return None
    diff = np.abs(b - a)
    peak = float(diff.max()) if diff.size else 0.0
    if diff.ndim == 3:
        diff = diff.mean(axis=-1)
    level = diff / peak if peak > 0 else np.zeros_like(diff)
    anchors = np.linspace(0, 1, len(_HEAT))
    rgb = np.stack([np.interp(level, anchors, _HEAT[:, c]) for c in range(3)], axis=-1)
    return np.round(rgb).astype(np.uint8), peak


def png_base64(image: np.ndarray) -> str:
    from PIL import Image

    im = Image.fromarray(image)
    if max(im.size) > THUMB_SIDE:
        im.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.BILINEAR)
    buf = io.BytesIO()
    im.save(buf, format="PNG", optimize=True)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def side_view(tensor: np.ndarray | None, summary: dict[str, Any]) -> dict[str, Any]:
    """One side of an example: its thumbnail (or None) and what the report says about it."""
    image = viewable(tensor) if tensor is not None else None
    out: dict[str, Any] = {
        k: summary[k] for k in ("status", "shape", "dtype", "range", "error_type", "error") if k in summary
    }
    out["png"] = png_base64(image) if image is not None else None
    return out


def make_example(
    path: str,
    train: np.ndarray | None,
    serve: np.ndarray | None,
    aligned_serve: np.ndarray | None,
    summaries: dict[str, dict[str, Any]],
    flipped: bool,
    max_abs: float | None = None,
) -> dict[str, Any]:
    """``max_abs``: the pair's exact max |serve - train| when the audit measured it."""
    example: dict[str, Any] = {
        "path": path,
        "flipped": flipped,
        "train": side_view(train, summaries["train"]),
        "serve": side_view(serve, summaries["serve"]),
        "diff": None,
    }
    if train is not None and aligned_serve is not None:
        heat = heat_map(train, aligned_serve)
        if heat is not None:
            example["diff"] = {"png": png_base64(heat[0]), "max_abs": heat[1] if max_abs is None else max_abs}
    return example


class ExampleStore:
    """For each finding key, the ``PER_FINDING`` highest-scoring examples seen so far."""

    def __init__(self) -> None:
        self._kept: dict[str, list[tuple[tuple[float, ...], int, dict[str, Any]]]] = {}
        self._seen = 0

    def offer(self, key: str, score: tuple[float, ...], make: Callable[[], dict[str, Any]]) -> None:
        """``make`` builds the thumbnails; it runs only when the example is kept."""
        self._seen += 1
        heap = self._kept.get(key)
        if heap is None:
            if len(self._kept) >= MAX_FINDINGS:
                return
            heap = self._kept[key] = []
        item_key = (score, -self._seen)
        if len(heap) >= PER_FINDING and item_key <= heap[0][:2]:
            return
        item = (score, -self._seen, make())
        if len(heap) < PER_FINDING:
            heapq.heappush(heap, item)
        else:
            heapq.heapreplace(heap, item)

    def offer_image(
        self,
        path: str,
        keys: list[str],
        score: tuple[float, ...],
        tensors: tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None],
        record: dict[str, Any],
        flipped: bool,
    ) -> None:
        """Offer one image to each of its findings' example slots while its tensors (train, serve,
        serve aligned to train) still exist; its thumbnails are drawn at most once."""
        made: list[dict[str, Any]] = []

        def make() -> dict[str, Any]:
            if not made:
                summaries = {side: record[side] for side in ("train", "serve")}
                max_abs = record["metrics"].get("tensor", {}).get("max_abs_diff")
                made.append(make_example(path, *tensors, summaries, flipped, max_abs))
            return made[0]

        for key in keys:
            self.offer(key, score, make)

    def to_dict(self) -> dict[str, list[dict[str, Any]]]:
        """Finding key → its examples, worst first."""
        return {
            key: [e for _, _, e in sorted(heap, key=lambda x: x[:2], reverse=True)] for key, heap in self._kept.items()
        }
