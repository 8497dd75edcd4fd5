"""Load a model whose loader is native and crash-prone in a child process first.

A byte-mutated ``.tflite`` file does not raise: the flatbuffer is read without verification and
the interpreter dies on a wild pointer (SIGSEGV, SIGBUS), taking ``compare`` or ``inspect`` with
it. So before the model is loaded in skewcheck's own process, a checker process loads it, allocates
its tensors and runs it once on zeros. A checker that dies (or hangs) means the file would have
killed us: that is a one-line usage error. A Python exception in the checker is not our verdict:
the real load then raises it again, with its own message.

One checker process serves every check of a run (TensorFlow is imported once, in parallel with the
parent's own import), and a file's bytes are checked once per process. It ends when its stdin
closes, i.e. with skewcheck.

A mutated file can also ask for memory without end (a 2.4 KB one took the checker to 5.8 GB), and
the real load would do the same in skewcheck's own process. So each check runs under an address
space limit (``RLIMIT_AS``): what the checker had mapped after TensorFlow's import plus
:func:`memory_budget` of the file. A load that runs into it (``MemoryError``, or a native abort)
is that model's load error.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from skewcheck.errors import UsageError
from skewcheck.native import is_verbose

TIMEOUT_S = float(os.environ.get("SKEWCHECK_LOAD_CHECK_TIMEOUT", "300"))  # TensorFlow's import included

_CHECKER = r"""
import os, sys, warnings
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.simplefilter("ignore")
import numpy as np
import tensorflow as tf

def check(path):
    interp = tf.lite.Interpreter(model_path=path)
    interp.allocate_tensors()
    for key in interp.get_signature_list():
        runner = interp.get_signature_runner(key)
        runner.get_input_details(), runner.get_output_details()
    for d in interp.get_input_details():
        shape = [1 if s < 0 else int(s) for s in d["shape_signature"]]
        if list(d["shape"]) != shape:
            interp.resize_tensor_input(d["index"], shape)
            interp.allocate_tensors()
    for d in interp.get_input_details():
        interp.set_tensor(d["index"], np.zeros(d["shape"], d["dtype"]))
    interp.invoke()
    for d in interp.get_output_details():
        interp.get_tensor(d["index"])

def limit_memory(budget):
    try:
        import resource
        with open("/proc/self/status") as status:
            mapped = next(int(l.split()[1]) * 1024 for l in status if l.startswith("VmSize:"))
        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        soft = mapped + budget
        resource.setrlimit(resource.RLIMIT_AS, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))
    except Exception:
        pass  # no /proc (macOS, Windows), or no RLIMIT_AS: unlimited, as before

sys.stdout.write("ready\n"); sys.stdout.flush()
for line in sys.stdin:
    budget, _, path = line.rstrip("\n").partition(" ")
    limit_memory(int(budget))
    try:
        check(path)
    except MemoryError:  # also C++'s std::bad_alloc
        sys.stdout.write("memory\n"); sys.stdout.flush()
        continue
    except Exception:
        pass  # a Python error: the parent's own load raises it again, in its own words
    sys.stdout.write("ok\n"); sys.stdout.flush()
"""

MIN_BUDGET = 2 * 2**30  # bytes the checker may map beyond TensorFlow's import, for any file
BUDGET_PER_FILE_BYTE = 64  # and per byte of the file: tensor arenas, a delegate's packed weights


def memory_budget(size: int) -> int:
    """Bytes a check of a ``size``-byte file may map on top of what TensorFlow's import mapped."""
    return max(MIN_BUDGET, BUDGET_PER_FILE_BYTE * size)


_checked: set[str] = set()  # sha256 of files that loaded and ran in the checker
_proc: subprocess.Popen[bytes] | None = None


def start_checker() -> None:
    """Start the checker now (it imports TensorFlow while the caller imports it too)."""
    global _proc
    if _proc is not None and _proc.poll() is None:
        return
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}  # the TFLite interpreter runs on the CPU: no CUDA mappings
    _proc = subprocess.Popen(
        [sys.executable, "-c", _CHECKER],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=None if is_verbose() else subprocess.DEVNULL,
        start_new_session=False,
    )


def _stop_checker() -> None:
    global _proc
    if _proc is not None:
        if _proc.poll() is None:
            _proc.kill()
        _proc.wait()
        _proc = None


atexit.register(_stop_checker)


def _read_line(proc: subprocess.Popen[bytes], deadline: float) -> bytes:
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    data = b""
    while not data.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise TimeoutError
        chunk = os.read(fd, 64)
        if not chunk:
            return data  # the checker died
        data += chunk
    return data


def _exit_text(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return signal.Signals(-code).name
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


def check_tflite_loads(path: Path) -> None:
    """Raise UsageError when loading and running ``path`` kills (or hangs) a checker process."""
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest in _checked:
        return
    start_checker()
    proc = _proc
    assert proc is not None and proc.stdin is not None
    deadline = time.monotonic() + TIMEOUT_S
    budget = memory_budget(len(data))
    try:
        if not hasattr(proc, "_skewcheck_ready"):
            if _read_line(proc, deadline) != b"ready\n":
                _stop_checker()
                return  # the checker itself could not start (no TensorFlow?): the real load will say why
            proc._skewcheck_ready = True  # type: ignore[attr-defined]
        proc.stdin.write(b"%d " % budget + os.fsencode(str(path.resolve())) + b"\n")
        proc.stdin.flush()
        answer = _read_line(proc, deadline)
    except TimeoutError:
        _stop_checker()
        raise UsageError(
            f"cannot load model {path}: loading it did not finish within {TIMEOUT_S:g} s in a check process "
            "(a corrupt file?)"
        ) from None
    except BrokenPipeError:
        answer = b""
    if answer == b"ok\n":
        _checked.add(digest)
        return
    if answer == b"memory\n":
        raise UsageError(
            f"cannot load model {path}: loading it asked for more than {budget / 2**30:.1f} GiB of memory "
            "(beyond TensorFlow's own) in a check process; the file is corrupt or too large to check"
        )
    code = proc.wait()
    _stop_checker()
    raise UsageError(
        f"cannot load model {path}: the TFLite loader crashed ({_exit_text(code)}) on it in a check process; "
        "the file is corrupt or not a model this TensorFlow can read"
    )
