"""The example KServe server (fixtures/serving_example.py) as a test fixture: a free port, a
readiness wait with a deadline, and a stop that always runs (SIGTERM, then SIGKILL)."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
READY_TIMEOUT_S = 180.0  # TensorFlow's import and the model load on a loaded 2-core machine


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def kserve_python_or_reason() -> tuple[str | None, str]:
    sys.path.insert(0, str(REPO / "fixtures"))
    try:
        from serving_venv import kserve_python

        return kserve_python()
    except RuntimeError as exc:
        return None, str(exc)
    finally:
        sys.path.remove(str(REPO / "fixtures"))


@contextlib.contextmanager
def example_server(python: str, bug: str, log: Path) -> Iterator[str]:
    """Yields ``http://127.0.0.1:PORT`` once the model answers; the server is stopped on exit."""
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [python, str(REPO / "fixtures" / "serving_example.py"), "--port", str(port), "--bug", bug],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the example server exited with {proc.returncode}: {log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{base}/v2/models/example/ready", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"the example server was not ready within {READY_TIMEOUT_S:.0f} s: {log.read_text()[-2000:]}"
                )
            time.sleep(0.5)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
