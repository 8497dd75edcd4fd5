"""Align two traces and find the first serve line whose value no train line produced.

Two digests match when their values are equal within tolerance after the alignments skewcheck
knows, each named by a component: ``dtype`` (compared as numbers, whatever the dtype), ``scale``
(serve = 255 x train, or train / 255), ``layout`` (HWC <-> CHW, or a channel axis of 1) and
``channels`` (RGB <-> BGR). Shapes must agree after the layout; the points compared are the
digests' samples (the same points for two arrays of one shape) and their means.

The rule (:func:`locate`): the last serve snapshot that matches a train snapshot, and the latest
train snapshot it matches, mark how far the two sides agree. The divergence is the serve snapshot
right after it (the first serve line whose value matches no train value, after the last one that
does), facing the first train snapshot after the matched one that changes the value. When
serve's last value matches train's last value, there is no divergence under those alignments.

Each cause is located with every alignment allowed except its own: the ``scale`` finding of a
missing ``/ 255`` is located where the values stop matching unless rescaled, while a ``resize``
finding is located where they stop matching under any alignment (``CONTENT``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from skewcheck.trace.digest import Digest
from skewcheck.trace.recorder import Snapshot

COMPONENTS = frozenset({"dtype", "scale", "layout", "channels"})
CONTENT = "content"  # every alignment allowed: where the image content itself first differs
TOLERANCE = 0.005  # of the train value's range: 1.3 levels of 255 (uint8 rounding passes, a resize does not)
_SCALES = ((None, 1.0), ("scale", 255.0), ("scale", 1 / 255))

Alignment = frozenset[str]


def alignments(train: Digest, serve: Digest) -> list[Alignment]:
    """Every set of components under which ``serve`` equals ``train`` (empty set: as is)."""
    found: list[Alignment] = []
    dtype = {"dtype"} if train.dtype != serve.dtype else set()
    tol = TOLERANCE * max(train.span, abs(train.mean) * 1e-3, 1e-6)
    for layout, sample in _layouts(train, serve):
        for channels, ordered in _channel_orders(train.shape, sample):
            for scale, k in _SCALES:
                if abs(train.mean - serve.mean / k) > tol:
                    continue
                with np.errstate(all="ignore"):
                    worst = float(np.max(np.abs(train.sample - ordered / np.float32(k)), initial=0.0))
                if worst <= tol:
                    found.append(frozenset(dtype | {c for c in (layout, channels, scale) if c}))
    return found


def _layouts(train: Digest, serve: Digest) -> Iterator[tuple[str | None, np.ndarray]]:
    t, s = train.shape, serve.shape
    if s == t:
        yield None, serve.sample
    elif len(s) == len(t) == 3 and s == (t[2], t[0], t[1]):  # serve CHW, train HWC
        yield "layout", serve.sample.transpose(1, 2, 0)
    elif len(s) == len(t) == 3 and s == (t[1], t[2], t[0]):  # serve HWC, train CHW
        yield "layout", serve.sample.transpose(2, 0, 1)
    elif _squeezed(s) == _squeezed(t):  # a channel axis of 1 on one side only
        yield "layout", serve.sample.reshape(train.sample.shape)


def _squeezed(shape: tuple[int, ...]) -> tuple[int, ...]:
    if len(shape) == 3 and shape[-1] == 1:
        return shape[:2]
    if len(shape) == 3 and shape[0] == 1:
        return shape[1:]
    return shape


def _channel_orders(shape: tuple[int, ...], sample: np.ndarray) -> Iterator[tuple[str | None, np.ndarray]]:
    yield None, sample
    if len(shape) != 3:
        return
    axis = 2 if shape[2] in (3, 4) else 0 if shape[0] in (3, 4) else None
    if axis is None:
        return
    order = [2, 1, 0] + ([3] if shape[axis] == 4 else [])
    yield "channels", np.take(sample, order, axis=axis)


@dataclass(frozen=True)
class Divergence:
    train: Snapshot
    serve: Snapshot


class TraceAlignment:
    """The match table of one image's two traces, computed once, asked per cause."""

    def __init__(self, train: Sequence[Snapshot], serve: Sequence[Snapshot]) -> None:
        self.train, self.serve = list(train), list(serve)
        self._table = [[alignments(t.digest, s.digest) for t in self.train] for s in self.serve]

    def locate(self, allowed: Alignment) -> Divergence | None:
        """The first divergence when the components in ``allowed`` are aligned away; None when
        the sides end equal (or a side recorded nothing)."""
        if not self.train or not self.serve:
            return None
        last, matched = None, -1
        for j, row in enumerate(self._table):
            hits = [i for i, found in enumerate(row) if any(a <= allowed for a in found)]
            if hits:
                last, matched = j, max(hits)
        end_t, end_s = len(self.train) - 1, len(self.serve) - 1
        if last == end_s and matched == end_t:
            return None
        if last is None:  # serve's very first value is already another image
            return Divergence(self.train[0], self.serve[0])
        serve_at = min(last + 1, end_s)
        return Divergence(self.train[self._next_change(matched)], self.serve[serve_at])

    def _next_change(self, i: int) -> int:
        """The first train snapshot after ``i`` whose value differs from snapshot ``i``'s."""
        base = self.train[i].digest
        for later in range(i + 1, len(self.train)):
            if frozenset() not in alignments(base, self.train[later].digest):
                return later
        return len(self.train) - 1
