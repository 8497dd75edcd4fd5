"""Keep one pipeline's process-wide decoder settings from leaking into the other.

In production the training and the serving pipeline run in different processes; here they share
one. A serving pipeline that sets ``ImageFile.LOAD_TRUNCATED_IMAGES = True`` (at import or on its
first call) would otherwise make the training side accept truncated files too, and hide exactly
the decode-tolerance skew the audit is looking for. Each pipeline keeps its own copy of these
settings, applied around its calls, as if it had a process of its own.
"""

from __future__ import annotations

from typing import Any

from PIL import Image, ImageFile

# (module, attribute) pairs that change how every later decode in the process behaves.
SETTINGS: tuple[tuple[Any, str], ...] = (
    (ImageFile, "LOAD_TRUNCATED_IMAGES"),
    (Image, "MAX_IMAGE_PIXELS"),
)


def read_settings() -> tuple[Any, ...]:
    return tuple(getattr(module, name) for module, name in SETTINGS)


def apply_settings(values: tuple[Any, ...]) -> None:
    for (module, name), value in zip(SETTINGS, values, strict=True):
        setattr(module, name, value)


class DecoderSettings:
    """One pipeline's view of the process-wide settings, swapped in around each of its calls."""

    def __init__(self, own: tuple[Any, ...]) -> None:
        self.own = own

    def __enter__(self) -> None:
        self._outside = read_settings()
        apply_settings(self.own)

    def __exit__(self, *exc: object) -> None:
        self.own = read_settings()  # what the pipeline set stays its own, like state in its process
        apply_settings(self._outside)
