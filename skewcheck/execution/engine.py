"""The :class:`Engine` protocol, the pair-facts policy every engine follows, and :func:`get_engine`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from skewcheck.execution.pair import Pair
from skewcheck.images.source import ImageFile, ImageRoot

if TYPE_CHECKING:
    from skewcheck.audit import AuditInputs
    from skewcheck.diagnose.run_state import RunState
    from skewcheck.engines.ray_engine import RayEngine
    from skewcheck.execution.local import PoolEngine, SerialEngine

FACTS_BACKLOG_CHUNKS = 1  # pairs waiting (in chunks) for the audit's process above which workers measure facts


class PairStream(Protocol):
    """An engine's pairs, in file order; :meth:`close` stops whatever still runs (a pool, Ray)."""

    def __iter__(self) -> Iterator[Pair]: ...

    def __next__(self) -> Pair: ...

    def close(self) -> None: ...


class Engine(Protocol):
    """Where an audit's pairs come from: :class:`~skewcheck.execution.local.SerialEngine`,
    :class:`~skewcheck.execution.local.PoolEngine`, :class:`skewcheck.engines.ray_engine.RayEngine`."""

    name: str

    def pairs(self, root: ImageRoot, files: Iterable[ImageFile], repeats: frozenset[int]) -> PairStream:
        """One :class:`Pair` per image of ``files``, in that order (``repeats``: the indices whose
        pipelines run twice). Predictions where the engine has a model stage, else none."""
        ...

    def summary(self) -> dict[str, Any] | None:
        """What the report says about the engine (``summary.engine``); None: nothing to say."""
        ...


@dataclass
class FactsPolicy:
    """When an engine has :func:`~skewcheck.execution.image_runs.run_image` measure a pair's facts
    (the package docstring says why): :meth:`hints` gives the hints to measure with, or None."""

    tolerance: tuple[float, float]  # (atol, rtol)
    diagnosis: RunState  # what the detectors keep across images, which the facts are measured against
    chunk: int  # the audit's chunk (the model's batch size)

    def hints(self, backlog: int | None = None) -> dict[str, Any] | None:
        """``backlog``: pairs waiting for the audit's process (None: the image runs in that process).
        None when the audit's process would otherwise wait for them: it measures them itself."""
        from skewcheck.diagnose.facts import hints_from

        if backlog is not None and backlog < self.chunk * FACTS_BACKLOG_CHUNKS:
            return None
        return hints_from(self.diagnosis)  # read from a pool's thread too: a state that only grows, then stays


def get_engine(inputs: AuditInputs, diagnosis: RunState) -> Engine:
    """The audit's engine: the one the API built (``--engine ray``), else a pool of
    ``inputs.workers`` processes (``--workers N``, ``auto`` resolved by skewcheck/worker_count.py),
    else this process."""
    from skewcheck.execution.local import PoolEngine, SerialEngine

    if inputs.engine is not None:
        engine: Engine = inputs.engine
        return engine
    config = inputs.config
    facts = FactsPolicy((config.gate.atol, config.gate.rtol), diagnosis, max(1, config.model.batch_size))
    if inputs.workers < 1:
        return SerialEngine({"train": inputs.train, "serve": inputs.serve}, facts)
    return PoolEngine(
        {"train": inputs.train.ref, "serve": inputs.serve.ref},
        inputs.workers,
        facts,
        timeout=config.execution.timeout,
        max_tensor_mb=config.execution.max_tensor_mb,
    )


if TYPE_CHECKING:

    def _every_engine_is_one(serial: SerialEngine, pool: PoolEngine, ray: RayEngine) -> list[Engine]:
        """Never called: mypy checks here that each engine implements the protocol."""
        return [serial, pool, ray]
