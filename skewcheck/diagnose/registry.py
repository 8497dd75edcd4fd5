"""The one place detectors are declared: what each finds, what it reads, what it replaces.

A detector is a module with ``detect(ctx) -> list[Observation]`` and a module-level ``SPEC``. The
run order follows from the declarations (a detector runs after the kinds it ``reads`` and the kinds
it ``supersedes``; ties by name), never from the order of a tuple, so adding a detector cannot
silently change what another one sees. ``supersedes`` is applied here: when a detector fires on an
image, that image's observations of the superseded kinds are dropped (e.g. the model's own input
range names the side of a scale error better than the pairwise fit). A ``catch_all`` detector runs
last and sees everything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from skewcheck.findings import Observation


@dataclass(frozen=True)
class DetectorSpec:
    kinds: tuple[str, ...]  # the finding kinds it emits
    reads: tuple[str, ...] = ()  # kinds whose observations on the same image it looks at
    supersedes: tuple[str, ...] = ()  # kinds it replaces on an image where it fires
    catch_all: bool = False  # runs after every other detector
    # depends on this pair alone (its tensors and file: no run-wide memo, no other detector's
    # observations, no model), so it may run next to the tensors (skewcheck/diagnose/facts.py)
    pure: bool = False
    # the dataclass it keeps across the audit's images (skewcheck/diagnose/run_state.py), read with ctx.run.of(...)
    state: type | None = None
    # per-pair work measured next to the tensors (in a worker with --workers): precompute(ctx, hint)
    # -> a picklable value or None, read back with ctx.precomputed(name); hint(run) -> what the run
    # has settled so far that the measurement depends on (sent to the worker), or None
    precompute: Callable[[Any, Any], Any] | None = None
    hint: Callable[[Any], Any] | None = None
    # the repair components it owns (skewcheck/diagnose/repair.py): component -> apply(ctx, v, wanted) -> v or None
    repairs: dict[str, Callable[..., Any]] = field(default_factory=dict)
    # the candidate skews the black-box replay of an endpoint may try for its kinds (skewcheck/diagnose/replay.py)
    replay: Callable[[], list[Any]] | None = None


@dataclass(frozen=True)
class Detector:
    name: str
    spec: DetectorSpec
    detect: Callable[..., list[Observation]]
    doc: str

    def __call__(self, ctx) -> list[Observation]:
        return self.detect(ctx)


def ordered(modules: list[ModuleType]) -> tuple[Detector, ...]:
    """Detectors in an order that honours every ``reads`` and ``supersedes`` (ties by name)."""
    detectors = [Detector(m.__name__.rsplit(".", 1)[-1], m.SPEC, m.detect, m.__doc__ or "") for m in modules]
    emitters: dict[str, set[str]] = {}
    for d in detectors:
        for kind in d.spec.kinds:
            emitters.setdefault(kind, set()).add(d.name)
    catch_alls = {d.name for d in detectors if d.spec.catch_all}
    before = {}
    for d in detectors:
        wanted = {e for kind in d.spec.reads + d.spec.supersedes for e in emitters.get(kind, ())} - {d.name}
        if d.spec.catch_all:  # after every other detector, and after the catch-alls it reads
            before[d.name] = wanted | {o.name for o in detectors if o.name not in catch_alls}
        else:  # what a catch-all emits comes later by definition: never a reason to wait
            before[d.name] = wanted - catch_alls
    done: list[Detector] = []
    pending = sorted(detectors, key=lambda d: d.name)
    while pending:
        ready = [d for d in pending if before[d.name] <= {x.name for x in done}]
        if not ready:
            raise RuntimeError(f"detector dependencies form a cycle: {[d.name for d in pending]}")
        done.append(ready[0])
        pending.remove(ready[0])
    return tuple(done)
