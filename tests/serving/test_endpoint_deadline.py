"""``--endpoint-timeout`` bounds a whole request, not each read (issue 24, item 2).

The server trickles its answer a byte every 0.2 s (so no single read waits anywhere near the
1 s timeout) and would need over 10 s to finish it: a complete answer means the request was
not bounded, a timeout error means it was.
"""

from __future__ import annotations

import json
import time

import pytest
from typer.testing import CliRunner

from skewcheck.cli import app
from tests.misbehaving_endpoint import (
    GOOD_ROW,
    MODEL,
    TRAIN,
    V1,
    Answer,
    Request,
    audit,
    misbehaving_endpoint,
    ready,
    serve_outcomes,
    three_images,
    waited,
)

pytestmark = pytest.mark.usefixtures("run_from_repo")

BYTE_EVERY_S = 0.2
PADDING = " " * 50  # 50 × 0.2 s: the answer needs over 10 s to arrive


def trickled_answer(request: Request, headers_too: bool = False) -> Answer:
    body = (PADDING + json.dumps({"predictions": [GOOD_ROW] * request.instances})).encode()
    return Answer(200, body, {"Content-Type": "application/json"}, BYTE_EVERY_S, trickle_headers=headers_too)


@pytest.mark.parametrize("headers_too", [False, True], ids=["body", "headers"])
def test_a_trickled_answer_is_each_images_timeout(tmp_path, headers_too):
    three_images(tmp_path / "images")
    with misbehaving_endpoint(lambda r: trickled_answer(r, headers_too)) as served:
        start = time.monotonic()
        report = audit(served.url + V1, tmp_path / "images", endpoint_timeout=1.0, endpoint_retries=0)
        took = waited(start)
    errors = {o.get("error") for o in serve_outcomes(report).values()}
    assert errors == {"EndpointError: ReadTimeout: no complete answer within 1 s (--endpoint-timeout)"}
    assert len(served.requests) == 2  # the readiness check and one batch: a timeout is not retried image by image
    assert took < 8  # 1 s for the request; the trickle alone takes over 10 s


def test_a_trickled_readiness_answer_is_one_line_and_exit_2(tmp_path):
    three_images(tmp_path / "images")

    def slow_ready(request: Request) -> Answer:
        answer = ready(request)
        answer.trickle_s, answer.body = BYTE_EVERY_S, PADDING.encode() + answer.body  # type: ignore[operator]
        return answer

    with misbehaving_endpoint(lambda r: trickled_answer(r), get=slow_ready) as served:
        start = time.monotonic()
        result = CliRunner().invoke(
            app,
            ["compare", "--model", MODEL, "--train", TRAIN, "--serve", served.url + V1]
            + ["--images", str(tmp_path / "images"), "--endpoint-timeout", "1", "--endpoint-input", "tensor"],
        )
        took = waited(start)
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "endpoint unreachable (ReadTimeout: no complete answer within 1 s" in lines[0], lines
    assert len(served.requests) == 1 and took < 8
