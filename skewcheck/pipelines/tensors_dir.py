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
that does not match the shape, a truncated ``.npy``, a corrupt ``.npz``, a pickled array, a tensor
over ``--max-tensor-mb``): ``pipeline-error`` with the reason. Whatever such a per-image file
holds, reading it gives a tensor or that image's error, never an error of the whole audit.
Non-regular files (a FIFO named ``x.jpg.npy``) are never opened.
"""

from __future__ import annotations

import io
import json
import re
import stat
import time
import zipfile
from pathlib import Path
from typing import Any, Literal

import numpy as np

from skewcheck.errors import UsageError
from skewcheck.images.source import ImageFile, ImageRoot, ObjectFile
from skewcheck.pipelines.outcome import (
    DEFAULT_MAX_TENSOR_MB,
    Outcome,
    classify_foreign_text,
)
from skewcheck.pipelines.user_callable import finish_tensor

PREFIX = "tensors:"
_BYTE_ORDERS: dict[str, Literal["<", ">"]] = {"little": "<", "big": ">"}
_DTYPE_NAME = re.compile(r"[<>=|]?[A-Za-z]{1,10}[0-9]{0,3}")
MAX_DIMS = 32
MAX_SIDECAR_BYTES = 64 * 1024


class TensorFileError(ValueError):
    """A dumped tensor file exists but does not hold what its name or sidecar says."""


class ForeignError(Exception):
    """The error a foreign system recorded for an image (``.error`` file)."""


class TensorsDirPipeline:
    def __init__(
        self,
        ref: str,
        *,
        images_root: ImageRoot | None = None,
        what: str = "pipeline",
        max_tensor_mb: float | None = DEFAULT_MAX_TENSOR_MB,
    ) -> None:
        self.ref = ref
        folder = ref.removeprefix(PREFIX)
        if not folder.strip():
            raise UsageError(f"{what} {ref!r}: give the tensors folder as tensors:DIR")
        try:
            self.dir = Path(folder).expanduser().absolute()  # a pipeline's chdir must not move it
            found = self.dir.is_dir()
        except (OSError, ValueError, RuntimeError):
            found = False
        if not found:
            raise UsageError(f"{what} {ref!r}: tensors folder not found: {folder}")
        self.images_root = images_root
        self.max_tensor_mb = max_tensor_mb
        self.description = (
            f"tensors dumped by another system, read from {self.dir} (<image path>.npy | .npz | .bin+.json)"
        )

    def relative_name(self, path: ImageFile) -> str:
        """The image's path relative to ``--images`` (the current directory without one)."""
        if isinstance(path, ObjectFile):
            return path.relative
        root = self.images_root if isinstance(self.images_root, Path) else Path.cwd()
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            return path.name

    def run(self, path: ImageFile) -> Outcome:
        start = time.perf_counter()
        rel = self.relative_name(path)
        base = self.dir / rel
        try:
            found = _load(base, self.max_tensor_mb)
            error_text = _read_error_file(Path(f"{base}.error")) if found is None else None
        except Exception as exc:  # noqa: BLE001 (whatever the file holds, it is this image's error)
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if not isinstance(exc, TensorFileError):
                message = f"cannot read the tensor file for {rel}: {message}"
            return Outcome(
                status="pipeline-error",
                error_type=type(exc).__name__,
                error=message[:500],
                seconds=time.perf_counter() - start,
            )
        seconds = time.perf_counter() - start
        if found is None:
            error_file = Path(f"{base}.error")
            if error_text is not None:
                foreign = ForeignError(error_text)
                return Outcome(
                    status=classify_foreign_text(error_text),
                    error_type="ForeignError",
                    error=str(foreign),
                    notes=[f"error recorded by the other system in {error_file.name}"],
                    seconds=seconds,
                )
            return Outcome(
                status="missing",
                error_type="TensorNotFound",
                error=f"no tensor for {rel} in {self.dir} (looked for {rel}.npy, .npz, .bin + .json, .error)",
                seconds=seconds,
            )
        tensor, source = found
        notes = [f"read from {source}"]
        tensor = finish_tensor(tensor, notes)
        return Outcome(status="ok", tensor=tensor, notes=notes, seconds=seconds)


def _regular(path: Path) -> bool:
    """A regular file (after symlinks); False for a FIFO, socket or device, which are never opened."""
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except (OSError, ValueError, RuntimeError):
        return False


def _present(path: Path) -> bool:
    """The name exists at all (a FIFO too: then it is an error, not a missing tensor)."""
    try:
        path.lstat()
    except (OSError, ValueError):
        return False
    return True


def _check_regular(path: Path) -> None:
    if not _regular(path):
        raise TensorFileError(f"{path.name} is not a regular file (a FIFO, socket, device or dangling link); not read")


def _read_error_file(path: Path) -> str | None:
    if not _present(path):
        return None
    _check_regular(path)
    with open(path, "rb") as fh:
        text = fh.read(4096).decode("utf-8", "replace").strip()
    return (text.splitlines()[0][:500] if text else "") or "error"


def _limit_bytes(max_tensor_mb: float | None) -> float:
    return float("inf") if max_tensor_mb is None else max_tensor_mb * 1024 * 1024


def _check_header(name: str, shape: tuple[int, ...], dtype: np.dtype, max_tensor_mb: float | None) -> None:
    """Refuse an object (pickled) array or one over the size limit from its header alone."""
    if dtype.hasobject:
        raise TensorFileError(f"{name} holds a pickled object array ({dtype}); only numeric tensors are read")
    if dtype.kind not in "biuf" or dtype.shape != ():
        raise TensorFileError(f"{name}: dtype {dtype} is not a numeric dtype")
    size = _product(shape) * dtype.itemsize
    if size > _limit_bytes(max_tensor_mb):
        raise TensorFileError(
            f"{name}: tensor of {size / 1024 / 1024:,.1f} MiB (shape {list(shape)}, {dtype}) exceeds --max-tensor-mb {max_tensor_mb:g}"
        )


def _product(shape: tuple[int, ...]) -> int:
    out = 1
    for d in shape:
        out *= int(d)
    return out


def _npy_header(fh: Any) -> tuple[tuple[int, ...], np.dtype]:
    version = np.lib.format.read_magic(fh)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
    elif version == (2, 0):
        shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
    else:
        raise TensorFileError(f"unsupported .npy format version {version}")
    return tuple(shape), dtype


def read_npy(path: Path, max_tensor_mb: float | None = None) -> np.ndarray:
    """One ``.npy`` file: its header checked (no pickles, size limit) before its data is read."""
    _check_regular(path)
    with open(path, "rb") as fh:
        shape, dtype = _npy_header(fh)
        _check_header(path.name, shape, dtype, max_tensor_mb)
        fh.seek(0)
        return np.load(fh, allow_pickle=False)


def read_npz_single(path: Path, max_tensor_mb: float | None = None) -> np.ndarray:
    """A ``.npz`` archive holding exactly one array, checked like :func:`read_npy`."""
    _check_regular(path)
    with zipfile.ZipFile(path) as archive:
        names = [n for n in archive.namelist() if n.endswith(".npy")]
        if len(names) != 1 or len(archive.namelist()) != 1:
            shown = ", ".join(n.removesuffix(".npy") for n in archive.namelist()[:5])
            raise TensorFileError(f"{path.name} holds {len(archive.namelist())} arrays ({shown}); expected exactly one")
        with archive.open(names[0]) as member:
            shape, dtype = _npy_header(member)
            _check_header(path.name, shape, dtype, max_tensor_mb)
        with archive.open(names[0]) as member:
            data = member.read()
    return np.load(io.BytesIO(data), allow_pickle=False)


def _load(base: Path, max_tensor_mb: float | None = None) -> tuple[np.ndarray, str] | None:
    npy, npz, raw = Path(f"{base}.npy"), Path(f"{base}.npz"), Path(f"{base}.bin")
    if _present(npy):
        return read_npy(npy, max_tensor_mb), npy.name
    if _present(npz):
        return read_npz_single(npz, max_tensor_mb), npz.name
    if _present(raw):
        return read_raw(raw, Path(f"{base}.json"), max_tensor_mb), raw.name
    return None


def parse_sidecar(text: str, name: str = "sidecar") -> tuple[tuple[int, ...], np.dtype, Literal["<", ">"]]:
    """``{"shape": [...], "dtype": "float32", "byte_order": "little"}`` → (shape, dtype, order).

    Any other content is a :class:`TensorFileError` naming what is wrong.
    """
    usage = f'{name}: expected {{"shape": [H, W, C], "dtype": "float32"}} (optional "byte_order": little|big)'
    try:
        spec = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise TensorFileError(f"{usage}, got invalid JSON: {str(exc)[:200]}") from None
    if not isinstance(spec, dict) or "shape" not in spec or "dtype" not in spec:
        raise TensorFileError(f"{usage}, got {str(spec)[:100]!r}")
    raw_shape = spec["shape"]
    if (
        not isinstance(raw_shape, list)
        or len(raw_shape) > MAX_DIMS
        or any(isinstance(d, bool) or not isinstance(d, int) or not 0 <= d < 2**40 for d in raw_shape)
    ):
        raise TensorFileError(
            f"{usage}: shape must be a list of at most {MAX_DIMS} non-negative integers, got {str(raw_shape)[:100]}"
        )
    name_ = spec["dtype"]
    dtype: np.dtype | None = None
    if isinstance(name_, str) and _DTYPE_NAME.fullmatch(name_):
        try:
            dtype = np.dtype(name_)
        except (TypeError, ValueError, SyntaxError):
            dtype = None
    if dtype is None or dtype.kind not in "biuf" or dtype.shape != () or dtype.hasobject:
        raise TensorFileError(f"{usage}: dtype {str(name_)[:40]!r} is not a numeric dtype such as float32 or uint8")
    order_name = spec.get("byte_order", "little")
    if not isinstance(order_name, str) or order_name not in _BYTE_ORDERS:
        raise TensorFileError(f"{usage}: byte_order must be little or big, got {str(order_name)[:40]!r}")
    return tuple(int(d) for d in raw_shape), dtype, _BYTE_ORDERS[order_name]


def read_raw(raw: Path, sidecar: Path, max_tensor_mb: float | None = None) -> np.ndarray:
    """A raw ``.bin`` tensor described by its ``.json`` sidecar, in the machine's byte order."""
    if not _present(sidecar):
        raise TensorFileError(f"{raw.name} has no sidecar {sidecar.name} giving its shape and dtype")
    _check_regular(sidecar)
    _check_regular(raw)
    with open(sidecar, "rb") as fh:
        text = fh.read(MAX_SIDECAR_BYTES + 1)
    if len(text) > MAX_SIDECAR_BYTES:
        raise TensorFileError(f"{sidecar.name} is over {MAX_SIDECAR_BYTES // 1024} KiB: not a shape and dtype")
    shape, dtype, order = parse_sidecar(text.decode("utf-8", "replace"), sidecar.name)
    expected = _product(shape) * dtype.itemsize
    size = raw.stat().st_size
    if size != expected:
        raise TensorFileError(f"{raw.name} has {size} bytes; shape {list(shape)} of {dtype} needs {expected}")
    _check_header(raw.name, shape, dtype, max_tensor_mb)
    data = raw.read_bytes()
    if len(data) != expected:  # changed while reading
        raise TensorFileError(f"{raw.name} has {len(data)} bytes; shape {list(shape)} of {dtype} needs {expected}")
    values = np.frombuffer(data, dtype=dtype.newbyteorder(order)).reshape(shape)
    return values.astype(dtype.newbyteorder("="))  # native order, a writable copy
