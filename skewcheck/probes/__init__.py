"""Probe images: files that expose decode-level training-serving skew, with a manifest.

Public API (used by ``compare`` and ``probe-images``)::

    write_probes(out_dir, *, source_dir=None, kinds=None, seed=0) -> list[ProbeEntry]
    builtin_probe_dir() -> Path
    load_manifest(images_dir) -> dict[str, ProbeEntry]

Only Pillow, NumPy and zlib are used: generating probes never imports TensorFlow or OpenCV.
"""

from skewcheck.probes.catalogue import KINDS, KINDS_BY_NAME, select_kinds
from skewcheck.probes.model import CATEGORIES, EXPECTS, Kind, ProbeEntry, base_file
from skewcheck.probes.writer import (
    MANIFEST,
    ProbeSet,
    builtin_probe_dir,
    cache_root,
    images_root,
    load_manifest,
    write_probe_set,
    write_probes,
)

__all__ = [
    "CATEGORIES",
    "EXPECTS",
    "KINDS",
    "KINDS_BY_NAME",
    "MANIFEST",
    "Kind",
    "ProbeEntry",
    "ProbeSet",
    "base_file",
    "builtin_probe_dir",
    "images_root",
    "cache_root",
    "load_manifest",
    "select_kinds",
    "write_probe_set",
    "write_probes",
]
