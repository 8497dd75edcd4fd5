"""``--engine ray``: the pipelines and the model on Ray Data; everything else on the driver.

Work split (docs/scale.md): the driver discovers the files, orders them and picks the repeat
images exactly as the local engine does (same seeded rule), then builds a dataset of chunk rows.
Pipeline actors (CPU) run both pipelines per image; model actors (one model load each, ``num_gpus``
with ``--device gpu``) run the model on the chunk's tensors; the rows stream back to the driver in
order, where :func:`skewcheck.audit.run_audit` compares, diagnoses, attributes and writes records
with the same code as the local engine, so the report is the same.

A chunk whose actor died is retried by Ray (up to ``RETRIES`` more times); the retry ledger says
which, and ``summary.engine.retried`` lists their images. A chunk Ray gave up on is not dropped:
its images are recorded as ``pipeline-error`` (``RayTaskLost``) on both sides and listed in
``summary.engine.lost``.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import signal
import socket
import sys
import threading
import uuid
import warnings
from collections.abc import Generator, Iterable, Iterator
from typing import Any

from skewcheck.errors import AuditError, UsageError, one_line
from skewcheck.execution.image_runs import ImageRuns
from skewcheck.execution.pair import Pair, Predictions
from skewcheck.images.source import ImageFile, ImageRoot, relative_name
from skewcheck.pipelines.outcome import Outcome

INSTALL_HINT = "--engine ray needs Ray Data: pip install 'skewcheck[ray]'"
RETRIES = 2  # a chunk is tried at most 1 + RETRIES times
LOCAL_OBJECT_STORE = 512 * 2**20  # a local cluster's object store (it spills to disk beyond)


def check_installed() -> None:
    """A UsageError naming the extra when Ray Data cannot be imported."""
    try:
        import ray  # noqa: F401
        import ray.data  # noqa: F401
    except ImportError:
        raise UsageError(INSTALL_HINT) from None


def init_local(num_cpus: int | None = None, object_store_memory: int = LOCAL_OBJECT_STORE) -> None:
    """Start a Ray cluster on this machine for this process, quiet and small (no dashboard)."""
    # "local": a new cluster for this process even where `ray start` left one (or its address file)
    _init(address="local", num_cpus=num_cpus, object_store_memory=object_store_memory)


def _init(**options: Any) -> None:
    """``ray.init`` without Ray's C++ notices on the terminal (they stay in Ray's logs; --verbose
    lets them through): restartable actors log one per actor at error level on every run."""
    import ray

    from skewcheck.native import capture_native_stderr, is_verbose

    if not is_verbose():
        os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")
    with contextlib.nullcontext() if is_verbose() else capture_native_stderr():  # the level notice itself
        with _signal_handlers_kept():
            ray.init(include_dashboard=False, logging_level=logging.ERROR, log_to_driver=is_verbose(), **options)
    _cluster_errors_to_stderr()


@contextlib.contextmanager
def _signal_handlers_kept() -> Iterator[None]:
    """SIGINT's and SIGTERM's handlers as they were before the block.

    ``ray.init`` sets its own for SIGTERM in a driver (``sys.exit(15)``) and its core worker installs
    absl's failure signal handler (C++) over Python's: a SIGTERM then dumped ``*** SIGTERM received
    ... PC:`` and ended the process with 15, past skewcheck's interruption (exit 143, the stale
    report removed, workers stopped). Setting the earlier handlers again from Python puts Python's
    own C handler back too."""
    main = threading.current_thread() is threading.main_thread()  # signal.signal works there only
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)} if main else {}
    try:
        yield
    finally:
        for sig, handler in before.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)  # None: not set from Python


def _cluster_errors_to_stderr() -> None:
    """Ray prints the cluster's error messages (a worker died, a task is retried) on the driver's
    stdout, where skewcheck's report goes: send them to stderr, with the progress bar."""
    from ray._private import worker  # no public switch for this (Ray 2.60)

    original = getattr(worker, "print_to_stdstream", None)
    if original is None or getattr(original, "skewcheck_stderr", False):
        return

    def to_stderr(data: dict[str, Any], ignore_prefix: bool) -> None:
        original({**data, "is_err": True}, ignore_prefix)

    to_stderr.skewcheck_stderr = True  # type: ignore[attr-defined]
    worker.print_to_stdstream = to_stderr


class RayEngine:
    name = "ray"

    def __init__(
        self,
        *,
        train: str,
        serve: str,
        model: str | None,
        device: str,
        unsafe_load: bool,
        address: str | None,
        batch_size: int,
        timeout: float | None,
        max_tensor_mb: float | None,
        verbose: bool = False,
    ) -> None:
        self.refs = {"train": train, "serve": serve}
        self.model, self.device, self.unsafe_load = model, device, unsafe_load
        self.address = address
        if address is not None:
            _check_reachable(address)  # before the model loads: a wrong address fails in a second
        self.batch_size = max(1, batch_size)
        self.timeout, self.max_tensor_mb, self.verbose = timeout, max_tensor_mb, verbose
        self.retried: list[str] = []
        self.lost: list[str] = []
        self.cluster: dict[str, float] = {}

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "address": self.address or "local",
            "cluster": self.cluster,
            "retried": self.retried,
            "lost": self.lost,
        }

    def pairs(
        self, root: ImageRoot, files: Iterable[ImageFile], repeats: frozenset[int]
    ) -> Generator[Pair, None, None]:
        """The :class:`~skewcheck.execution.engine.Engine` protocol: a generator, so Ray starts at the
        first pair and shuts down (a cluster this engine started) when it is closed."""
        import ray

        started = not ray.is_initialized()
        if started:
            self._connect()
        try:
            for runs, predictions in self._stream(root, files, repeats):
                yield Pair.from_runs(runs, root, predictions)
        finally:
            if started:
                ray.shutdown()

    def _connect(self) -> None:
        self.address = self.address or os.environ.get("RAY_ADDRESS") or None  # Ray's own variable counts too
        if self.address is None:
            init_local()
            return
        try:
            _init(address=self.address)
        except (ConnectionError, ValueError, RuntimeError) as exc:
            raise UsageError(f"--ray-address {self.address}: cannot join the Ray cluster ({one_line(exc)})") from None

    def _stream(
        self, root: ImageRoot, files: Iterable[ImageFile], repeats: frozenset[int]
    ) -> Iterator[tuple[ImageRuns, Predictions | None]]:
        import ray

        from skewcheck.engines.ray_stages import Ledger

        self.cluster = {k: v for k, v in ray.cluster_resources().items() if k in ("CPU", "GPU", "memory")}
        _configure_data_context()
        ledger_name = f"skewcheck-ledger-{uuid.uuid4().hex}"
        ledger = Ledger.options(name=ledger_name).remote()  # type: ignore[attr-defined]
        chunks = _chunk_rows(list(files), root, repeats, self.batch_size)
        try:
            yield from self._rows(self._dataset(root, chunks, ledger_name), chunks)
            lost = set(self.lost)
            self.retried = [
                p for chunk in sorted(ray.get(ledger.retried.remote())) for p in chunks[chunk]["names"] if p not in lost
            ]
        finally:
            ray.kill(ledger)  # a cluster that outlives the run keeps no idle actor of it

    def _rows(self, ds: Any, chunks: list[dict[str, Any]]) -> Iterator[tuple[ImageRuns, Predictions | None]]:
        """The dataset's rows in file order, a chunk Ray gave up on in its place as lost images."""
        from skewcheck.engines.ray_stages import decode

        expected = 0
        for batch in ds.iter_batches(batch_size=1, batch_format="numpy", prefetch_batches=1):
            chunk = int(batch["chunk"][0])
            while expected < chunk:  # rows come in order: a gap is a chunk Ray gave up on
                yield from self._lost(chunks[expected])
                expected += 1
            for item in decode(batch["payload"][0]):
                yield item if self.model is not None else (item, None)
            expected = chunk + 1
        while expected < len(chunks):
            yield from self._lost(chunks[expected])
            expected += 1

    def _dataset(self, root: ImageRoot, chunks: list[dict[str, Any]], ledger: str) -> Any:
        import ray.data

        from skewcheck.engines.ray_stages import encode

        rows = [
            {
                "chunk": c["chunk"],
                "start": c["start"],
                "paths": encode(c["paths"])[0],  # Paths, or objects pickled as (URI, name): read by the actor
                "repeats": encode(c["repeats"])[0],
            }
            for c in chunks
        ]
        if not rows:
            raise AuditError("no image to audit")
        cpus = max(1, int(self.cluster.get("CPU", 1)))
        gpus = self._gpus()
        driver = {"cwd": os.getcwd(), "sys_path": [p for p in sys.path if p]}
        retry = {"max_restarts": -1, "max_task_retries": RETRIES}
        ds = ray.data.from_items(rows, override_num_blocks=len(rows))
        with warnings.catch_warnings():  # bounded retries have no named parameter yet (Ray < 2.64)
            warnings.simplefilter("ignore", DeprecationWarning)
            return self._stages(ds, root, ledger, cpus, gpus, driver, retry)

    def _stages(
        self,
        ds: Any,
        root: ImageRoot,
        ledger: str,
        cpus: int,
        gpus: bool,
        driver: dict[str, Any],
        retry: dict[str, int],
    ) -> Any:
        import ray.data

        from skewcheck.engines.ray_stages import ModelStage, PipelineStage

        # one chunk in flight per actor: an actor lost on one chunk (its pipeline killed it) takes no
        # queued chunk of other images down with it, so only that chunk's images can end up lost
        pipelines = ray.data.ActorPoolStrategy(
            min_size=1,
            max_size=max(1, cpus - (0 if self.model is None or gpus else 1)),
            max_tasks_in_flight_per_actor=1,
        )
        ds = ds.map_batches(
            PipelineStage,
            batch_size=1,
            batch_format="numpy",
            num_cpus=1,
            compute=pipelines,
            fn_constructor_kwargs={
                "refs": self.refs,
                "root": root,
                "timeout": self.timeout,
                "max_tensor_mb": self.max_tensor_mb,
                "verbose": self.verbose,
                "ledger": ledger,
                **driver,
            },
            **retry,
        )
        if self.model is not None:
            ds = ds.map_batches(
                ModelStage,
                batch_size=1,
                batch_format="numpy",
                num_cpus=0 if gpus else 1,
                num_gpus=1 if gpus else 0,
                concurrency=(1, max(1, int(self.cluster.get("GPU", 0)))) if gpus else 1,
                fn_constructor_kwargs={
                    "model": self.model,
                    "device": self.device,
                    "unsafe_load": self.unsafe_load,
                    **driver,
                },
                **retry,
            )
        return ds

    def _gpus(self) -> bool:
        have = self.cluster.get("GPU", 0) > 0
        if self.device == "gpu" and not have:
            raise UsageError("--device gpu with --engine ray: the Ray cluster has no GPU")
        return self.model is not None and self.device in ("gpu", "auto") and have

    def _lost(self, chunk: dict[str, Any]) -> Iterator[tuple[ImageRuns, Predictions | None]]:
        text = f"Ray gave up on this image's task after {1 + RETRIES} attempts (its worker was lost each time)"
        for i, (path, name) in enumerate(zip(chunk["paths"], chunk["names"], strict=True)):
            self.lost.append(name)
            lost = {
                side: Outcome(status="pipeline-error", error_type="RayTaskLost", error=text)
                for side in ("train", "serve")
            }
            runs = ImageRuns(chunk["start"] + i, path, first=lost)
            yield runs, ({"train": None, "serve": None} if self.model is not None else None)


def _check_reachable(address: str, timeout_s: float = 5.0) -> None:
    """A ``host:port`` nobody listens on is a usage error now: ``ray.init`` retries it for minutes.
    (``auto``, ``local`` and ``ray://`` addresses are left to Ray.)"""
    host, sep, port = address.rpartition(":")
    if not sep or "://" in address or not port.isdigit():
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise UsageError(f"--ray-address {address}: no Ray cluster answers there ({exc.strerror or exc})") from None


def _chunk_rows(files: list[ImageFile], root: ImageRoot, repeats: frozenset[int], size: int) -> list[dict[str, Any]]:
    """The local engine's chunks: ``size`` consecutive images, so the model gets the same batches."""
    root_names = [relative_name(f, root) for f in files]
    out = []
    for k in range(math.ceil(len(files) / size)):
        start = k * size
        paths = files[start : start + size]
        out.append(
            {
                "chunk": k,
                "start": start,
                "paths": paths,
                "names": root_names[start : start + size],
                "repeats": [start + i in repeats for i in range(len(paths))],
            }
        )
    return out


def _configure_data_context() -> None:
    import ray.data

    ctx = ray.data.DataContext.get_current()
    ctx.execution_options.preserve_order = True  # rows back in file order: the report's order
    ctx.max_errored_blocks = -1  # a chunk Ray gave up on is recorded as lost, not an aborted audit
    ctx.enable_progress_bars = False  # progress is skewcheck's own, on stderr
    ctx.print_on_execution_start = False
    for name in ("ray", "ray.data"):
        logging.getLogger(name).setLevel(logging.ERROR)
