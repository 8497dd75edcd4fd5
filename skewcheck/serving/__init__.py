"""A live model endpoint as the serve side: TF Serving / KServe v1 REST and the Open Inference
Protocol (KServe v2, Triton), audited by its predictions and, without tensors, diagnosed by replay.

Nothing here imports httpx or TensorFlow at import time: only :mod:`skewcheck.serving.client`
needs the HTTP client (the ``skewcheck[serving]`` extra), and only when an endpoint is audited.
"""

from __future__ import annotations

import re

_URL = re.compile(r"^https?://", re.IGNORECASE)


def is_endpoint_ref(ref: object) -> bool:
    """True when a ``--serve`` reference is an http(s) URL rather than a pipeline."""
    return isinstance(ref, str) and bool(_URL.match(ref.strip()))
