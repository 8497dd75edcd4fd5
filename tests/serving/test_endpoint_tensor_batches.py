"""``--endpoint-input tensor``: tensors of different shapes go in different requests (a v2 request
is one stacked tensor: mixing them raised out of the audit)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.conftest import write_png
from tests.misbehaving_endpoint import (
    GOOD_ROW,
    V2,
    Answer,
    Request,
    audit,
    json_answer,
    misbehaving_endpoint,
    serve_outcomes,
)

pytestmark = pytest.mark.usefixtures("run_from_repo")


def test_tensors_of_two_sizes_are_sent_in_two_requests(tmp_path):
    for name, size in (("a.png", 24), ("b.png", 20), ("c.png", 24)):
        write_png(tmp_path / "images" / name, np.full((size, size, 3), 90, np.uint8))

    def reply(request: Request) -> Answer:
        n = request.instances
        return json_answer({"outputs": [{"name": "p", "shape": [n, 6], "datatype": "FP32", "data": GOOD_ROW * n}]})

    with misbehaving_endpoint(reply) as served:
        report = audit(served.url + V2, tmp_path / "images")
    assert list(serve_outcomes(report).values()) == [{"status": "ok"}] * 3
    sent = sorted(json.loads(r.body)["inputs"][0]["shape"] for r in served.requests if r.method == "POST")
    assert sent == [[1, 20, 20, 3], [2, 24, 24, 3]]
