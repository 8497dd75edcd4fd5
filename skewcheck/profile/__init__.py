"""Profiles of real (production) inputs, without a model: formats, EXIF, ICC, sizes, truncation,
pixel statistics, and their drift from a reference set (docs/profile.md).

Public API::

    profile(images, reference=None, *, sample=None, pixel_sample=500, seed=0, workers="auto") -> Profile
    skewcheck.profile.traffic.load_profile(path) -> dict   # a profile JSON, for compare --traffic

Pillow and NumPy only: profiling never imports TensorFlow or OpenCV.
"""

from skewcheck.profile.model import SCHEMA, Profile
from skewcheck.profile.run import profile

__all__ = ["SCHEMA", "Profile", "profile"]
