"""What the client reads of an endpoint's bodies: capped, and scrubbed before it is shortened
(issue 24, items 4 and 5). The 100 MB bodies are generated as they are sent; ``served.sent``
says how much of each got out before the client hung up."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from skewcheck.cli import app
from tests.misbehaving_endpoint import (
    GOOD_ROW,
    MODEL,
    POISON,
    TRAIN,
    V1,
    Answer,
    Request,
    audit,
    carries_poison,
    lazy,
    misbehaving_endpoint,
    serve_outcomes,
    three_images,
    v1_rows,
)

pytestmark = pytest.mark.usefixtures("run_from_repo")

HUNDRED_MB = 100_000_000
MIB = 1 << 20


def test_a_100_mb_error_page_is_read_only_to_its_start(tmp_path):
    three_images(tmp_path / "images")
    head = b"<html><body>Internal Server Error: the model crashed "

    def page(request: Request) -> Answer:
        return Answer(
            500, lazy(HUNDRED_MB, head=head), {"Content-Length": str(HUNDRED_MB), "Content-Type": "text/html"}
        )

    with misbehaving_endpoint(page) as served:
        report = audit(served.url + V1, tmp_path / "images", endpoint_retries=0, endpoint_batch_size=8)
    errors = {o["error"] for o in serve_outcomes(report).values()}
    (error,) = errors
    assert error.startswith("HTTPError: HTTP 500: <html><body>Internal Server Error: the model crashed xxx")
    assert len(error) <= 230
    # one batch, then one request per image (a 500 may be one image's): each hung up on after its first KB
    assert len(served.sent) == 5 and max(served.sent) < 32 * MIB, served.sent


@pytest.mark.parametrize("declared", [True, False], ids=["with-length", "without-length"])
def test_a_100_mb_answer_is_that_images_malformed_response(tmp_path, declared):
    three_images(tmp_path / "images")

    def reply(request: Request) -> Answer:
        if not carries_poison(request):
            return v1_rows(request, GOOD_ROW)
        headers = {"Content-Length": str(HUNDRED_MB)} if declared else {}
        return Answer(200, lazy(HUNDRED_MB, head=b'{"predictions": [[0.5, "'), headers)

    with misbehaving_endpoint(reply) as served:
        report = audit(served.url + V1, tmp_path / "images")
    outcomes = serve_outcomes(report)
    assert outcomes[POISON] == {
        "status": "model-error",
        "error": "MalformedResponse: the answer is larger than 64 MiB for 1 image(s)",
    }
    assert outcomes["a.png"] == outcomes["c.png"] == {"status": "ok"}
    poisoned = [sent for r, sent in zip(served.requests[1:], served.sent[1:], strict=True) if carries_poison(r)]
    assert len(poisoned) == 2  # the batch, then b.png alone
    limit = 32 * MIB if declared else 64 * MIB + 32 * MIB  # said up front: not read; else read up to the cap
    assert max(poisoned) < limit, poisoned


SECRET = "sk-live-TOPSECRET-0123456789abcdef"
ECHOES = {
    # the 200-character cut falls inside the echoed token
    "cut inside the token": "Internal error. " + "x" * 134 + f" request headers: Authorization: Bearer {SECRET}",
    # the 4 KB read cap falls inside it, and the spaces before it collapse: what is shown ends with it
    "read cap inside the token": " " * 4080 + f"Bearer {SECRET}",
}


@pytest.mark.parametrize("echo", list(ECHOES))
def test_an_error_page_echoing_the_token_leaks_no_part_of_it(tmp_path, echo):
    three_images(tmp_path / "images")
    report = tmp_path / "r.json"
    with misbehaving_endpoint(lambda r: Answer(500, ECHOES[echo].encode(), {"Content-Type": "text/plain"})) as served:
        result = CliRunner().invoke(
            app,
            ["compare", "--model", MODEL, "--train", TRAIN, "--serve", served.url + V1]
            + ["--images", str(tmp_path / "images"), "--report", str(report), "--endpoint-retries", "0"]
            + ["--endpoint-input", "tensor"]
            + ["--endpoint-header", f"Authorization: Bearer {SECRET}"],
        )
    assert result.exit_code == 1, result.output
    errors = {img["serve"]["model"]["error"] for img in json.loads(report.read_text())["images"]}
    (error,) = errors
    assert error.startswith("HTTPError: HTTP 500: ") and "[redacted]" in error, error
    for text in (report.read_text(), result.output):
        assert "sk-live" not in text and "TOPSEC" not in text
