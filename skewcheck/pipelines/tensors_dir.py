"""``tensors:DIR``: tensors dumped by another system (a Java or C++ service, a phone).

For an image ``cat/001.jpg`` under ``--images``, the tensor is looked up, in this order, as

* ``DIR/cat/001.jpg.npy`` — a NumPy array (``np.save``; loaded with ``allow_pickle=False``);
* ``DIR/cat/001.jpg.npz`` — an archive holding exactly one array;
* ``DIR/cat/001.jpg.bin`` + ``DIR/cat/001.jpg.json`` — raw bytes, little-endian unless the JSON
  says ``"byte_order": "big"``, described by ``{"shape": [224, 224, 3], "dtype": "float32"}``:
  what a service without NumPy can write (see docs/snapshots.md).

A service that failed on an image may write ``DIR/cat/001.jpg.error`` with its error message: the
image then gets an error outcome (decode or pipeline error, as for a Python pipeline that raised).
No file at all: status ``missing``. A file that cannot be read as described (bad JSON, byte count
that does not match the shape): ``pipeline-error`` with the reason.
"""

from __future__ import annotations

import json
import time
import zipfile
from pathlib import Path
from typing import Literal

import numpy as np

from skewcheck.errors import UsageError
from skewcheck.pipelines.outcome import Outcome, classify_error
from skewcheck.pipelines.user_callable import finish_tensor

PREFIX = "tensors:"
_BYTE_ORDERS: dict[str, Literal["<", ">"]] = {"little": "<", "big": ">"}


class TensorFileError(ValueError):
    """A dumped tensor file exists but does not hold what its name or sidecar says."""


class ForeignError(Exception):
    """The error a foreign system recorded for an image (``.error`` file)."""


class TensorsDirPipeline:
    def __init__(self, ref: str, *, images_root: Path | None = None, what: str = "pipeline") -> None:
        self.ref = ref
        self.dir = Path(ref.removeprefix(PREFIX)).expanduser()
        if not str(self.dir).strip() or not self.dir.is_dir():
            raise UsageError(f"{what} {ref!r}: tensors folder not found: {self.dir}")
        self.images_root = images_root
        self.description = f"tensors dumped by another system, read from {self.dir} (<image path>.npy | .npz | .bin+.json)"

    def relative_name(self, path: Path) -> str:
        """The image's path relative to ``--images`` (the current directory without one)."""
        root = self.images_root if self.images_root is not None else Path.cwd()
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            return path.name

    def run(self, path: Path) -> Outcome:
        start = time.perf_counter()
        rel = self.relative_name(path)
        base = self.dir / rel
        try:
            found = _load(base)
        except (TensorFileError, OSError, ValueError, zipfile.BadZipFile) as exc:
            return Outcome(
                status="pipeline-error", error_type=type(exc).__name__, error=str(exc)[:500],
                seconds=time.perf_counter() - start,
            )  # fmt: skip
        seconds = time.perf_counter() - start
        if found is None:
            error_file = Path(f"{base}.error")
            if error_file.is_file():
                text = error_file.read_text(encoding="utf-8", errors="replace").strip() or "error"
                foreign = ForeignError(text.splitlines()[0][:500])
                return Outcome(
                    status=classify_error(foreign, []), error_type="ForeignError", error=str(foreign),
                    notes=[f"error recorded by the other system in {error_file.name}"], seconds=seconds,
                )  # fmt: skip
            return Outcome(
                status="missing", error_type="TensorNotFound",
                error=f"no tensor for {rel} in {self.dir} (looked for {rel}.npy, .npz, .bin + .json, .error)",
                seconds=seconds,
            )  # fmt: skip
        tensor, source = found
        notes = [f"read from {source}"]
        tensor = finish_tensor(tensor, notes)
        return Outcome(status="ok", tensor=tensor, notes=notes, seconds=seconds)


def _load(base: Path) -> tuple[np.ndarray, str] | None:
    npy, npz, raw = Path(f"{base}.npy"), Path(f"{base}.npz"), Path(f"{base}.bin")
    if npy.is_file():
        return np.load(npy, allow_pickle=False), npy.name
    if npz.is_file():
        with np.load(npz, allow_pickle=False) as archive:
            if len(archive.files) != 1:
                raise TensorFileError(f"{npz.name} holds {len(archive.files)} arrays ({', '.join(archive.files)}); expected exactly one")
            return archive[archive.files[0]], npz.name
    if raw.is_file():
        return read_raw(raw, Path(f"{base}.json")), raw.name
    return None


def read_raw(raw: Path, sidecar: Path) -> np.ndarray:
    """A raw ``.bin`` tensor described by its ``.json`` sidecar, in the machine's byte order."""
    if not sidecar.is_file():
        raise TensorFileError(f"{raw.name} has no sidecar {sidecar.name} giving its shape and dtype")
    try:
        spec = json.loads(sidecar.read_text(encoding="utf-8"))
        shape = tuple(int(d) for d in spec["shape"])
        dtype = np.dtype(str(spec["dtype"]))
        order = _BYTE_ORDERS[str(spec.get("byte_order", "little"))]
    except (ValueError, KeyError, TypeError) as exc:
        raise TensorFileError(
            f"{sidecar.name}: expected {{\"shape\": [H, W, C], \"dtype\": \"float32\"}} "
            f"(optional \"byte_order\": little|big), got an error: {type(exc).__name__}: {exc}"
        ) from None
    if dtype.hasobject or dtype.kind not in "biuf":
        raise TensorFileError(f"{sidecar.name}: dtype {dtype} is not a numeric dtype")
    data = raw.read_bytes()
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        raise TensorFileError(
            f"{raw.name} has {len(data)} bytes; shape {list(shape)} of {dtype} needs {expected}"
        )
    values = np.frombuffer(data, dtype=dtype.newbyteorder(order)).reshape(shape)
    return values.astype(dtype.newbyteorder("="))  # native order, a writable copy
