"""Value conventions that image pipelines map raw 0-255 RGB pixels to, with the exact constants.

Each preset is per-channel ``tensor = (x[order] * alpha - mean) / std`` on RGB input ``x``.
Constants as in ``keras.applications.imagenet_utils.preprocess_input`` (modes ``caffe``, ``tf``,
``torch``) and torchvision's ImageNet ``Normalize``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

IMAGENET_MEAN_RGB = (0.485, 0.456, 0.406)
IMAGENET_STD_RGB = (0.229, 0.224, 0.225)
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)


@dataclass(frozen=True)
class ValuePreset:
    name: str
    description: str
    alpha: float  # applied before mean/std
    mean: tuple[float, float, float]  # in the output channel order
    std: tuple[float, float, float]
    order: tuple[int, int, int] = (0, 1, 2)  # output channel c = input channel order[c]

    def apply(self, rgb: np.ndarray) -> np.ndarray:
        x = rgb[..., list(self.order)].astype(np.float64) * self.alpha
        return (x - np.array(self.mean)) / np.array(self.std)

    def invert(self, tensor: np.ndarray) -> np.ndarray:
        """Back to RGB in 0-255 (channels last)."""
        x = (tensor.astype(np.float64) * np.array(self.std) + np.array(self.mean)) / self.alpha
        inverse = np.argsort(self.order)
        return x[..., list(inverse)]


PRESETS: dict[str, ValuePreset] = {
    p.name: p
    for p in (
        ValuePreset("raw", "raw pixels in [0, 255]", 1.0, (0, 0, 0), (1, 1, 1)),
        ValuePreset("unit", "pixels / 255, in [0, 1]", 1 / 255, (0, 0, 0), (1, 1, 1)),
        ValuePreset("keras.tf", "Keras 'tf' mode: x / 127.5 - 1, in [-1, 1]", 1 / 127.5, (1, 1, 1), (1, 1, 1)),
        ValuePreset(
            "keras.torch",
            "Keras 'torch' mode / torchvision ImageNet: (x / 255 - mean) / std, RGB",
            1 / 255,
            IMAGENET_MEAN_RGB,
            IMAGENET_STD_RGB,
        ),
        ValuePreset(
            "keras.caffe",
            "Keras 'caffe' mode: RGB→BGR, minus the ImageNet BGR mean, no scaling",
            1.0,
            CAFFE_MEAN_BGR,
            (1, 1, 1),
            order=(2, 1, 0),
        ),
    )
}

# torchvision's transforms.Normalize(mean=IMAGENET_MEAN, std=IMAGENET_STD) after ToTensor() is the
# same arithmetic as keras.torch; reports name both.
ALIASES = {"keras.torch": "keras.torch / torchvision.imagenet"}


# Per-channel std vectors pipelines divide by (the presets' own, where not all ones).
STDS: dict[str, tuple[float, ...]] = {n: p.std for n, p in PRESETS.items() if p.std != (1, 1, 1)}


def std_factor(gains: tuple[float, ...], rel: float = 0.03) -> tuple[str, str] | None:
    """(preset, "skipped" | "twice") when serve = train × std (one side skips the division by the
    preset's std) or train ÷ std (it divides twice), channel by channel (the first channels of the
    std for a gray input), within ``rel``: another difference on the same pair (a resize, a crop)
    moves the fitted gains by a few percent. A per-channel gain that is no such std is None.
    """
    for name, std in STDS.items():
        ref = np.array(std[: len(gains)])
        g = np.array(gains)
        for how, want in (("skipped", ref), ("twice", 1 / ref)):
            if np.all(np.abs(g - want) <= rel * want):
                return name, how
    return None
