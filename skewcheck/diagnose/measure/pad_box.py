"""Padded regions of a tensor: whole rows and columns at its edges that hold one constant value.

The value fit keeps padding that both sides share out of its fit (fit.py), the padding detector
compares each side's framing (detectors/padding.py), and channel order is read on the content
only (detectors/channel_order.py).
"""

from __future__ import annotations

import numpy as np

MIN_PADDING = 2  # rows or columns of constant padding that count as a padded region


def padding(train: np.ndarray, serve: np.ndarray) -> tuple[int, int] | None:
    """(rows, columns) of the content when the bottom rows and/or right columns of both tensors
    (H×W or H×W×C) hold one constant value, the same on both sides; None when there is none."""
    if train.shape != serve.shape or train.ndim not in (2, 3) or min(train.shape[:2]) < 2 * MIN_PADDING:
        return None
    value = train[-1, -1]
    if not (_edge_equal(train[-1], value) and _edge_equal(serve[-1], value)) and not (
        _edge_equal(train[:, -1], value) and _edge_equal(serve[:, -1], value)
    ):
        return None  # neither the bottom row nor the right column is padding: no padded band
    same = (train == serve) & (train == value)
    if same.ndim == 3:
        same = same.all(axis=-1)
    h, w = same.shape
    cols = w - _trailing(same.all(axis=0))
    rows = h - _trailing(same[:, :cols].all(axis=1)) if cols > 0 else h
    if cols == w and rows == h:  # no padding; else the bottom band alone
        return None
    if w - cols < MIN_PADDING:
        cols = w
        rows = h - _trailing(same.all(axis=1))
    if h - rows < MIN_PADDING:
        rows = h
    if (rows, cols) == (h, w) or rows < MIN_PADDING or cols < MIN_PADDING:
        return None
    return rows, cols


def pad_box(x: np.ndarray) -> tuple[tuple[int, int, int, int], np.ndarray] | None:
    """Where one tensor (H×W or H×W×C) is padded: ((top, bottom, left, right) of the content, the
    pad value per channel) when whole rows and/or columns at its edges hold one constant value,
    on any side (right/bottom pad, centred letterbox, top/left); None when no edge is padded."""
    if x.ndim not in (2, 3) or min(x.shape[:2]) < 2 * MIN_PADDING:
        return None
    h, w = x.shape[:2]
    best: tuple[int, tuple[int, int, int, int], np.ndarray] | None = None
    edges = (x[0], x[-1], x[:, 0], x[:, -1])
    for corner in (x[-1, -1], x[0, 0], x[0, -1], x[-1, 0]):
        if not any(_edge_equal(edge, corner) for edge in edges):
            continue  # no whole edge row or column holds this value: nothing padded with it
        same = x == corner
        if same.ndim == 3:
            same = same.all(axis=-1)
        cols, rows = same.all(axis=0), same.all(axis=1)
        left, right = _leading(cols), _trailing(cols)
        if left + right >= w:
            continue  # a constant image: nothing tells content from padding
        top, bottom = _leading(rows), _trailing(rows)
        box = (top, h - bottom, left, w - right)
        area = h * w - (box[1] - box[0]) * (box[3] - box[2])
        if area and (best is None or area > best[0]):
            best = (area, box, np.atleast_1d(np.asarray(corner, dtype=np.float64)).copy())
    if best is None:
        return None
    top, bottom, left, right = best[1]
    if bottom - top < MIN_PADDING or right - left < MIN_PADDING:
        return None
    return best[1], best[2]


def _edge_equal(edge: np.ndarray, value: np.ndarray) -> bool:
    """Every pixel of one edge row or column equals ``value`` (a pixel)."""
    return bool(np.all(edge == value))


def common_pad_box(train: np.ndarray, serve: np.ndarray) -> tuple[int, int, int, int] | None:
    """The content box when both sides pad the same region, each with its own constant."""
    if train.shape != serve.shape:
        return None
    t, s = pad_box(train), pad_box(serve)
    if t is None or s is None or t[0] != s[0]:
        return None
    return t[0]


def _leading(flags: np.ndarray) -> int:
    """How many of ``flags`` are true at its start."""
    false = np.flatnonzero(~flags)
    return len(flags) if false.size == 0 else int(false[0])


def _trailing(flags: np.ndarray) -> int:
    """How many of ``flags`` are true at its end."""
    false = np.flatnonzero(~flags)
    return len(flags) if false.size == 0 else len(flags) - 1 - int(false[-1])
