"""An HTTP server on 127.0.0.1 that misbehaves on purpose (issue 24), in a thread of the test.

Each test says what the readiness check (GET) and a prediction (POST) get back, as a function of
the request: ``reply(request) -> Answer``. An answer can be trickled (one byte every few tenths
of a second) or generated lazily (a 100 MB page costs the server no memory); ``Served`` records
what was asked and how many bytes each answer got out before the client hung up.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np

V1 = "/v1/models/m:predict"
V2 = "/v2/models/m/infer"


@dataclass
class Answer:
    status: int = 200
    body: bytes | Iterable[bytes] = b""  # an iterable is sent chunk by chunk (Connection: close, no length)
    headers: dict[str, str] = field(default_factory=dict)
    trickle_s: float = 0.0  # > 0: the body goes out one byte at a time, this far apart
    trickle_headers: bool = False  # trickle the status line and headers too (else only the body)


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def instances(self) -> int:
        """How many images a v1 or v2 request carries."""
        data = json.loads(self.body)
        return len(data["instances"]) if "instances" in data else int(data["inputs"][0]["shape"][0])


@dataclass
class Served:
    url: str
    requests: list[Request] = field(default_factory=list)
    sent: list[int] = field(default_factory=list)  # bytes of each answer that got out
    stop: threading.Event = field(default_factory=threading.Event)


Reply = Callable[[Request], Answer]


def ready(request: Request) -> Answer:
    return json_answer({"name": "m", "inputs": [{"name": "image", "datatype": "BYTES", "shape": [-1]}]})


def json_answer(data: Any, status: int = 200) -> Answer:
    return Answer(status, json.dumps(data).encode(), {"Content-Type": "application/json"})


def v1_rows(request: Request, row: Any) -> Answer:
    return json_answer({"predictions": [row] * request.instances})


@contextlib.contextmanager
def misbehaving_endpoint(post: Reply, get: Reply = ready) -> Iterator[Served]:
    """A server answering POST with ``post`` and GET with ``get`` until the block ends."""
    served = Served("")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self._answer(get)

        def do_POST(self) -> None:
            self._answer(post)

        def _answer(self, reply: Reply) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            request = Request(self.command, self.path, dict(self.headers), body)
            served.requests.append(request)
            answer = reply(request)
            sent = 0
            try:
                for piece, slowly in _wire(answer):
                    if slowly:
                        for i in range(len(piece)):
                            if served.stop.wait(answer.trickle_s):
                                return
                            self.wfile.write(piece[i : i + 1])
                            self.wfile.flush()
                    else:
                        self.wfile.write(piece)
                    sent += len(piece)
            except OSError:  # the client hung up: what it took is in `sent`
                pass
            finally:
                served.sent.append(sent)
                self.close_connection = True

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    served.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield served
    finally:
        served.stop.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _wire(answer: Answer) -> Iterator[tuple[bytes, bool]]:
    """The answer's pieces, each with whether it is trickled: status line and headers, then the body."""
    headers = {"Connection": "close", **answer.headers}
    if isinstance(answer.body, bytes):
        headers.setdefault("Content-Length", str(len(answer.body)))
    head = f"HTTP/1.1 {answer.status} Answer\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    slowly = answer.trickle_s > 0
    yield head.encode(), slowly and answer.trickle_headers
    for piece in [answer.body] if isinstance(answer.body, bytes) else answer.body:
        yield piece, slowly


def lazy(total: int, chunk: bytes = b"x" * 65536, head: bytes = b"") -> Iterator[bytes]:
    """``total`` bytes (``head`` first) made as they are sent: a 100 MB page without 100 MB in memory."""
    yield head
    left = total - len(head)
    while left > 0:
        yield chunk[:left]
        left -= len(chunk)


MODEL = "tests/models_for_tests.py:rejects_raw_pixels"  # a callable: no TensorFlow, one output of 6 scores
TRAIN = "tests/pipelines_for_tests.py:pil_unit"
GOOD_ROW = [0.1, 0.2, 0.3, 0.9, 0.8, 0.7]
GRAYS = {"a.png": 40, "b.png": 200, "c.png": 90}  # each image one gray: its tensor says which it is
POISON = "b.png"  # the image a test's server answers badly


def three_images(root: Path) -> Path:
    """a.png, b.png, c.png: 24×24, each one gray level (GRAYS)."""
    from tests.conftest import write_png

    for name, gray in GRAYS.items():
        write_png(root / name, np.full((24, 24, 3), gray, np.uint8))
    return root


def carries_poison(request: Request) -> bool:
    """Whether a tensor-mode request (v1 or v2) carries b.png's tensor (values 200 / 255)."""
    data = json.loads(request.body)
    if "instances" in data:
        firsts = [np.ravel(instance)[0] for instance in data["instances"]]
    else:
        tensor = data["inputs"][0]
        firsts = np.reshape(tensor["data"], tensor["shape"]).reshape(tensor["shape"][0], -1)[:, 0].tolist()
    return any(abs(v - GRAYS[POISON] / 255) < 1e-3 for v in firsts)


def audit(serve: str, images: Path, **endpoint: Any) -> Any:
    """skewcheck.compare against the endpoint, sending train's tensors (``--endpoint-input tensor``:
    the HTTP side is the same as for files, and no replay means no TensorFlow import). Run from the
    repository root: the references are relative to it."""
    import skewcheck

    endpoint.setdefault("endpoint_input", "tensor")
    return skewcheck.compare(model=MODEL, train=TRAIN, serve=serve, images=images, **endpoint)


def serve_outcomes(report: Any) -> dict[str, dict[str, Any]]:
    """Each image's serve-side model outcome: {"status": "ok"} or {"status": "model-error", "error": ...}."""
    return {img["path"]: img["serve"]["model"] for img in report.images}


def waited(since: float) -> float:
    return time.monotonic() - since
