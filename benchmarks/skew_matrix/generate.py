"""The case generator: families × model input kinds × causes (alone, in pairs) and equivalent ports.

``cases(seed)`` is deterministic. For each image family and spec (model input kind):

- every applicable single cause (causes.py), with the many-variant ones sampled (5 of the 12
  resize methods per family and spec; all 5 gray formulas on the gray spec); the family-bound
  causes (EXIF, ICC, alpha) also once on ``photos``, where they are inert;
- ``PAIRS`` random pairs of compatible effective-looking causes (different settings, different kinds);
- every applicable equivalent port;
- a model for about ``MODEL_SHARE`` of the cases, drawn from the spec's models (causes.py), so
  prediction-based severity is exercised; the rest are tensor-only audits (``model="none"``).

The ``large`` family (2000-4000 px) gets 3 specs, 8 single causes, 2 pairs and 2 ports, to stay fast.

``write_modules(cases, folder, repo)`` writes one Python module per family, ``m_<family>.py``, with
a module-level pipeline per spec (``train_<spec>``), per case (``c00042``) and, for pair cases,
per cause alone (``c00042__<n>``): ``make(**settings)`` closures (ops.py). Audits reference them as
``<folder>/m_<family>.py:c00042``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.skew_matrix.causes import (
    BY_NAME,
    CAUSES,
    FAMILY_BOUND,
    INERT_FAMILY,
    MODELS_FOR_SPEC,
    PORTS,
    SPECS,
    Cause,
    compatible,
)
from benchmarks.skew_matrix.images import FAMILIES

PAIRS = 14
MODEL_SHARE = 0.4
RESIZE_SAMPLE = 5
LARGE_SPECS = ("hwc64", "gray64", "letterbox64")


@dataclass
class Case:
    id: int
    family: str
    spec: str
    group: str  # single | pair | port
    causes: tuple[str, ...] = ()
    port: str | None = None
    model: str | None = None
    serve: dict[str, Any] = field(default_factory=dict)  # settings over the spec's train pipeline

    @property
    def fn(self) -> str:
        return f"c{self.id:05d}"

    @property
    def name(self) -> str:
        what = "+".join(self.causes) if self.causes else f"port:{self.port}"
        return f"{self.family}/{self.spec}/{what}/{self.model or 'none'}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _applicable(spec: str, family: str) -> list[Cause]:
    out = []
    for c in CAUSES:
        bound = FAMILY_BOUND.get(c.name)
        if bound is not None and family not in (bound, INERT_FAMILY):
            continue
        if c.applies(spec, family):
            out.append(c)
    return out


def _sample_variants(rng: np.random.Generator, causes: list[Cause]) -> list[Cause]:
    resize = [c for c in causes if c.variants_of == "resize"]
    keep = set(rng.choice(len(resize), size=min(RESIZE_SAMPLE, len(resize)), replace=False).tolist())
    return [c for c in causes if c.variants_of != "resize" or resize.index(c) in keep]


def _pairs(rng: np.random.Generator, singles: list[Cause], family: str, n: int) -> list[tuple[Cause, Cause]]:
    pool = [c for c in singles if FAMILY_BOUND.get(c.name, family) == family]  # no inert-by-design causes
    options = [(a, b) for i, a in enumerate(pool) for b in pool[i + 1 :] if compatible(a, b)]
    if not options:
        return []
    picks = rng.choice(len(options), size=min(n, len(options)), replace=False)
    return [options[i] for i in sorted(picks.tolist())]


def cases(seed: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    out: list[Case] = []

    def add(family: str, spec: str, group: str, causes: tuple[str, ...] = (), port: str | None = None) -> None:
        serve: dict[str, Any] = {}
        for name in causes:
            serve.update(BY_NAME[name].serve_changes(spec))
        if port is not None:
            serve.update(PORTS[port][0])
        model = None
        if rng.random() < MODEL_SHARE and family != "large":
            options = MODELS_FOR_SPEC[spec]
            model = options[int(rng.integers(len(options)))]
        out.append(Case(len(out), family, spec, group, causes, port, model, serve))

    for family in FAMILIES:
        large = family == "large"
        for spec in SPECS:
            if large and spec not in LARGE_SPECS:
                continue
            singles = _sample_variants(rng, _applicable(spec, family))
            if large:
                singles = [singles[i] for i in sorted(rng.choice(len(singles), 8, replace=False).tolist())]
            for c in singles:
                add(family, spec, "single", (c.name,))
            for a, b in _pairs(rng, singles, family, 2 if large else PAIRS):
                add(family, spec, "pair", (a.name, b.name))
            ports = [p for p, (_, applies) in PORTS.items() if applies(spec, family)]
            if large:
                ports = ports[:2]
            for p in ports:
                add(family, spec, "port", port=p)
    return out


def pick_slice(all_cases: list[Case], seed: int, per_kind: int = 3, pairs: int = 8, ports: int = 8) -> list[Case]:
    """A seeded, stratified slice for the pinned test: ``per_kind`` single cases of each expected
    kind (one with a model where there is one), ``pairs`` pairs and ``ports`` ports, no ``large``."""
    rng = np.random.default_rng(seed + 1)
    pool = [c for c in all_cases if c.family != "large"]
    chosen: list[Case] = []
    kinds = sorted({BY_NAME[c.causes[0]].kind for c in pool if c.group == "single"})
    for kind in kinds:
        of_kind = [c for c in pool if c.group == "single" and BY_NAME[c.causes[0]].kind == kind]
        modelled = [c for c in of_kind if c.model]
        first = [modelled[int(rng.integers(len(modelled)))]] if modelled else []
        rest = [c for c in of_kind if c not in first]
        extra = rng.choice(len(rest), size=min(per_kind - len(first), len(rest)), replace=False)
        chosen += first + [rest[i] for i in extra.tolist()]
    for group, n in (("pair", pairs), ("port", ports)):
        members = [c for c in pool if c.group == group]
        chosen += [members[i] for i in rng.choice(len(members), size=n, replace=False).tolist()]
    return sorted(chosen, key=lambda c: c.id)


def _literal(settings: dict[str, Any]) -> str:
    return "make(" + ", ".join(f"{k}={v!r}" for k, v in sorted(settings.items())) + ")"


def write_modules(all_cases: list[Case], folder: Path, repo: Path, seed: int) -> dict[str, Path]:
    """One generated pipeline module per family; returns ``{family: path}``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for family in sorted({c.family for c in all_cases}):
        lines = [
            f'"""Generated by benchmarks/skew_matrix/generate.py (seed {seed}): the {family} cases\' pipelines."""',
            "",
            "import sys",
            "",
            f"if {str(repo)!r} not in sys.path:",
            f"    sys.path.insert(0, {str(repo)!r})",
            "",
            "from benchmarks.skew_matrix.ops import make  # noqa: E402",
            "",
        ]
        for spec, settings in SPECS.items():
            lines.append(f"train_{spec} = {_literal(settings)}")
        for c in (c for c in all_cases if c.family == family):
            base = SPECS[c.spec]
            lines.append(f"{c.fn} = {_literal({**base, **c.serve})}  # {c.name}")
            if c.group == "pair":
                for i, name in enumerate(c.causes):
                    lines.append(f"{c.fn}__{i} = {_literal({**base, **BY_NAME[name].serve_changes(c.spec)})}")
        path = folder / f"m_{family}.py"
        path.write_text("\n".join(lines) + "\n")
        paths[family] = path
    return paths
