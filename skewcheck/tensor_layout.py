"""The one rule for telling an image tensor's channel axis: CHW or HWC, with 1, 3 or 4 channels.

Diagnosis, repairs, thumbnails and the model-input adaptation all ask it; a second copy with
another channel list would make one stage call a tensor CHW that the next calls HWC.
"""

from __future__ import annotations

import numpy as np

CHANNEL_COUNTS = (1, 3, 4)  # gray, RGB/BGR, RGBA


def is_chw(t: np.ndarray) -> bool:
    """Three axes, a channel count first and none last: C×H×W (a 3×48×192 crop, a 1×64×64 face)."""
    return t.ndim == 3 and t.shape[0] in CHANNEL_COUNTS and t.shape[-1] not in CHANNEL_COUNTS


def channels_last(t: np.ndarray) -> np.ndarray:
    """``t`` as H×W×C when it is C×H×W, else unchanged (a view, no copy)."""
    return np.moveaxis(t, 0, -1) if is_chw(t) else t
