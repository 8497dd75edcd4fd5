"""What is left between the two tensors once the value convention (scale, presets…) is fitted.

Detectors of resampling, decoding, alpha and colour differences read these statistics: how big
the residual is on a 0-255 scale, and whether it sits on edges (resampling) or is spread evenly
(decoder arithmetic).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ResidualStats:
    residual: np.ndarray  # H×W×C, serve - predicted serve
    mean_abs_255: float  # mean |residual| on a 0-255 scale of the serve tensor's range
    max_abs_255: float
    edge_ratio: float  # mean |residual| on the strongest 20 % edges / on the flattest half

    @property
    def significant(self) -> bool:
        return self.mean_abs_255 >= 0.1


def residual_stats(serve: np.ndarray, predicted: np.ndarray) -> ResidualStats | None:
    if serve.shape != predicted.shape or serve.ndim < 2 or serve.size == 0:
        return None
    r = serve - predicted
    span = float(serve.max() - serve.min()) or 1.0
    to255 = 255.0 / span
    image = predicted if predicted.ndim == 2 else predicted.mean(axis=-1)
    if min(image.shape[:2]) >= 3:
        gy, gx = np.gradient(image)
        grad = np.hypot(gx, gy)
        absr = np.abs(r) if r.ndim == 2 else np.abs(r).mean(axis=-1)
        hi = grad >= np.quantile(grad, 0.8)
        lo = grad <= np.quantile(grad, 0.5)
        edge_ratio = float(absr[hi].mean() / max(absr[lo].mean(), 1e-12)) if hi.any() and lo.any() else 1.0
    else:
        edge_ratio = 1.0
    return ResidualStats(
        residual=r,
        mean_abs_255=float(np.abs(r).mean()) * to255,
        max_abs_255=float(np.abs(r).max()) * to255,
        edge_ratio=min(edge_ratio, 1e6),
    )
