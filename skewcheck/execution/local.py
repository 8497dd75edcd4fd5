"""The local engines: :class:`SerialEngine` (this process) and :class:`PoolEngine` (``--workers N``)."""

from __future__ import annotations

from collections.abc import Generator, Iterable, Mapping
from typing import Any

from skewcheck.execution.engine import FactsPolicy
from skewcheck.execution.image_runs import run_image
from skewcheck.execution.pair import Pair
from skewcheck.execution.prefetch import Prefetch
from skewcheck.images.source import ImageFile, ImageRoot

# How far the workers may run ahead of the model and diagnosis: far enough to keep decoding through
# TensorFlow's import and a slow chunk, bounded in bytes so memory stays flat on any image count.
PREFETCH_IMAGES, PREFETCH_BYTES = 4096, 512 * 2**20


class SerialEngine:
    """Both pipelines in the audit's own process, one image at a time as the audit pulls it."""

    name = "serial"

    def __init__(self, pipelines: Mapping[str, Any], facts: FactsPolicy) -> None:
        self.pipelines, self.facts = pipelines, facts

    def pairs(
        self, root: ImageRoot, files: Iterable[ImageFile], repeats: frozenset[int]
    ) -> Generator[Pair, None, None]:
        for i, path in enumerate(files):
            runs = run_image(
                self.pipelines, i, path, i in repeats, tolerance=self.facts.tolerance, hints=self.facts.hints()
            )
            yield Pair.from_runs(runs, root)

    def summary(self) -> dict[str, Any] | None:
        return None  # the same report whatever ran the pipelines


class PoolEngine:
    """Both pipelines in a :class:`~skewcheck.execution.pool.PipelinePool` of ``size`` processes.

    The pool starts as soon as :meth:`pairs` is called (before the model loads, so its TensorFlow
    import overlaps the first decodes) and a thread keeps it fed ahead of the audit (up to
    PREFETCH_BYTES of tensors), so later images decode while this process imports TensorFlow and
    runs the model and diagnosis. The thread only waits on pipes: pipelines never run in a thread
    of this process, where their working-directory and descriptor-2 handling would reach the main
    thread.
    """

    name = "pool"

    def __init__(
        self,
        refs: dict[str, str],
        size: int,
        facts: FactsPolicy,
        *,
        timeout: float | None,
        max_tensor_mb: float | None,
    ) -> None:
        self.refs, self.size, self.facts = refs, size, facts
        self.timeout, self.max_tensor_mb = timeout, max_tensor_mb

    def pairs(self, root: ImageRoot, files: Iterable[ImageFile], repeats: frozenset[int]) -> Prefetch:
        from skewcheck.execution.pool import PipelinePool
        from skewcheck.native import is_verbose

        ahead: list[Prefetch] = []  # the prefetch below, once made

        def facts_wanted() -> dict[str, Any] | None:
            """The workers measure each pair's facts while this process has a chunk waiting; when it
            is about to wait for them, they send pairs without, and this process measures those."""
            return self.facts.hints(ahead[0].backlog() if ahead else None)

        pool = PipelinePool(
            self.refs,
            root,
            self.size,
            timeout=self.timeout,
            verbose=is_verbose(),
            max_tensor_mb=self.max_tensor_mb,
            tolerance=self.facts.tolerance,
            facts_wanted=facts_wanted,
        )
        pool.__enter__()  # the workers start loading the pipelines now; Prefetch.close() stops them
        runs = pool.imap((path, i in repeats) for i, path in enumerate(files))  # run_image() in each worker
        ahead.append(
            Prefetch(
                (Pair.from_runs(r, root) for r in runs),
                depth=PREFETCH_IMAGES,
                on_close=pool.__exit__,
                weigh=lambda pair: pair.nbytes,
                budget=PREFETCH_BYTES,
            )
        )
        return ahead[0]

    def summary(self) -> dict[str, Any] | None:
        return None  # the same report whatever the worker count
