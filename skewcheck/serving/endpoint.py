"""What the user said about an endpoint: its URL's protocol and model, input mode and HTTP options.

The URL names the protocol: ``…/v1/models/NAME:predict`` is TF Serving's REST API (KServe's v1
protocol follows it), ``…/v2/models/NAME/infer`` (optionally ``/versions/V/infer``) is the Open
Inference Protocol. Header values (``--endpoint-header``) are secrets: they live only in
:attr:`Endpoint.headers` and are never part of :attr:`Endpoint.ref` or any message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from skewcheck.errors import UsageError

Protocol = Literal["v1", "v2"]
InputMode = Literal["image", "tensor"]
INPUT_MODES: tuple[str, ...] = ("image", "tensor")
BYTES_ENCODINGS: tuple[str, ...] = ("b64", "binary")

_V1 = re.compile(r"^(?P<prefix>.*)/v1/models/(?P<model>[^/:]+)(?:/versions/(?P<version>[^/:]+))?:predict$")
_V2 = re.compile(r"^(?P<prefix>.*)/v2/models/(?P<model>[^/]+)(?:/versions/(?P<version>[^/]+))?/infer$")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # an HTTP token (RFC 9110)


@dataclass(frozen=True)
class Endpoint:
    url: str  # the predict / infer URL, without user info
    protocol: Protocol
    model: str
    version: str | None
    input: InputMode = "image"
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)  # secrets: never printed
    timeout: float = 30.0  # seconds for each request as a whole (skewcheck.serving.deadline)
    retries: int = 2  # extra attempts on connection errors, 429 and 5xx, with exponential back-off
    batch_size: int = 8  # images per request
    in_flight: int = 4  # requests at once
    verify: bool | str = True  # TLS: verify (True), a CA bundle path, or not (False)
    bytes_encoding: str = "b64"  # v2 image mode: BYTES as base64 JSON strings (KServe) or "binary" (Triton's extension)

    @property
    def ref(self) -> str:
        return self.url

    @property
    def metadata_url(self) -> str:
        """The model's status / metadata URL: readiness check and (v2) its input's name."""
        base = self.url.rsplit(":predict", 1)[0] if self.protocol == "v1" else self.url.rsplit("/infer", 1)[0]
        return base

    @property
    def description(self) -> str:
        proto = (
            "TF Serving / KServe v1 REST" if self.protocol == "v1" else "Open Inference Protocol (KServe v2 / Triton)"
        )
        sent = (
            "the file's bytes (its whole serving stack is audited)"
            if self.input == "image"
            else "the train pipeline's tensor (the served model and runtime are audited)"
        )
        return f"endpoint {self.url} ({proto}, model {self.model}); sends {sent}"


def parse_endpoint(
    url: str,
    *,
    input: str = "image",
    headers: list[str] | tuple[str, ...] = (),
    timeout: float = 30.0,
    retries: int = 2,
    batch_size: int = 8,
    in_flight: int = 4,
    verify: bool | str = True,
    bytes_encoding: str = "b64",
) -> Endpoint:
    """An :class:`Endpoint` from ``--serve URL`` and the ``--endpoint-*`` options (UsageError if malformed)."""
    if input not in INPUT_MODES:
        raise UsageError(f"--endpoint-input must be image or tensor, got {input!r}")
    if bytes_encoding not in BYTES_ENCODINGS:
        raise UsageError(f"--endpoint-bytes must be b64 or binary, got {bytes_encoding!r}")
    if timeout <= 0:
        raise UsageError(f"--endpoint-timeout must be a positive number of seconds, got {timeout}")
    if retries < 0:
        raise UsageError(f"--endpoint-retries must be 0 or more, got {retries}")
    if batch_size < 1 or in_flight < 1:
        raise UsageError("--endpoint-batch-size and --endpoint-in-flight must be at least 1")
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--serve {_safe(url)}: not an http(s) URL with a host")
    clean = urlunsplit((parts.scheme.lower(), _netloc(parts), parts.path.rstrip("/"), "", ""))
    path = parts.path.rstrip("/")
    match, protocol = _V1.match(path), "v1"
    if match is None:
        match, protocol = _V2.match(path), "v2"
    if match is None:
        raise UsageError(
            f"--serve {_safe(url)}: an endpoint URL ends in /v1/models/NAME:predict (TF Serving, KServe v1) "
            "or /v2/models/NAME/infer (KServe v2, Triton)"
        )
    auth: list[tuple[str, str]] = [parse_header(h) for h in headers]
    if parts.username is not None and not any(name.lower() == "authorization" for name, _ in auth):
        import base64

        token = base64.b64encode(f"{parts.username}:{parts.password or ''}".encode()).decode()
        auth.append(("Authorization", f"Basic {token}"))
    return Endpoint(  # protocol and input are checked above: one of the Literal values
        clean,
        protocol,  # type: ignore[arg-type]
        match["model"],
        match["version"],
        input,  # type: ignore[arg-type]
        tuple(auth),
        float(timeout),
        int(retries),
        int(batch_size),
        int(in_flight),
        verify,
        bytes_encoding,
    )


def parse_header(text: str) -> tuple[str, str]:
    """``"Name: value"`` → (name, value); the value is never part of the error message."""
    name, sep, value = text.partition(":")
    name, value = name.strip(), value.strip()
    if not sep or not _HEADER_NAME.match(name) or not value or "\n" in value or "\r" in value:
        shown = name if _HEADER_NAME.match(name) else "?"
        raise UsageError(f"--endpoint-header must look like 'Name: value' (got a header named {shown!r})")
    return name, value


def _netloc(parts: object) -> str:
    host = getattr(parts, "hostname", "") or ""
    host = f"[{host}]" if ":" in host else host
    port = getattr(parts, "port", None)
    return f"{host}:{port}" if port else host


def _safe(url: str) -> str:
    """A URL for a message: user info (user:password@) removed."""
    try:
        parts = urlsplit(url.strip())
        return urlunsplit((parts.scheme, _netloc(parts), parts.path, "", "")) if parts.hostname else "(the URL)"
    except ValueError:
        return "(the URL)"
