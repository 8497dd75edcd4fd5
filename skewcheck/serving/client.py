"""The HTTP side of an endpoint (httpx, the ``skewcheck[serving]`` extra): batches, a bounded
number of requests in flight, a timeout per request, retries with exponential back-off.

A batch that fails is retried image by image (where it had more than one image), so a file the
service rejects costs only its own prediction; every failure becomes that image's recorded
``SidePrediction.error`` (HTTP status and the start of the body, a redirect and where to, or what
was malformed: skewcheck.serving.protocol.outputs_of and unlike_model), never an
exception out of the audit. Header values are removed from every recorded message.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from skewcheck.comparison.predict import SidePrediction
from skewcheck.errors import UsageError
from skewcheck.serving import protocol
from skewcheck.serving.endpoint import Endpoint

RETRY_STATUS = frozenset({429, 502, 503, 504})
BACKOFF_S, BACKOFF_MAX_S = 0.25, 4.0

Item = bytes | np.ndarray


class RequestFailed(Exception):
    def __init__(self, message: str, retry_alone: bool = True) -> None:
        super().__init__(message)
        self.retry_alone = retry_alone  # a per-image retry may succeed (not a dead endpoint)


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
        self._secrets = [v for _, v in endpoint.headers if v] + [
            v.split(" ", 1)[-1] for _, v in endpoint.headers if " " in v
        ]
        self._client = httpx.Client(
            headers=dict(endpoint.headers),
            timeout=endpoint.timeout,
            verify=endpoint.verify,
            limits=httpx.Limits(max_connections=endpoint.in_flight, max_keepalive_connections=endpoint.in_flight),
        )
        self._input_name = "input"
        self.model_shapes: list[tuple[int, ...]] | None = None  # the model's outputs for one image, once known
        self.requests = 0  # sent, retries included
        self.seconds = 0.0  # wall time spent in predict()

    def close(self) -> None:
        self._client.close()

    def check(self) -> None:
        """The endpoint answers for its model: else one UsageError line (the CLI exits 2)."""
        httpx = _httpx()
        url = self.endpoint.metadata_url
        try:
            response = self._client.get(url)
        except httpx.HTTPError as exc:
            raise UsageError(
                f"--serve {self.endpoint.url}: endpoint unreachable ({self._scrub(_reason(exc))})"
            ) from None
        if response.status_code in (401, 403):
            raise UsageError(
                f"--serve {self.endpoint.url}: the endpoint refused the request (HTTP {response.status_code}); "
                "pass credentials with --endpoint-header 'Authorization: Bearer …'"
            )
        if response.status_code >= 400:
            raise UsageError(
                f"--serve {self.endpoint.url}: no model {self.endpoint.model!r} there "
                f"(GET {url} answered HTTP {response.status_code})"
            )
        if self.endpoint.protocol == "v2":
            try:
                self._input_name = protocol.v2_input_name(response.json()) or "input"
            except ValueError:
                pass

    def predict(self, items: list[Item | None]) -> list[SidePrediction | None]:
        """One SidePrediction per item (None where there is nothing to send)."""
        start = time.perf_counter()
        results: list[SidePrediction | None] = [None] * len(items)
        present = [i for i, item in enumerate(items) if item is not None]
        size = self.endpoint.batch_size
        batches = [present[k : k + size] for k in range(0, len(present), size)]
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
        httpx = _httpx()
        body, headers = self._body(items)
        last, alone = "", True
        for attempt in range(self.endpoint.retries + 1):
            if attempt:
                self._sleep(min(BACKOFF_MAX_S, BACKOFF_S * 2 ** (attempt - 1)))
            self.requests += 1
            try:
                response = self._client.post(self.endpoint.url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                last, alone = f"EndpointError: {self._scrub(_reason(exc))}", False  # image by image would not help
                continue
            if response.status_code in RETRY_STATUS or response.status_code >= 500:
                last, alone = self._http_error(response), True
                continue
            if 300 <= response.status_code < 400:  # the same for every image: not retried one by one
                where = response.headers.get("location")
                where = self._scrub(where)[:200] if where else "no Location header"
                raise RequestFailed(
                    f"HTTPError: HTTP {response.status_code}, a redirect, not followed (Location: {where})", False
                )
            if response.status_code >= 400:
                raise RequestFailed(self._http_error(response))
            try:
                rows = protocol.outputs_of(response.content, self.endpoint.protocol, len(items))
            except protocol.MalformedResponse as exc:
                raise RequestFailed(f"MalformedResponse: {self._scrub(str(exc))[:300]}") from None
            problem = protocol.unlike_model(rows, self.model_shapes)
            if problem is not None:
                raise RequestFailed(f"MalformedResponse: {problem}")
            return rows
        raise RequestFailed(last or "EndpointError: no attempt was made", retry_alone=alone)

    def _body(self, items: list[Item]) -> tuple[bytes, dict[str, str]]:
        if self.endpoint.protocol == "v1":
            return protocol.v1_body(items), {"Content-Type": "application/json"}  # type: ignore[arg-type]
        if isinstance(items[0], bytes):
            return protocol.v2_image_body(items, self._input_name, self.endpoint.bytes_encoding)  # type: ignore[arg-type]
        return protocol.v2_tensor_body(items, self._input_name), {"Content-Type": "application/json"}  # type: ignore[arg-type]

    def _http_error(self, response: Any) -> str:
        text = " ".join(response.text.split())[:200]
        return f"HTTPError: HTTP {response.status_code}" + (f": {self._scrub(text)}" if text else "")

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            if secret:
                text = text.replace(secret, "[redacted]")
        return text


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())[:200] or 'no detail'}"
