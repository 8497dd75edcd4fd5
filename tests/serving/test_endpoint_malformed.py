"""A malformed endpoint answer is that image's model error, never the audit's end (issue 24, item 1).

The server answers b.png's request badly and the others well; the client's per-image retry of a
failed batch keeps a.png and c.png.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.misbehaving_endpoint import (
    GOOD_ROW,
    POISON,
    V1,
    V2,
    Answer,
    Request,
    audit,
    carries_poison,
    json_answer,
    misbehaving_endpoint,
    serve_outcomes,
    three_images,
    v1_rows,
)

pytestmark = pytest.mark.usefixtures("run_from_repo")


def v2_answer(request: Request, outputs: int = 1) -> Answer:
    n = request.instances
    one = {"name": "p", "shape": [n, len(GOOD_ROW)], "datatype": "FP32", "data": GOOD_ROW * n}
    return json_answer({"outputs": [{**one, "name": f"p{i}"} for i in range(outputs)]})


def raw(text: str) -> Callable[[Request], Answer]:
    return lambda request: Answer(200, text.encode(), {"Content-Type": "application/json"})


DEEP = 1500  # deeper than Python's JSON decoder goes
BAD_ANSWERS = {
    "dict rows with two keys": (
        V1,
        lambda r: v1_rows(r, {"a": GOOD_ROW, "b": [1.0]}),
        "2 outputs where the model has 1",
    ),
    "dict rows without keys": (V1, lambda r: v1_rows(r, {}), "prediction 0 is an empty object: no outputs"),
    "scalar rows": (V1, lambda r: v1_rows(r, 0.5), "output 0 has shape [] per image where the model's has [6]"),
    "an integer over 1e308": (V1, raw('{"predictions": [[1' + "0" * 400 + "]]}"), "a number out of range"),
    "JSON nested too deeply": (V1, raw('{"predictions": ' + "[" * DEEP + "1" + "]" * DEEP + "}"), "nested too deeply"),
    "v2 shape [1e400]": (
        V2,
        raw('{"outputs": [{"name": "p", "shape": [1e400], "datatype": "FP32", "data": [0.5]}]}'),
        "output 0 has shape [inf], not a list of sizes",
    ),
    "two v2 outputs for a one-output model": (V2, lambda r: v2_answer(r, outputs=2), "2 outputs where the model has 1"),
}


@pytest.mark.parametrize("case", list(BAD_ANSWERS))
def test_a_malformed_answer_is_that_images_model_error(tmp_path, case):
    path, bad, reason = BAD_ANSWERS[case]
    three_images(tmp_path / "images")

    def reply(request: Request) -> Answer:
        if carries_poison(request):
            return bad(request)
        return v1_rows(request, GOOD_ROW) if path == V1 else v2_answer(request)

    with misbehaving_endpoint(reply) as served:
        report = audit(served.url + path, tmp_path / "images")
    outcomes = serve_outcomes(report)
    assert outcomes[POISON]["status"] == "model-error", outcomes
    assert outcomes[POISON]["error"].startswith("MalformedResponse: ") and reason in outcomes[POISON]["error"]
    assert outcomes["a.png"] == outcomes["c.png"] == {"status": "ok"}
    assert report.audit_error is None and report.summary["model_errors"]["serve"] == 1


def test_a_redirect_is_named_with_its_location(tmp_path):
    three_images(tmp_path / "images")
    moved = "http://elsewhere.example/v1/models/m:predict"
    with misbehaving_endpoint(lambda request: Answer(307, b"", {"Location": moved})) as served:
        report = audit(served.url + V1, tmp_path / "images", endpoint_retries=0)
    errors = {o.get("error") for o in serve_outcomes(report).values()}
    assert errors == {f"HTTPError: HTTP 307, a redirect, not followed (Location: {moved})"}
    assert len(served.requests) == 2  # the readiness check and one batch: a redirect is not retried image by image
