"""The HTTP side of an endpoint (httpx, the ``skewcheck[serving]`` extra): batches, a bounded
number of requests in flight, one deadline per request, retries with exponential back-off.

A batch that fails is retried image by image (where it had more than one image), so a file the
service rejects costs only its own prediction; every failure becomes that image's recorded
``SidePrediction.error`` (HTTP status and the start of the body, a redirect and where to, or what
was malformed), never an exception out of the audit. ``--endpoint-timeout`` bounds each request
as a whole, connect to last byte (skewcheck.serving.deadline), the readiness check included.
Bodies are streamed and capped: an error page is read up to ERROR_BODY_BYTES, an answer up to
:meth:`EndpointClient.answer_cap` (larger: that request's MalformedResponse). Header values are
removed from every recorded message before it is shortened (skewcheck.serving.redact).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from skewcheck.comparison.predict import SidePrediction
from skewcheck.errors import UsageError
from skewcheck.serving import protocol
from skewcheck.serving.deadline import deadline, install
from skewcheck.serving.endpoint import Endpoint
from skewcheck.serving.redact import Redactor

RETRY_STATUS = frozenset({429, 502, 503, 504})
BACKOFF_S, BACKOFF_MAX_S = 0.25, 4.0
ERROR_BODY_BYTES = 4096  # of an error page or a redirect: enough for its message, never the whole page
METADATA_BYTES = 1 << 20  # the readiness check's answer (v2: the model's metadata)
ANSWER_BYTES = 64 << 20  # an answer's cap, whatever the model: more only for a model whose outputs need more
JSON_BYTES_PER_VALUE = 64  # a generous size of one number in JSON ("-1.2345678901234567e-05, " is 25)

Item = bytes | np.ndarray


class RequestFailed(Exception):
    def __init__(self, message: str, retry_alone: bool = True) -> None:
        super().__init__(message)
        self.retry_alone = retry_alone  # a per-image retry may succeed (not a dead endpoint)


@dataclass
class Exchange:
    """One request's answer, read within the request's deadline: status, (the start of) the body."""

    status: int
    body: bytes | bytearray
    cut: bool  # the body was longer than the cap: ``body`` is its start (or nothing)
    location: str | None = None


def _httpx() -> Any:
    try:
        import httpx
    except ImportError:
        raise UsageError("auditing an endpoint needs the HTTP client: pip install 'skewcheck[serving]'") from None
    return httpx


class EndpointClient:
    def __init__(self, endpoint: Endpoint, sleep: Callable[[float], None] = time.sleep) -> None:
        httpx = _httpx()
        self.endpoint = endpoint
        self._sleep = sleep
        self._redact = Redactor(endpoint.headers)
        self._client = httpx.Client(
            headers=dict(endpoint.headers),
            timeout=endpoint.timeout,
            verify=endpoint.verify,
            limits=httpx.Limits(max_connections=endpoint.in_flight, max_keepalive_connections=endpoint.in_flight),
        )
        install(self._client)  # endpoint.timeout bounds each request as a whole, not each read
        self._input_name = "input"
        self.model_shapes: list[tuple[int, ...]] | None = None  # the model's outputs for one image, once known
        self.requests = 0  # sent, retries included
        self.seconds = 0.0  # wall time spent in predict()

    def close(self) -> None:
        self._client.close()

    def answer_cap(self, images: int) -> int:
        """The most bytes an answer for ``images`` images may have: ANSWER_BYTES, or more for large outputs."""
        values = sum(int(np.prod(shape)) for shape in self.model_shapes or [])
        needed = images * values * JSON_BYTES_PER_VALUE
        return max(ANSWER_BYTES, needed)

    def check(self) -> None:
        """The endpoint answers for its model: else one UsageError line (the CLI exits 2)."""
        url = self.endpoint.metadata_url
        try:
            got = self._exchange("GET", url, METADATA_BYTES)
        except Exception as exc:  # noqa: BLE001 (whatever the network or the server did: one line, exit 2)
            raise UsageError(f"--serve {self.endpoint.url}: endpoint unreachable ({self._reason(exc)})") from None
        if got.status in (401, 403):
            raise UsageError(
                f"--serve {self.endpoint.url}: the endpoint refused the request (HTTP {got.status}); "
                "pass credentials with --endpoint-header 'Authorization: Bearer …'"
            )
        if got.status >= 400:
            raise UsageError(
                f"--serve {self.endpoint.url}: no model {self.endpoint.model!r} there "
                f"(GET {url} answered HTTP {got.status})"
            )
        if self.endpoint.protocol == "v2" and got.status < 300 and not got.cut:
            try:
                self._input_name = protocol.v2_input_name(json.loads(got.body)) or "input"
            except (ValueError, RecursionError):
                pass

    def predict(self, items: list[Item | None]) -> list[SidePrediction | None]:
        """One SidePrediction per item (None where there is nothing to send)."""
        start = time.perf_counter()
        results: list[SidePrediction | None] = [None] * len(items)
        alike: dict[Any, list[int]] = {}  # a request's tensors share shape and dtype (v2 sends them as one)
        for i, item in enumerate(items):
            if item is not None:
                alike.setdefault(None if isinstance(item, bytes) else (item.shape, item.dtype.str), []).append(i)
        size = self.endpoint.batch_size
        batches = [group[k : k + size] for group in alike.values() for k in range(0, len(group), size)]
        with ThreadPoolExecutor(max_workers=self.endpoint.in_flight) as pool:
            done = list(pool.map(lambda idx: self._batch([items[i] for i in idx]), batches))
        for idx, preds in zip(batches, done, strict=True):
            for i, pred in zip(idx, preds, strict=True):
                results[i] = pred
        self.seconds += time.perf_counter() - start
        return results

    def _batch(self, items: list[Item]) -> list[SidePrediction]:
        try:
            return [SidePrediction(outputs=o) for o in self._send(items)]
        except RequestFailed as exc:
            if len(items) > 1 and exc.retry_alone:
                return [p for item in items for p in self._batch([item])]
            return [SidePrediction(error=str(exc)) for _ in items]

    def _send(self, items: list[Item]) -> list[list[np.ndarray]]:
        try:
            body, headers = self._body(items)
        except (TypeError, ValueError) as exc:  # a tensor the protocol has no datatype for
            raise RequestFailed(f"EndpointError: cannot send this tensor: {self._redact.clip(str(exc), 200)}") from None
        cap = self.answer_cap(len(items))
        last, alone = "", True
        for attempt in range(self.endpoint.retries + 1):
            if attempt:
                self._sleep(min(BACKOFF_MAX_S, BACKOFF_S * 2 ** (attempt - 1)))
            self.requests += 1
            try:
                got = self._exchange("POST", self.endpoint.url, cap, content=body, headers=headers)
            except Exception as exc:  # noqa: BLE001 (network, protocol, deadline: this request's failure)
                last, alone = f"EndpointError: {self._reason(exc)}", False  # image by image would not help
                continue
            if got.status in RETRY_STATUS or got.status >= 500:
                last, alone = self._http_error(got), True
                continue
            if 300 <= got.status < 400:  # the same for every image: not retried one by one
                where = self._redact.clip(got.location, 200) if got.location else "no Location header"
                raise RequestFailed(
                    f"HTTPError: HTTP {got.status}, a redirect, not followed (Location: {where})", False
                )
            if got.status >= 400:
                raise RequestFailed(self._http_error(got))
            if got.cut:
                raise RequestFailed(
                    f"MalformedResponse: the answer is larger than {_mib(cap)} for {len(items)} image(s)"
                )
            try:
                rows = protocol.outputs_of(got.body, self.endpoint.protocol, len(items))
            except protocol.MalformedResponse as exc:
                raise RequestFailed(f"MalformedResponse: {self._redact.clip(str(exc), 300)}") from None
            problem = protocol.unlike_model(rows, self.model_shapes)
            if problem is not None:
                raise RequestFailed(f"MalformedResponse: {problem}")
            return rows
        raise RequestFailed(last or "EndpointError: no attempt was made", retry_alone=alone)

    def _exchange(self, method: str, url: str, cap: int, **request: Any) -> Exchange:
        """One request, its body streamed up to ``cap`` bytes (an error page: ERROR_BODY_BYTES), all
        within ``--endpoint-timeout`` of its start."""
        with deadline(self.endpoint.timeout), self._client.stream(method, url, **request) as response:
            status = response.status_code
            location = response.headers.get("location")
            limit = cap if status < 300 else min(cap, ERROR_BODY_BYTES)
            if status < 300 and _declared_length(response) > limit:
                return Exchange(status, b"", True, location)  # too large, said up front: not read at all
            body, cut = _read_capped(response, limit)
            return Exchange(status, body, cut, location)

    def _body(self, items: list[Item]) -> tuple[bytes, dict[str, str]]:
        if self.endpoint.protocol == "v1":
            return protocol.v1_body(items), {"Content-Type": "application/json"}  # type: ignore[arg-type]
        if isinstance(items[0], bytes):
            return protocol.v2_image_body(items, self._input_name, self.endpoint.bytes_encoding)  # type: ignore[arg-type]
        return protocol.v2_tensor_body(items, self._input_name), {"Content-Type": "application/json"}  # type: ignore[arg-type]

    def _http_error(self, got: Exchange) -> str:
        text = self._redact.clip(got.body.decode("utf-8", "replace"), 200, cut=got.cut)
        return f"HTTPError: HTTP {got.status}" + (f": {text}" if text else "")

    def _reason(self, exc: BaseException) -> str:
        if isinstance(exc, _httpx().TimeoutException):
            return f"{type(exc).__name__}: no complete answer within {self.endpoint.timeout:g} s (--endpoint-timeout)"
        return f"{type(exc).__name__}: {self._redact.clip(str(exc), 200) or 'no detail'}"


def _declared_length(response: Any) -> int:
    """The body's length as its headers state it (0: not stated, or compressed: known only once read)."""
    declared = response.headers.get("content-length", "")
    return int(declared) if declared.isdigit() and "content-encoding" not in response.headers else 0


def _read_capped(response: Any, limit: int) -> tuple[bytes | bytearray, bool]:
    """The body's first ``limit`` bytes (decoded as httpx decodes it) and whether there was more;
    gathered in one buffer, so a body at the cap costs about the cap, not twice it."""
    body = bytearray()
    for chunk in response.iter_bytes():
        if len(chunk) > limit - len(body):
            body += chunk[: limit - len(body)]
            return body, True
        body += chunk
    return body, False


def _mib(n: int) -> str:
    return f"{n / (1 << 20):g} MiB"
