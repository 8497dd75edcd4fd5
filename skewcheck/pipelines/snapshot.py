"""Golden snapshots: one pipeline's tensors (or errors) for a set of images, in one ``.npz`` file.

``skewcheck snapshot`` writes it in training CI; ``compare --train golden.npz`` replays it in
serving CI, where the training code (and its framework) may not even be installed.

File layout (``np.savez_compressed``, readable with ``np.load(path, allow_pickle=False)``):

* ``__meta__``: a uint8 array holding UTF-8 JSON: format, skewcheck version, the pipeline's ref
  and description, and one record per image: relative path, sha256 and size of the file's bytes,
  the outcome's status, error, notes and native warnings, and the name of its tensor array;
* ``t000000``, ``t000001`` …: the tensors, exactly as the pipeline returned them (dtype, shape).

Nothing in the file is pickled, so loading a snapshot cannot run code; a snapshot holding a pickled
(object) array, metadata that is not the documented JSON, or a file that is not a readable ``.npz``
is refused with a one-line UsageError before anything runs. Replay matches images by content hash,
so renamed or moved files still match; a file whose relative path is in the snapshot but whose
bytes differ is reported as changed (status ``missing``), never compared. An image that cannot be
read while snapshotting (an I/O error) is recorded as a failed image (``pipeline-error``, no
hash), not a reason to abort; a tensor of the snapshot that cannot be decompressed at replay is
that image's ``pipeline-error``.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from skewcheck.errors import UsageError, one_line
from skewcheck.images.source import ImageFile, ImageRoot, ObjectFile, relative_name
from skewcheck.pipelines.base import Pipeline
from skewcheck.pipelines.outcome import DEFAULT_MAX_TENSOR_MB, Outcome

STATUSES = ("ok", "decode-error", "pipeline-error", "missing")
UNREADABLE = "ImageUnreadable"  # error_type of an image whose file could not be read

FORMAT = "skewcheck.snapshot/v1"
META_KEY = "__meta__"
CHANGED = "SnapshotBytesChanged"  # error_type of an image whose bytes differ from the snapshot's
NOT_IN_SNAPSHOT = "NotInSnapshot"


def sha256_file(path: ImageFile) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class SnapshotStats:
    images: int = 0
    ok: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    bytes_written: int = 0


def write_snapshot(
    pipeline: Pipeline,
    files: Iterable[ImageFile],
    root: ImageRoot,
    out: Path,
    *,
    version: str,
    progress: Callable[[int], None] | None = None,
) -> SnapshotStats:
    """Run ``pipeline`` on every file and write the golden ``.npz`` to ``out``."""
    arrays: dict[str, np.ndarray] = {}
    seen: dict[str, str] = {}  # tensor content hash -> array name
    records: list[dict[str, Any]] = []
    stats = SnapshotStats()
    for path in files:
        try:
            data: bytes | None = path.read_bytes()
        except OSError as exc:  # an unreadable image is recorded as a failed image, not an abort
            data = None
            outcome = Outcome(
                status="pipeline-error",
                error_type=UNREADABLE,
                error=f"cannot read the image file: {exc.strerror or one_line(exc)}",
            )
        if data is not None:
            outcome = pipeline.run(path)
        record: dict[str, Any] = {
            "path": relative_name(path, root),
            "sha256": hashlib.sha256(data).hexdigest() if data is not None else None,
            "size": len(data) if data is not None else None,
            "status": outcome.status,
            "seconds": round(outcome.seconds, 6),
        }
        if outcome.ok and outcome.tensor is not None and outcome.tensor.dtype.hasobject:
            outcome = Outcome(
                status="pipeline-error",
                error_type="TypeError",
                error=f"the pipeline returned an object array ({outcome.tensor.dtype}); a snapshot stores numeric tensors only",
            )
            record["status"] = outcome.status
        if outcome.ok:
            tensor = np.ascontiguousarray(outcome.tensor)
            content = hashlib.sha256(f"{tensor.dtype.str}{tensor.shape}".encode() + tensor.tobytes()).hexdigest()
            key = seen.setdefault(content, f"t{len(seen):06d}")
            arrays.setdefault(key, tensor)  # identical tensors (duplicate images) stored once
            record["array"] = key
            stats.ok += 1
        else:
            record["error_type"] = outcome.error_type
            record["error"] = outcome.error
            stats.errors[outcome.status] = stats.errors.get(outcome.status, 0) + 1
        for name in ("notes", "native_warnings"):
            if getattr(outcome, name):
                record[name] = list(getattr(outcome, name))
        records.append(record)
        stats.images += 1
        if progress is not None:
            progress(stats.images)
    meta = {
        "format": FORMAT,
        "skewcheck_version": version,
        "created": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        "pipeline": {"ref": pipeline.ref, "description": pipeline.description},
        "images": records,
    }
    arrays[META_KEY] = np.frombuffer(json.dumps(meta, sort_keys=True).encode("utf-8"), dtype=np.uint8)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(out, "wb") as fh:  # a file object: savez would otherwise append ".npz" to the name
            np.savez_compressed(fh, **arrays)  # type: ignore[arg-type]
        stats.bytes_written = out.stat().st_size
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror or exc}") from None
    return stats


def read_meta(npz: Any, path: Path) -> dict[str, Any]:
    """The snapshot's metadata, checked to be what :func:`write_snapshot` writes (else UsageError)."""
    if META_KEY not in npz.files:
        raise UsageError(f"{path} is a .npz file but not a skewcheck snapshot (no {META_KEY} entry)")
    try:
        raw = npz[META_KEY]
        if raw.dtype != np.uint8 or raw.ndim != 1:
            raise ValueError(f"{META_KEY} is a {raw.dtype} array, not UTF-8 bytes")
        meta = json.loads(raw.tobytes().decode("utf-8"))
    except Exception as exc:  # noqa: BLE001 (corrupt zip member, pickled entry, bad JSON, deep nesting...)
        raise UsageError(
            f"{path}: the snapshot's metadata cannot be read ({type(exc).__name__}: {one_line(exc, 200)})"
        ) from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        shown = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        raise UsageError(f"{path}: unknown snapshot format {str(shown)[:80]!r} (expected {FORMAT})")
    if not isinstance(meta.get("images"), list):
        raise UsageError(f"{path}: the snapshot's metadata has no list of images")
    if not isinstance(meta.get("pipeline", {}), dict):
        raise UsageError(f"{path}: the snapshot's metadata 'pipeline' is not a table")
    meta["images"] = [_check_record(r, i, path, npz.files) for i, r in enumerate(meta["images"])]
    return meta


def _check_record(record: Any, index: int, path: Path, arrays: list[str]) -> dict[str, Any]:
    where = f"{path}: image record {index}"
    if not isinstance(record, dict):
        raise UsageError(f"{where} is not a table")
    if not isinstance(record.get("path"), str):
        raise UsageError(f"{where} has no 'path'")
    digest = record.get("sha256")
    if digest is not None and not isinstance(digest, str):
        raise UsageError(f"{where} ({record['path']}): 'sha256' is not a string")
    if record.get("status") not in STATUSES:
        raise UsageError(
            f"{where} ({record['path']}): status {str(record.get('status'))[:40]!r} is not one of {', '.join(STATUSES)}"
        )
    if record["status"] == "ok" and (not isinstance(record.get("array"), str) or record["array"] not in arrays):
        raise UsageError(f"{where} ({record['path']}): its tensor {str(record.get('array'))[:40]!r} is not in the file")
    for key in ("notes", "native_warnings"):
        value = record.get(key, [])
        if not isinstance(value, list):
            raise UsageError(f"{where} ({record['path']}): {key!r} is not a list")
        record[key] = [str(v) for v in value]
    for key in ("error_type", "error"):
        if record.get(key) is not None:
            record[key] = str(record[key])
    seconds = record.get("seconds", 0.0)
    record["seconds"] = (
        float(seconds)
        if isinstance(seconds, (int, float)) and not isinstance(seconds, bool) and math.isfinite(seconds)
        else 0.0
    )
    return record


def _array_headers(npz: Any, path: Path) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """Shape and dtype of every tensor, from the headers alone; a pickled array is refused."""
    from skewcheck.pipelines.tensors_dir import _npy_header

    headers: dict[str, tuple[tuple[int, ...], np.dtype]] = {}
    for name in npz.files:
        if name == META_KEY:
            continue
        try:
            with npz.zip.open(f"{name}.npy") as member:
                shape, dtype = _npy_header(member)
        except Exception as exc:  # noqa: BLE001 (a corrupt member or header)
            raise UsageError(
                f"{path}: tensor {name!r} cannot be read ({type(exc).__name__}: {one_line(exc, 200)})"
            ) from None
        if dtype.hasobject:
            raise UsageError(
                f"{path}: tensor {name!r} is a pickled object array; a snapshot holds numeric tensors only (not loaded)"
            )
        headers[name] = (shape, dtype)
    return headers


class SnapshotPipeline:
    """Replays a snapshot: the tensor recorded for the same bytes, or a ``missing`` outcome."""

    def __init__(
        self,
        path: str | Path,
        *,
        images_root: ImageRoot | None = None,
        what: str = "pipeline",
        max_tensor_mb: float | None = DEFAULT_MAX_TENSOR_MB,
    ) -> None:
        self.path = Path(path).absolute()  # a pipeline's chdir must not move it
        if not self.path.is_file():
            raise UsageError(f"{what}: snapshot file not found: {path}")
        try:
            self._npz = np.load(self.path, allow_pickle=False)
        except Exception as exc:  # noqa: BLE001 (truncated, corrupt, pickled: not a snapshot we can read)
            raise UsageError(
                f"{what}: cannot read snapshot {self.path}: {type(exc).__name__}: {one_line(exc, 200)}"
            ) from None
        if not hasattr(self._npz, "files"):  # a plain .npy saved under a .npz name
            raise UsageError(f"{what}: {self.path} is not a .npz archive")
        self.meta = read_meta(self._npz, self.path)
        self._headers = _array_headers(self._npz, self.path)
        self.max_tensor_mb = max_tensor_mb
        self.images_root = images_root
        self.records: list[dict[str, Any]] = list(self.meta.get("images", []))
        self._by_hash = {r["sha256"]: r for r in self.records if r.get("sha256")}
        self._by_path = {r["path"]: r for r in self.records}
        source = self.meta.get("pipeline", {})
        self.ref = str(self.path)
        self.description = (
            f"snapshot of {source.get('ref', '?')} ({source.get('description', '')}), "
            f"{len(self.records)} images, skewcheck {self.meta.get('skewcheck_version', '?')}"
        )

    def run(self, path: ImageFile) -> Outcome:
        try:
            digest = sha256_file(path)
        except OSError as exc:
            return Outcome(
                status="pipeline-error",
                error_type=UNREADABLE,
                error=f"cannot read the image file: {exc.strerror or one_line(exc)}",
            )
        record = self._by_hash.get(digest)
        if record is None:
            return self._not_found(path, digest)
        notes = [f"replayed from snapshot {self.path.name}", *record.get("notes", [])]
        if record["status"] != "ok":
            return Outcome(
                status=record["status"],
                error_type=record.get("error_type"),
                error=record.get("error"),
                native_warnings=list(record.get("native_warnings", [])),
                notes=notes,
                seconds=float(record.get("seconds", 0.0)),
            )
        shape, dtype = self._headers[record["array"]]
        size = math.prod(shape) * dtype.itemsize
        if self.max_tensor_mb is not None and size > self.max_tensor_mb * 1024 * 1024:
            return Outcome(
                status="pipeline-error",
                error_type="TensorTooLarge",
                notes=notes,
                error=f"tensor of {size / 1024 / 1024:,.1f} MiB (shape {list(shape)}, {dtype}) exceeds --max-tensor-mb {self.max_tensor_mb:g}",
            )
        try:
            tensor = self._npz[record["array"]]
        except Exception as exc:  # noqa: BLE001 (a corrupt member: this image's error, the rest replay)
            return Outcome(
                status="pipeline-error",
                error_type=type(exc).__name__,
                notes=notes,
                error=f"snapshot tensor {record['array']} cannot be read: {one_line(exc, 300)}",
            )
        return Outcome(
            status="ok",
            tensor=tensor,
            native_warnings=list(record.get("native_warnings", [])),
            notes=notes,
            seconds=float(record.get("seconds", 0.0)),
        )

    def _not_found(self, path: ImageFile, digest: str) -> Outcome:
        rel = _relative(path, self.images_root)
        record = self._by_path.get(rel) if rel is not None else None
        if record is not None:
            recorded = (
                f"sha256 {record['sha256'][:12]}… recorded" if record.get("sha256") else "unreadable when recorded"
            )
            return Outcome(
                status="missing",
                error_type=CHANGED,
                error=f"the bytes of {rel} changed since the snapshot ({recorded}, {digest[:12]}… now); not compared",
            )
        return Outcome(
            status="missing",
            error_type=NOT_IN_SNAPSHOT,
            error=f"no image with these bytes (sha256 {digest[:12]}…) in snapshot {self.path.name}",
        )


def _relative(path: ImageFile, root: ImageRoot | None) -> str | None:
    if isinstance(path, ObjectFile):
        return path.relative
    if not isinstance(root, Path):
        return None
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None


def take_snapshot(
    pipeline: object,
    out: str | Path,
    *,
    images: str | Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> SnapshotStats:
    """API behind ``skewcheck snapshot``: run ``pipeline`` (a reference or a callable) on every
    file under ``images`` (default: the built-in probe set) and write the golden file ``out``."""
    from skewcheck import __version__, probes
    from skewcheck.images.discover import iter_image_files
    from skewcheck.native import quiet_tensorflow_env
    from skewcheck.pipelines import load_pipeline

    quiet_tensorflow_env()
    out = Path(out)
    if out.suffix.lower() != ".npz":
        raise UsageError(f"-o {out}: a snapshot is a .npz file; name it e.g. golden.npz")
    if out.is_dir():
        raise UsageError(f"-o {out} is a folder; give a file name such as {out / 'golden.npz'}")
    root = probes.images_root(images)
    pipe = load_pipeline(pipeline, what="--pipeline", images_root=root)
    files = list(iter_image_files(root, skip={out}))
    if not files:
        raise UsageError(f"no files found under {root}")
    return write_snapshot(pipe, files, root, out, version=__version__, progress=progress)
