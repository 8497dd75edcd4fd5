"""What the diagnosis keeps from one image to the next within one audit.

A cause sits in a pipeline's code, so what the first images established (the side holding BGR, the
resizer each side uses, the searches that found nothing) guides the later ones. Each detector
declares the dataclass it keeps (``DetectorSpec.state``); an audit holds one :class:`RunState`,
which makes one instance of each on first use, and a detector reads its own with
``ctx.run.of(MyState)``: typed fields instead of string keys in a shared dict.

Every "try everything on the first N images, then keep what they chose" is a :class:`FitFirst`
field of such a state, and every one that narrowed is listed in the report's
``summary.diagnosis.narrowed``, so a reader knows what later images were not searched for.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")


class RunState:
    """One audit's detector states, by their dataclass."""

    def __init__(self) -> None:
        self._states: dict[type, Any] = {}

    def of(self, kind: type[T]) -> T:
        state = self._states.get(kind)
        if state is None:
            state = self._states[kind] = kind()
        return state

    def narrowed(self) -> dict[str, dict[str, Any]]:
        """Each FitFirst that narrowed: after how many images, and what later images tried (the report's
        ``summary.diagnosis.narrowed``)."""
        out = {f.name: {"images": f.n, "kept": _plain(f.kept)} for f in self.fit_firsts() if f.fitted}
        return dict(sorted(out.items()))

    def fit_firsts(self) -> Iterator[FitFirst]:
        """Every FitFirst field of every state made so far."""
        for state in self._states.values():
            for f in dataclasses.fields(state):
                value = getattr(state, f.name)
                if isinstance(value, FitFirst):
                    yield value
                elif isinstance(value, dict):
                    yield from (v for v in value.values() if isinstance(v, FitFirst))


@dataclass
class FitFirst:
    """Try every candidate on the first ``n`` images, then only the one those images chose most.

    Ties go to the first chosen, so the same images give the same choice in every process (a set's
    order would not). Images are diagnosed in file order by every engine, whatever ``--workers``.
    """

    name: str  # what is fitted, for the report ("padding resizer (serve)")
    n: int
    keep: Callable[[list], Any] | None = None  # what the fitted images leave to try (default: the choice)
    seen: list = field(default_factory=list)

    @property
    def fitted(self) -> bool:
        return len(self.seen) >= self.n

    @property
    def choice(self) -> Any:
        """The candidate the images chose most so far (None before any chose)."""
        return max(self.seen, key=self.seen.count) if self.seen else None

    @property
    def kept(self) -> Any:
        """What later images try, in the report's words: the choice, or what ``keep`` makes of the images' choices."""
        return self.keep(self.seen) if self.keep is not None else self.choice

    def candidates(self, every: tuple) -> tuple:
        """What to try on this image: ``every`` until fitted, then the choice alone."""
        return (self.choice,) if self.fitted else every

    def chose(self, choice: Any) -> None:
        """One more image chose ``choice`` (ignored once fitted)."""
        if not self.fitted:
            self.seen.append(choice)


def per_side(name: str, n: int) -> dict[str, FitFirst]:
    """A FitFirst for each side of the pair (the two pipelines may do it differently)."""
    return {side: FitFirst(f"{name} ({side})", n) for side in ("train", "serve")}


def _plain(value: Any) -> Any:
    """A JSON-ready copy: tuples become lists."""
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value
