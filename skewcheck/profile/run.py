"""``skewcheck profile``: stream a folder of real inputs (and a reference set) into a Profile.

The files come from compare's discovery (every regular file, symlink policy, URIs through
pyarrow, ``--sample``); each is read by :func:`skewcheck.profile.read_image.read_file`, in
``workers`` processes when the set is large enough (one record a file, in the folder's order:
the profile is the same whatever the number of workers). No model, no TensorFlow.

Every file's headers are read; the full decode (pixel statistics, corruption the headers do not
show) runs on a seeded sample of each set, ``pixel_sample`` files (default ``PIXEL_SAMPLE``;
``"all"``: every file), drawn by position in the folder's order.

``workers="auto"`` on fewer CPUs than a pool pays for: one **decode helper** process (forked on
Linux, else spawned: :func:`_helper_start`) decodes the pixel
sample's files, a few at a time, while this process reads every other file's headers; whenever
this process has nothing else to do, it decodes the sample's files the helper has not been sent
yet. Each file is read by the same :func:`~skewcheck.profile.read_image.read_file` call
wherever it runs, and the records are tallied in the folder's order: the profile is the same.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import sys
import threading
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from skewcheck import __version__
from skewcheck.errors import UsageError
from skewcheck.images.discover import ImageFiles, check_images_dir
from skewcheck.images.sample import SampledFiles, parse_sample
from skewcheck.images.source import ImageFile, ImageRoot, is_uri, relative_name
from skewcheck.profile import summarise
from skewcheck.profile.flags import flags
from skewcheck.profile.model import SCHEMA, Profile
from skewcheck.profile.pixels import THUMB
from skewcheck.profile.read_image import read_file
from skewcheck.profile.tally import Tally
from skewcheck.worker_count import AUTO, parse_workers, usable_cpus

ProgressFn = Callable[[int, int], None]
# --workers auto. Measured on 2 CPUs (docs/profile.md): workers never won (2,000 files: 3.6 s
# against 2.5 s in one process; 10,000: 4.0 s against 4.2 s, within the noise): the main process's
# own work a file (discovery, the tally, the spool) is about the worker's (the header), so a
# worker needs a core of its own. Auto therefore starts workers only from MIN_CPUS_FOR_WORKERS
# usable CPUs, one fewer than the CPUs (the main process keeps one), and from MIN_IMAGES_FOR_WORKERS
# files (starting them, their imports, costs about a second).
MIN_CPUS_FOR_WORKERS = 4
MIN_IMAGES_FOR_WORKERS = 5000
# Below that, auto starts one decode helper (module docstring) from 2 usable CPUs and this many files
# to decode: its start (a spawned interpreter importing NumPy and Pillow, ~0.25 s of the other
# core) is paid back by ~2 ms a decode it takes off this process.
MIN_DECODES_FOR_HELPER = 100
HELPER_CHUNK = 4  # files a helper task decodes
HELPER_TASKS = 3  # tasks sent ahead to the helper: it never waits, and this process can take the rest
CHUNK = 32
WINDOW = 64 * CHUNK  # files in flight at once with workers: results never pile up unread
PIXEL_SAMPLE = 500  # files of each set decoded in full; the share it gives has a ±4.4-point worst-case interval


def profile(
    images: str | Path,
    reference: str | Path | None = None,
    *,
    sample: int | float | str | None = None,
    pixel_sample: int | float | str | None = PIXEL_SAMPLE,
    seed: int = 0,
    workers: int | str = AUTO,
    progress: ProgressFn | None = None,
) -> Profile:
    """Profile the files under ``images`` (a folder or a URI), and their drift from the files under
    ``reference`` when given. ``sample`` draws a seeded sample of ``images`` (the reference is
    read whole). ``pixel_sample`` (a count, a fraction, ``"all"`` or None: every file; 0: none)
    is how many files of each set are decoded in full. Usage problems raise
    :class:`skewcheck.errors.UsageError`."""
    wanted = parse_sample(sample)
    pixels_wanted = parse_pixel_sample(pixel_sample)
    count = parse_workers(workers)
    root = _root(images, "--images")
    ref_root = _root(reference, "--reference") if reference is not None else None
    files: Any = ImageFiles(root)
    if not len(files):
        raise UsageError(f"no files found under {root}")
    sampled = SampledFiles(files, root, wanted, seed, lambda name: (None, None)) if wanted is not None else None
    ref_files = ImageFiles(ref_root) if ref_root is not None else None
    if ref_files is not None and not len(ref_files):
        raise UsageError(f"--reference: no files found under {ref_root}")
    chosen = sampled if sampled is not None else files
    total = len(chosen) + (len(ref_files) if ref_files is not None else 0)
    n_workers = _workers(count, total)
    masks = {
        "images": _pixel_mask(len(chosen), pixels_wanted, seed, 1),
        "reference": _pixel_mask(len(ref_files), pixels_wanted, seed, 2) if ref_files is not None else None,
    }
    decodes = sum(
        (int(mask.sum()) if mask is not None else n)
        for mask, n in ((masks["images"], len(chosen)), (masks["reference"], len(ref_files or ())))
    )
    helper = (
        count == AUTO
        and n_workers == 0
        and decodes >= MIN_DECODES_FOR_HELPER
        and usable_cpus() >= 2
        and all(isinstance(r, Path) for r in (root, ref_root) if r is not None)
    )
    current = Tally(keep_records=True)
    reference_tally = Tally(keep_records=False) if ref_files is not None else None
    done = 0
    if progress is not None:
        progress(0, total)
    with _reader(n_workers, helper) as read:
        sets = (("images", current, chosen, root), ("reference", reference_tally, ref_files, ref_root))
        for key, tally, some, where in sets:
            if tally is None or some is None or where is None:
                continue
            for record in read(_named(some, where, masks[key])):
                tally.add(record)
                done += 1
                if progress is not None and (done % CHUNK == 0 or done == total):
                    progress(done, total)
    data: dict[str, Any] = {
        "schema": SCHEMA,
        "skewcheck_version": __version__,
        "images": _set_summary(root, current, files, masks["images"], seed),
        "reference": (
            _set_summary(ref_root, reference_tally, ref_files, masks["reference"], seed)
            if reference_tally is not None
            else None
        ),
        "thumbnail_side": THUMB,
    }
    if sampled is not None:
        data["images"]["sample"] = sampled.summary(seed, [])
    data["traits"] = summarise.traits(current, reference_tally)
    data["categories"] = summarise.categories(current, reference_tally)
    data["numbers"] = summarise.numbers(current, reference_tally, seed)
    data["sizes"] = dict(sorted(current.sizes.items(), key=lambda kv: (-kv[1], kv[0])))
    data["failures"] = {"count": current.failure_count, "listed": current.failures}
    data["flags"] = flags(data)
    return Profile(data, current.records)


def _set_summary(
    root: ImageRoot | None, tally: Tally | None, files: Any, mask: np.ndarray | None, seed: int
) -> dict[str, Any]:
    assert tally is not None
    drawn = tally.files if mask is None else int(mask.sum())
    return {
        "source": str(root),
        "files": tally.files,
        "opened": tally.opened(),
        "decoded": tally.decoded(),
        "skipped_files": files.discovery.summary(),
        "pixel_sample": {
            "files": drawn,
            "of": tally.files,
            "share": round(drawn / tally.files, 6) if tally.files else None,
            "seed": seed,
            "complete": mask is None,
            "decoded": tally.decode_checked,
            "decode_failures": tally.decode_failures,
        },
    }


def parse_pixel_sample(value: int | float | str | None) -> int | float | None:
    """``--pixel-sample``: ``all`` (or None): every file; 0: none; else as ``--sample``."""
    if value is None or str(value).strip().lower() == "all":
        return None
    if str(value).strip() == "0":
        return 0
    try:
        return parse_sample(value)
    except UsageError:
        raise UsageError(
            f"--pixel-sample must be 'all', 0, a number of files, a fraction or a percentage, got {value!r}"
        ) from None


def _pixel_mask(n: int, wanted: int | float | None, seed: int, salt: int) -> np.ndarray | None:
    """Which of the ``n`` files (by position) are decoded in full; None: every one."""
    if wanted is None:
        return None
    size = wanted if isinstance(wanted, int) else max(1, round(wanted * n))
    if size >= n:
        return None
    mask = np.zeros(n, dtype=bool)
    mask[np.random.default_rng([seed, salt]).choice(n, size, replace=False)] = True
    return mask


def _root(value: str | Path, option: str) -> ImageRoot:
    if is_uri(value):
        from skewcheck.images.uri import open_folder

        try:
            return open_folder(str(value))
        except UsageError as exc:
            raise UsageError(str(exc).replace("--images", option, 1)) from None
    if option != "--images" and not Path(value).is_dir():
        raise UsageError(f"{option} must be a folder of images: {value}")
    return check_images_dir(Path(value))


Item = tuple[ImageFile | str, str, bool]  # the file (a local one as its path), its name, whether to decode it


def _named(files: Iterable[ImageFile], root: ImageRoot, mask: np.ndarray | None) -> Iterator[Item]:
    prefix = str(root).rstrip(os.sep) + os.sep if isinstance(root, Path) else None
    names = files.local_names() if isinstance(files, ImageFiles) else None
    if names is not None and prefix is not None:  # a whole local folder: its names, no Path a file
        chosen = mask.tolist() if mask is not None else None
        slash = os.sep != "/"
        for i, relative in enumerate(names):
            yield prefix + relative, relative.replace(os.sep, "/") if slash else relative, chosen is None or chosen[i]
        return
    for i, file in enumerate(files):
        text = str(file) if prefix is not None else ""
        if prefix is not None and text.startswith(prefix):  # a string cut: relative_to costs more than the header
            name = text[len(prefix) :].replace(os.sep, "/")
        else:
            name = relative_name(file, root)
        yield file, name, mask is None or bool(mask[i])


def _read_one(item: Item) -> dict[str, Any]:
    return read_file(*item)


def _workers(count: int | str, total: int) -> int:
    if count != AUTO:
        assert isinstance(count, int)
        if count < 0:
            raise UsageError(f"--workers must be 0 (in-process) or more, got {count}")
        return count
    cpus = usable_cpus()
    return cpus - 1 if cpus >= MIN_CPUS_FOR_WORKERS and total >= MIN_IMAGES_FOR_WORKERS else 0


def _helper_start() -> str:
    """How the decode helper starts. ``fork`` on Linux when this process runs no other Python
    thread: the helper has Pillow and NumPy already (10,000 bench files: 1.35-1.94 s of CPU in all
    against 1.81-2.38 s with ``spawn``, whose helper imports them again, ~0.3 s); no model or
    TensorFlow is ever loaded by a profile, and OpenBLAS's own threads stop across a fork.
    ``spawn`` elsewhere (macOS cannot fork safely) and beside other threads (an application's
    thread holding a lock would hold it in the helper for ever)."""
    if sys.platform == "linux" and threading.active_count() == 1:
        return "fork"
    return "spawn"


def _read_many(items: list[Item]) -> list[dict[str, Any]]:
    return [read_file(*item) for item in items]


class _reader:
    """A function from (file, name) pairs to records, in order: in this process, with a decode
    helper, or a pool's."""

    def __init__(self, workers: int, helper: bool = False) -> None:
        self.workers, self.helper = workers, helper
        self._pool: Any = None

    def __enter__(self) -> Callable[[Iterable[Item]], Iterator[dict[str, Any]]]:
        if self.workers == 0 and self.helper:
            from concurrent.futures import ProcessPoolExecutor

            executor = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context(_helper_start()))
            self._pool = executor
            return lambda items: _with_helper(executor, items)
        if self.workers == 0:
            return lambda items: map(_read_one, items)
        method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
        context = multiprocessing.get_context(method)
        if method == "forkserver":
            context.set_forkserver_preload(["skewcheck.profile.read_image"])
        self._pool = context.Pool(self.workers)
        pool = self._pool

        def read(items: Iterable[Item]) -> Iterator[dict[str, Any]]:
            # a window at a time: Pool.imap would queue every result the main process has not
            # read yet, and the main process's work a file is about a worker's
            it = iter(items)
            while window := list(itertools.islice(it, WINDOW)):
                yield from pool.imap(_read_one, window, chunksize=CHUNK)

        return read

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None and self.workers == 0:
            self._pool.shutdown(wait=True, cancel_futures=True)
        elif self._pool is not None:
            if exc[0] is None:
                self._pool.close()
            else:
                self._pool.terminate()
            self._pool.join()


def _with_helper(executor: Any, items: Iterable[Item]) -> Iterator[dict[str, Any]]:
    """The records of ``items`` in order: the files to decode go to the helper (``executor``, one
    process) ``HELPER_CHUNK`` at a time, at most ``HELPER_TASKS`` tasks ahead; this process reads
    the others' headers and, when it has nothing else to do (``WINDOW`` records waiting on a
    decode, or every header read), decodes the files not sent yet itself: the next ones in order
    while records wait (never idle while there is a file to decode), from the end once every
    header is read (the helper works from the front); it waits on the helper only when every file
    left is with it."""
    from concurrent.futures import BrokenExecutor

    slots: deque[list[Any]] = deque()  # in order: [record or None]
    unsent: deque[tuple[Item, list[Any]]] = deque()  # files to decode not sent yet, with their slot
    sent: deque[tuple[Any, list[Item], list[list[Any]]]] = deque()  # (future, items, slots)

    def collect(block: bool) -> None:
        while sent and (block or sent[0][0].done()):
            future, batch, where = sent.popleft()
            try:
                records = future.result()
            except BrokenExecutor:  # the helper died (a decoder crashed, memory): this process reads them
                records = _read_many(batch)
            for slot, record in zip(where, records, strict=True):
                slot[0] = record
            block = False

    def send() -> None:
        while unsent and len(sent) < HELPER_TASKS:
            chosen = [unsent.popleft() for _ in range(min(HELPER_CHUNK, len(unsent)))]
            batch, where = [item for item, _ in chosen], [slot for _, slot in chosen]
            try:
                with warnings.catch_warnings():  # Python 3.12+: "multi-threaded, use of fork()" (OpenBLAS's threads)
                    warnings.filterwarnings("ignore", "This process .* is multi-threaded", DeprecationWarning)
                    sent.append((executor.submit(_read_many, batch), batch, where))
            except BrokenExecutor:
                for item, slot in chosen:
                    slot[0] = read_file(*item)

    def ready() -> Iterator[dict[str, Any]]:
        while slots and slots[0][0] is not None:
            yield slots.popleft()[0]

    for item in items:
        if item[2]:
            slot: list[Any] = [None]
            slots.append(slot)
            unsent.append((item, slot))
            send()
            continue
        record = read_file(*item)
        if not slots:
            yield record
            continue
        slots.append([record])
        collect(block=False)
        send()
        yield from ready()
        while len(slots) > WINDOW:  # too far ahead of the decodes: decode what the helper was not sent
            if unsent:
                first, slot = unsent.popleft()
                slot[0] = read_file(*first)
            else:
                collect(block=True)
            collect(block=False)
            send()
            yield from ready()
    while slots:
        collect(block=False)
        send()
        yield from ready()
        if not slots:
            break
        if unsent:
            last, slot = unsent.pop()
            slot[0] = read_file(*last)
        else:
            collect(block=True)
        yield from ready()
