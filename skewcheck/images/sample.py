"""``--sample``: audit a seeded, stratified sample of a large image folder.

The sample is drawn per stratum (a probe kind, a label, or both; one stratum when the folder
has neither) in proportion to the stratum's size, at least one image from every stratum while
the sample is as large as the number of strata, by a generator seeded with ``--seed``: the same
folder and seed give the same images, whatever the engine or the number of workers. The
images keep the folder's order. Two passes over the folder (count, then pick): no list of a
million paths is kept, only one index array per stratum.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator

import numpy as np

from skewcheck.errors import UsageError
from skewcheck.images.source import ImageFile, ImageRoot, relative_name

Stratum = tuple[str | None, str | None]  # (probe kind, label)


def parse_sample(value: int | float | str | None) -> int | float | None:
    """A count (``1000``), a fraction (``0.01``) or a percentage (``1%``); None: every image."""
    if value is None:
        return None
    text = str(value).strip()
    try:
        parsed: float = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise UsageError(f"--sample must be a number of images, a fraction or a percentage, got {value!r}") from None
    if not math.isfinite(parsed):  # inf, 1e400, inf%: no count of images
        raise UsageError(f"--sample must be a finite number of images, fraction or percentage, got {value!r}")
    if parsed >= 1 and parsed == int(parsed) and not text.endswith("%"):
        return int(parsed)
    if 0 < parsed < 1:
        return parsed
    raise UsageError(f"--sample must be a whole number of images (1 or more) or a fraction in (0, 1), got {value!r}")


class SampledFiles:
    """The sampled subset of ``files``, re-iterable, with a length, in the folder's order."""

    def __init__(
        self,
        files: Iterable[ImageFile],
        root: ImageRoot,
        size: int | float,
        seed: int,
        stratum_of: Callable[[str], Stratum],
    ) -> None:
        self._files, self._root, self._stratum_of = files, root, stratum_of
        counts: dict[Stratum, int] = {}
        for path in files:
            key = stratum_of(self._name(path))
            counts[key] = counts.get(key, 0) + 1
        self.of = sum(counts.values())
        wanted = size if isinstance(size, int) else max(1, round(size * self.of))
        self.size = min(wanted, self.of)
        allocation = _allocate(counts, self.size)
        rng = np.random.default_rng(seed)
        # sorted strata: the draw does not depend on the order the folder was walked in
        self._chosen = {
            key: set(rng.choice(counts[key], allocation[key], replace=False).tolist())
            for key in sorted(counts, key=repr)
        }
        self.strata = {repr_stratum(key): allocation[key] for key in sorted(counts, key=repr)}

    def _name(self, file: ImageFile) -> str:
        return relative_name(file, self._root)

    def __iter__(self) -> Iterator[ImageFile]:
        seen: dict[Stratum, int] = {}
        for path in self._files:
            key = self._stratum_of(self._name(path))
            index = seen.get(key, 0)
            seen[key] = index + 1
            if index in self._chosen.get(key, ()):
                yield path

    def __len__(self) -> int:
        return self.size

    def __getattr__(self, name: str):  # e.g. ``discovery`` of the folder's ImageFiles
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._files, name)

    def summary(self, seed: int, by: list[str]) -> dict[str, object]:
        """The report's ``summary.sample`` (the intervals are added by the audit)."""
        return {"images": self.size, "of": self.of, "seed": seed, "stratified_by": by, "strata": self.strata}


def _allocate(counts: dict[Stratum, int], size: int) -> dict[Stratum, int]:
    """Proportional allocation by largest remainder, at least one per stratum when size allows."""
    total = sum(counts.values())
    keys = sorted(counts, key=repr)
    floor = {k: min(counts[k], int(size * counts[k] / total)) for k in keys}
    if size >= len(keys):
        for k in keys:
            floor[k] = max(floor[k], 1)
    left = size - sum(floor.values())
    order = sorted(keys, key=lambda k: (-(size * counts[k] / total - int(size * counts[k] / total)), repr(k)))
    while left > 0:
        for k in order:
            if left == 0:
                break
            if floor[k] < counts[k]:
                floor[k] += 1
                left -= 1
    while left < 0:  # the minimum of one each took more than the sample: trim the largest strata
        k = max(keys, key=lambda k: (floor[k], repr(k)))
        floor[k] -= 1
        left += 1
    return floor


def repr_stratum(key: Stratum) -> str:
    kind, label = key
    parts = [f"probe {kind}" if kind is not None else None, f"label {label}" if label is not None else None]
    return ", ".join(p for p in parts if p) or "all images"
