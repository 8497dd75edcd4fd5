"""User callables as pipelines: ``pkg.module:fn`` or ``path/to/file.py:fn``.

The callable receives the file's bytes, or its path when its first parameter is annotated
``str`` / ``Path``. Whatever it returns is kept with its exact dtype: dtype skew is a finding,
never something to fix silently.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import inspect
import os
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from skewcheck.errors import UsageError, one_line, safe_text, type_name
from skewcheck.images.source import ImageFile, local_path
from skewcheck.native import capture_native_stderr
from skewcheck.pipelines.isolation import DecoderSettings, apply_settings, read_settings
from skewcheck.pipelines.outcome import (
    DEFAULT_MAX_TENSOR_MB,
    DecoderWatch,
    NativeBudget,
    Outcome,
    tensor_too_large,
)

# A ``file.py`` pipeline is imported under this prefix plus a per-process name, which only the
# process that imported it knows (a worker's parent cannot unpickle the file's classes).
USER_MODULE_PREFIX = "_skewcheck_user_"
_PATH_ANNOTATIONS = {"str", "Path", "pathlib.Path", "os.PathLike", "PathLike", "str | Path"}


def resolve_callable(ref: str, what: str) -> Callable[..., Any]:
    """Import ``module:attr`` or ``file.py:attr``; any failure is a one-line UsageError."""
    target, sep, attr = ref.rpartition(":")
    if not sep or not target or not attr:
        raise UsageError(f"{what} reference {ref!r} is not of the form 'pkg.module:fn' or 'file.py:fn'")
    try:
        if target.endswith(".py") or "/" in target or "\\" in target:
            module = _import_file(Path(target), what)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                module = importlib.import_module(target)
    except UsageError:
        raise
    except ModuleNotFoundError as exc:
        raise UsageError(f"{what} {ref!r}: cannot import {exc.name!r} ({exc})") from None
    except (Exception, SystemExit) as exc:  # the user's module raised (or called sys.exit) while importing
        raise UsageError(f"{what} {ref!r}: importing it raised {type_name(exc)}: {one_line(exc, 500)}") from None
    fn = getattr(module, attr, None)
    if fn is None:
        raise UsageError(f"{what} {ref!r}: {target!r} has no attribute {attr!r}")
    if not callable(fn):
        raise UsageError(f"{what} {ref!r}: {attr!r} is not callable")
    return fn


def _import_file(path: Path, what: str) -> Any:
    if not path.is_file():
        raise UsageError(f"{what} file not found: {path}")
    name = f"{USER_MODULE_PREFIX}{abs(hash(str(path.resolve())))}_{path.stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise UsageError(f"{what} file {path} cannot be imported as Python")
    module = importlib.util.module_from_spec(spec)
    # Let the file import its siblings, as it would when run from its own folder.
    folder = str(path.resolve().parent)
    sys.path.insert(0, folder)
    cwd = os.getcwd()
    try:
        sys.modules[name] = module
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    finally:
        with contextlib.suppress(ValueError):  # the module may have removed it itself
            sys.path.remove(folder)
        _restore_cwd(cwd)
    return module


def _restore_cwd(cwd: str) -> None:
    """Undo a pipeline's ``os.chdir``: the rest of the run (and relative report paths) keep theirs."""
    try:
        if os.getcwd() == cwd:
            return
    except OSError:  # the pipeline removed the folder it moved into
        pass
    try:
        os.chdir(cwd)
    except OSError:
        pass


def wants_path(fn: Callable[..., Any]) -> bool:
    """True when the first parameter is annotated ``str`` or ``Path`` (string annotations too)."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return False
    if not params:
        return False
    ann = params[0].annotation
    if ann is inspect.Parameter.empty:
        return False
    if isinstance(ann, str):
        return ann.replace(" ", "") in {a.replace(" ", "") for a in _PATH_ANNOTATIONS}
    if ann is str or ann is Path:
        return True
    return isinstance(ann, type) and issubclass(ann, Path)


def to_numpy(value: Any) -> np.ndarray:
    """tf.Tensor / torch tensor / ``__array__`` / PIL image → ndarray, dtype untouched.

    An ndarray subclass becomes a plain ndarray over the same values: its class lives in the
    user's module, which a worker's parent cannot import to unpickle it, and its methods (say
    ``np.matrix``'s products, or a ``__reduce_ex__`` that raises) would act in the comparison."""
    if isinstance(value, np.ndarray):
        return value if type(value) is np.ndarray else np.asarray(value)
    if hasattr(value, "numpy") and callable(value.numpy):
        return np.asarray(value.numpy())
    if hasattr(value, "__array__") or hasattr(value, "__array_interface__"):
        return np.asarray(value)
    raise TypeError(f"pipeline returned {type(value).__name__}, not an array-like")


def check_numeric(tensor: np.ndarray) -> np.ndarray:
    """Only real numbers (or booleans) can be compared; anything else is the pipeline's error."""
    if tensor.dtype == bool or (
        np.issubdtype(tensor.dtype, np.number) and not np.issubdtype(tensor.dtype, np.complexfloating)
    ):
        return tensor
    raise TypeError(f"pipeline returned an array of dtype {tensor.dtype}, not real numbers")


def finish_tensor(tensor: np.ndarray, notes: list[str]) -> np.ndarray:
    """Drop a leading batch axis of 1 from a 4-D result and say so."""
    if tensor.ndim == 4 and tensor.shape[0] == 1:
        notes.append(f"dropped a leading batch axis of 1 (returned shape {tuple(tensor.shape)})")
        return tensor[0]
    return tensor


class CallablePipeline:
    """A user callable run on one image at a time, in this process.

    What the callable may do to the process is contained: an exception, ``sys.exit(...)``
    (``SystemExit``: a user pipeline never decides skewcheck's exit code) and anything else
    except ``KeyboardInterrupt`` become that image's ``pipeline-error`` (or ``decode-error``)
    outcome. ``KeyboardInterrupt`` is treated as the user's Ctrl-C and stops the audit; a pipeline
    that raises it on its own stops the audit too (Python cannot tell the two apart). The working
    directory is restored after each call, and Pillow's process-wide decoder switches are kept per
    pipeline (see :mod:`skewcheck.pipelines.isolation`).
    """

    def __init__(
        self,
        ref: str,
        fn: Callable[..., Any] | None = None,
        *,
        what: str = "pipeline",
        max_tensor_mb: float | None = DEFAULT_MAX_TENSOR_MB,
    ):
        self.ref = ref
        self.max_tensor_mb = max_tensor_mb
        self._native_budget = NativeBudget()
        outside = read_settings()
        self.fn = fn if fn is not None else resolve_callable(ref, what)
        self._settings = DecoderSettings(read_settings())  # what importing the user's module set
        apply_settings(outside)
        self._wants_path = wants_path(self.fn)
        name = getattr(self.fn, "__qualname__", repr(self.fn))
        module = getattr(self.fn, "__module__", "")
        arg = "path" if self._wants_path else "bytes"
        self.description = f"callable {name} (from {module or ref}) receiving the file's {arg}"

    def run(self, path: ImageFile) -> Outcome:
        start = time.perf_counter()
        cwd = os.getcwd()
        watch = DecoderWatch()
        try:
            with capture_native_stderr(stdout=True) as native, self._settings, watch.watching():
                try:
                    result = self._call(path)
                    tensor = check_numeric(to_numpy(result))
                    error: BaseException | None = None
                except KeyboardInterrupt:  # Ctrl-C: the user stops the audit
                    raise
                except BaseException as exc:  # failing, or sys.exit(), is a result, not a crash
                    error = exc
        finally:
            _restore_cwd(cwd)
        seconds = time.perf_counter() - start
        lines = self._native_budget.cap(native.lines)
        if error is not None:
            outcome = Outcome.from_exception(error, lines, seconds, decoder_refused=watch.refused)
            if isinstance(error, SystemExit):
                outcome.status = "pipeline-error"
                code = safe_text(error.code, repr)  # the user's object: its __repr__ may raise
                outcome.error = f"the pipeline called sys.exit({code}); recorded as this image's error"
            elif isinstance(error, GeneratorExit):
                outcome.status = "pipeline-error"
            return outcome
        too_large = tensor_too_large(tensor, self.max_tensor_mb)
        if too_large is not None:
            too_large.seconds, too_large.native_warnings = seconds, lines
            return too_large
        notes: list[str] = []
        tensor = finish_tensor(tensor, notes)
        return Outcome(status="ok", tensor=tensor, native_warnings=lines, notes=notes, seconds=seconds)

    def call_inside(self, file: ImageFile, around: contextlib.AbstractContextManager[Any]) -> BaseException | None:
        """Call the function once more on ``file`` with ``around`` (a line tracer) entered just
        around the call, contained as :meth:`run` contains it: the exception it raised, or None."""
        cwd = os.getcwd()
        try:
            with capture_native_stderr(), self._settings:
                self._call(file, around)
        except KeyboardInterrupt:  # Ctrl-C: the user stops the audit
            raise
        except BaseException as exc:  # noqa: B036 (a pipeline's sys.exit() is its result, as in run)
            return exc
        finally:
            _restore_cwd(cwd)
        return None

    def _call(self, file: ImageFile, around: contextlib.AbstractContextManager[Any] | None = None) -> Any:
        around = around if around is not None else contextlib.nullcontext()
        if not self._wants_path:
            data = file.read_bytes()
            with around:
                return self.fn(data)
        with local_path(file) as path, around:  # an object under a URI: a temporary copy, same file name
            return self.fn(str(path))
