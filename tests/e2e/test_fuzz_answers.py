"""Issue 24's fuzz of endpoint answers: mutated v1 / v2 answer bodies through the client's parser.

Valid answers (v1 ``predictions`` rows, plain or named; v2 ``outputs``) are mutated where they are
trees (a node replaced by a value of another type, a huge or non-finite number, deep nesting, a
shape that is not sizes, a key dropped or added, a list wrapped or emptied) and where they are
bytes (truncated, bytes flipped, inserted or deleted). Each body is the answer to a request for
one to three images, through ``EndpointClient._batch`` with the HTTP exchange replaced: every
image gets either outputs the model could give (numeric arrays; once the model's outputs are known, as many, each of its rank) or its own
``MalformedResponse`` error; no exception leaves. Seeded, and bounded in cases and in time.
"""

from __future__ import annotations

import copy
import json
import random
import time
from typing import Any

import numpy as np
import pytest

from skewcheck.serving.client import EndpointClient, Exchange
from skewcheck.serving.endpoint import parse_endpoint

CASES = 1500
BUDGET_S = 4.0  # stop early past this, whatever is left of CASES
CLASSES = 6

HOSTILE: list[Any] = [
    None,
    True,
    0,
    -1,
    2**63,
    10**400,  # beyond float64: json writes the digits, Python reads an int
    1e308,
    float("inf"),
    float("nan"),
    -0.0,
    "0.5",
    "",
    "x" * 300,
    [],
    [[]],
    {},
    {"a": [0.1], "b": [0.2]},
    [0.1] * 50,
    [[0.1, 0.2], [0.3]],  # ragged
    json.loads("[" * 34 + "0.5" + "]" * 34),  # deeper than numpy's 32 dimensions
    {"b64": "AAAA"},
]
SHAPES: list[Any] = [[1e400], [-1], [0], [], [None], ["2", 6], [True, 6], [2**63, 2**63], [10**30], [1, 1, 1, 1, 1, 1]]
DATATYPES: list[Any] = ["FP16", "FP64", "INT64", "UINT8", "BOOL", "BYTES", "FP8", "", None, 32, ["FP32"]]


def valid_answer(protocol: str, n: int, rng: random.Random) -> dict[str, Any]:
    rows = [[round(rng.random(), 4) for _ in range(CLASSES)] for _ in range(n)]
    if protocol == "v1":
        if rng.random() < 0.3:
            return {"predictions": [{"probs": row} for row in rows]}
        return {"predictions": rows}
    flat = [v for row in rows for v in row]
    return {"outputs": [{"name": "probs", "shape": [n, CLASSES], "datatype": "FP32", "data": flat}]}


def _nodes(doc: Any, path: tuple = ()) -> list[tuple]:
    """Every path into the document (dict keys and list indexes), the root included."""
    out = [path]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _nodes(v, (*path, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc[:8]):
            out += _nodes(v, (*path, i))
    return out


def _set(doc: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return doc


def _get(doc: Any, path: tuple) -> Any:
    for key in path:
        doc = doc[key]
    return doc


def mutate_tree(doc: Any, rng: random.Random) -> Any:
    doc = copy.deepcopy(doc)
    for _ in range(rng.choice([1, 1, 2, 3])):
        path = rng.choice(_nodes(doc))
        node = _get(doc, path)
        what = rng.randrange(8)
        if what == 0 or (what == 1 and not path):
            doc = _set(doc, path, copy.deepcopy(rng.choice(HOSTILE)))
        elif what == 1 and path[-1] == "shape":
            doc = _set(doc, path, copy.deepcopy(rng.choice(SHAPES)))
        elif what == 1 and path[-1] == "datatype":
            doc = _set(doc, path, copy.deepcopy(rng.choice(DATATYPES)))
        elif what == 2 and isinstance(node, dict) and node:
            del node[rng.choice(list(node))]
        elif what == 3 and isinstance(node, dict):
            node[rng.choice(["error", "outputs", "predictions", "extra", "data", "shape"])] = copy.deepcopy(
                rng.choice(HOSTILE)
            )
        elif what == 4 and isinstance(node, list) and node:
            del node[rng.randrange(len(node))]
        elif what == 5 and isinstance(node, list):
            node.append(copy.deepcopy(node[0]) if node and rng.random() < 0.7 else rng.choice(HOSTILE))
        elif what == 6:
            doc = _set(doc, path, [node] if rng.random() < 0.5 else {"value": node})
        else:
            doc = _set(doc, path, copy.deepcopy(rng.choice(HOSTILE)))
    return doc


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.choice([1, 2, 4])):
        what = rng.randrange(5)
        at = rng.randrange(len(out) + 1)
        if what == 0:
            del out[at:]  # truncated
        elif what == 1 and out:
            out[min(at, len(out) - 1)] = rng.randrange(256)
        elif what == 2:
            out[at:at] = rng.choice([b"[" * 3000, b"9" * 400, b"\xff\xfe", b"NaN", b"-Infinity", b"1e999", b'"', b"}"])
        elif what == 3:
            del out[at : at + rng.randrange(1, 16)]
        else:
            out[at:at] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 8)))
    return bytes(out)


def deep(n: int) -> bytes:
    return b'{"predictions": ' + b"[" * n + b"0.5" + b"]" * n + b"}"


def bodies(protocol: str, rng: random.Random):
    while True:
        n = rng.choice([1, 1, 2, 3])
        doc = valid_answer(protocol, n, rng)
        kind = rng.randrange(10)
        if kind == 0:
            yield n, json.dumps(doc).encode(), True  # unmutated: must parse
        elif kind < 6:
            yield n, json.dumps(mutate_tree(doc, rng)).encode(), False
        elif kind < 9:
            yield n, mutate_bytes(json.dumps(mutate_tree(doc, rng) if rng.random() < 0.3 else doc).encode(), rng), False
        else:
            yield n, deep(rng.choice([900, 1100, 5000, 100_000])), False


def _client(protocol: str, model_shapes, body: bytes) -> EndpointClient:
    path = "/v1/models/m:predict" if protocol == "v1" else "/v2/models/m/infer"
    client = EndpointClient(parse_endpoint("http://127.0.0.1:9" + path, retries=0), sleep=lambda s: None)
    client.model_shapes = model_shapes
    client._exchange = lambda method, url, cap, **kw: Exchange(200, body, False)  # type: ignore[method-assign]
    return client


@pytest.mark.parametrize("protocol", ["v1", "v2"])
def test_every_mutated_answer_is_outputs_or_that_images_malformed_response(protocol):
    rng = random.Random(f"issue-24-{protocol}")
    seen = {"outputs": 0, "malformed": 0}
    start, cases = time.monotonic(), 0
    client = _client(protocol, [(CLASSES,)], b"")
    loose = _client(protocol, None, b"")  # before the model's shapes are known: any rank passes
    for n, body, valid in bodies(protocol, rng):
        if cases >= CASES or time.monotonic() - start > BUDGET_S:
            break
        cases += 1
        for c in (client, loose):
            c._exchange = lambda method, url, cap, body=body, **kw: Exchange(200, body, False)  # type: ignore[method-assign]
            try:
                preds = c._batch([b"image"] * n)
            except Exception as exc:  # noqa: BLE001 (the assertion: nothing leaves)
                pytest.fail(f"{type(exc).__name__}: {exc} on {body[:300]!r}")
            assert len(preds) == n
            for pred in preds:
                if pred.error is not None:
                    assert pred.error.startswith("MalformedResponse: "), (pred.error, body[:300])
                    assert "\n" not in pred.error and len(pred.error) < 400
                    seen["malformed"] += 1
                    continue
                assert pred.outputs, body[:300]
                assert all(isinstance(o, np.ndarray) and o.dtype.kind in "fiub" for o in pred.outputs), body[:300]
                if c is client:  # the model's outputs, each of its rank (sizes may differ: the audit compares them)
                    assert len(pred.outputs) == 1 and pred.outputs[0].ndim == 1, body[:300]
                seen["outputs"] += 1
            if valid and c is client:
                assert all(p.error is None for p in preds), (preds[0].error, body[:300])
    client.close()
    loose.close()
    assert cases >= 200, cases  # a few seconds hold hundreds of answers
    assert seen["outputs"] and seen["malformed"] > seen["outputs"] / 4, seen
