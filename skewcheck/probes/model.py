"""Plain types of the probe set: what a generator returns and what the manifest records."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

Expect = Literal["same-as-base", "reject", "either"]
EXPECTS: tuple[str, ...] = ("same-as-base", "reject", "either")

CATEGORIES: tuple[str, ...] = (
    "clean",
    "truncated",
    "corrupt",
    "icc",
    "exif",
    "format",
    "alpha",
    "size",
    "sentinel",
)
#: Reference images get their own category; they are written whenever a probe names their base.
BASE_CATEGORY = "base"
BASE_KIND = "base"


@dataclass(frozen=True)
class ProbeEntry:
    """One file of a probe set, as recorded in ``manifest.json``.

    ``base`` names the image a correct decoder should reproduce; its pixels are the plain 8-bit
    RGB PNG ``bases/<base>.png`` (see :func:`base_file`). ``expect`` is ``same-as-base`` (decoded
    to 8-bit RGB, the file matches the base within every bound in ``tolerance``), ``reject`` (a
    correct pipeline refuses the file) or ``either`` (several behaviours are defensible; ``note``
    says which). ``tolerance`` keys: ``max_abs`` (largest absolute difference of any channel of any
    pixel, 0-255 scale) and ``mean_abs`` (mean absolute difference over all channels and pixels).
    """

    file: str
    kind: str
    category: str
    base: str | None
    expect: Expect
    tolerance: dict[str, float] | None
    note: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "kind": self.kind,
            "category": self.category,
            "base": self.base,
            "expect": self.expect,
            "tolerance": dict(self.tolerance) if self.tolerance is not None else None,
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProbeEntry:
        tolerance = data.get("tolerance")
        return cls(
            file=str(data["file"]),
            kind=str(data["kind"]),
            category=str(data["category"]),
            base=data.get("base"),
            expect=data["expect"],
            tolerance=dict(tolerance) if tolerance is not None else None,
            note=str(data.get("note", "")),
        )


def base_file(base: str) -> str:
    """Path, relative to a probe directory, of the reference PNG of ``base``."""
    return f"bases/{base}.png"


@dataclass(frozen=True, eq=False)
class Base:
    """A base image: 8-bit RGB pixels (H, W, 3) and a stable name used in file names.

    ``photo`` bases (bundled photos or the user's images) get every per-base kind; synthetic
    sentinels are made by their own kinds.
    """

    name: str
    rgb: np.ndarray
    source: str


@dataclass(frozen=True, eq=False)
class Probe:
    """What a generator returns for one file, before the registry adds kind and category.

    ``suffix`` is the end of the file name: the extension, with a variant before it when a kind
    writes several files (``"jpg"``, ``"cut10.jpg"``); the writer names the file
    ``<category>/<photo>.<kind>.<suffix>`` (``<category>/<kind>.<suffix>`` for kinds that are
    not per base). ``reference`` carries the pixels of ``base`` when
    the base is derived by the generator itself (e.g. the luminance of a photo, a sentinel), so
    that the writer can store ``bases/<base>.png``.
    """

    suffix: str
    data: bytes
    expect: Expect
    note: str
    base: str | None = None
    tolerance: dict[str, float] | None = None
    reference: np.ndarray | None = field(default=None, repr=False)


@dataclass(frozen=True)
class GenContext:
    """Settings shared by all generators of one run."""

    seed: int

    def rng(self, *keys: str) -> np.random.Generator:
        """A generator seeded by the run's seed and stable keys (never Python's salted hash)."""
        import zlib

        return np.random.default_rng([self.seed, *(zlib.crc32(k.encode()) for k in keys)])


@dataclass(frozen=True)
class Kind:
    """A catalogue entry: a named generator with a one-line description for ``--list``.

    ``per_base`` kinds are called once for every photo base (bundled, or the user's with
    ``--from``); the others once per run (synthetic sentinels, size traps, non-images).
    """

    name: str
    category: str
    description: str
    generate: Callable[..., list[Probe]]
    per_base: bool
