"""Request bodies and response parsing for the two REST protocols: plain data, no HTTP here.

- v1 (TF Serving REST, KServe v1): ``{"instances": [...]}`` → ``{"predictions": [...]}``. An
  image is ``{"b64": "<base64>"}``, TF Serving's convention for binary data; a tensor is its
  nested list.
- v2 (Open Inference Protocol: KServe v2, Triton): ``{"inputs": [{"name", "shape", "datatype",
  "data"}]}`` → ``{"outputs": [...]}``. Images go as one BYTES tensor of shape ``[n]``: by default
  (``b64``) each element a base64 string in the JSON body, as KServe's examples do (KServe 0.21
  refuses non-UTF-8 bytes in its binary extension); with ``binary``, in the binary data extension
  Triton documents (a JSON header of ``Inference-Header-Content-Length`` bytes, then each element
  as a 4-byte little-endian length and its bytes), so the server gets the file's own bytes.

A response that does not have the promised shape raises :class:`MalformedResponse`, whatever is
wrong with it (not JSON, nested too deeply, numbers out of range, shapes that are not sizes):
:func:`outputs_of` is the one entry point for an answer's bytes.
"""

from __future__ import annotations

import base64
import json
import struct
from typing import Any

import numpy as np

V2_DATATYPES = {
    "float16": "FP16",
    "float32": "FP32",
    "float64": "FP64",
    "uint8": "UINT8",
    "int8": "INT8",
    "uint16": "UINT16",
    "int16": "INT16",
    "int32": "INT32",
    "int64": "INT64",
    "bool": "BOOL",
}
NUMPY_OF_V2 = {v: k for k, v in V2_DATATYPES.items()}
HEADER_LENGTH = "Inference-Header-Content-Length"


class MalformedResponse(ValueError):
    """The endpoint answered, but not with the protocol's response for this request."""


def outputs_of(raw: bytes | bytearray, protocol: str, n: int) -> list[list[np.ndarray]]:
    """One list of output arrays per request element, from the answer's body (v1 or v2)."""
    try:
        body = json.loads(raw)
    except RecursionError:
        raise MalformedResponse("the JSON is nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise MalformedResponse(f"not JSON ({exc})") from None
    parse = v1_outputs if protocol == "v1" else v2_outputs
    try:
        with np.errstate(all="ignore"):
            return parse(body, n)
    except MalformedResponse:
        raise
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:  # what a check below did not foresee
        raise MalformedResponse(f"{type(exc).__name__}: {exc}") from None


def unlike_model(rows: list[list[np.ndarray]], model: list[tuple[int, ...]] | None) -> str | None:
    """Why an answer's rows cannot be the model's (None: they can): the same number of outputs as
    the model, each with as many axes per image, or the outputs do not correspond."""
    if model is None:
        return None
    for row in rows:
        if len(row) != len(model):
            return f"{len(row)} outputs where the model has {len(model)}"
        for i, (out, shape) in enumerate(zip(row, model, strict=True)):
            if out.ndim != len(shape):
                return f"output {i} has shape {list(out.shape)} per image where the model's has {list(shape)}"
    return None


def v1_body(items: list[bytes] | list[np.ndarray]) -> bytes:
    if items and isinstance(items[0], bytes):
        instances: list[Any] = [{"b64": base64.b64encode(b).decode("ascii")} for b in items]
    else:
        instances = [np.asarray(t).tolist() for t in items]
    return json.dumps({"instances": instances}).encode()


def v1_outputs(body: Any, n: int) -> list[list[np.ndarray]]:
    """One list of output arrays per instance (``predictions`` rows; named outputs in key order)."""
    if not isinstance(body, dict):
        raise MalformedResponse("the response is not a JSON object")
    if "error" in body and "predictions" not in body:
        raise MalformedResponse(f"the endpoint answered with an error: {body['error']}")  # the client clips it
    rows = body.get("predictions")
    if not isinstance(rows, list):
        raise MalformedResponse(f"no 'predictions' list in the response (keys: {sorted(body)[:8]})")
    if len(rows) != n:
        raise MalformedResponse(f"{len(rows)} predictions for {n} instances")
    out = []
    for i, row in enumerate(rows):
        values = [row[k] for k in row] if isinstance(row, dict) else [row]
        if not values:  # no output at all: not an answer, whatever the model (nor a model to learn from)
            raise MalformedResponse(f"prediction {i} is an empty object: no outputs")
        out.append([_numeric(v, "a prediction") for v in values])
    return out


def v2_image_body(items: list[bytes], input_name: str, encoding: str = "b64") -> tuple[bytes, dict[str, str]]:
    """A BYTES tensor of the files: base64 strings in JSON, or the binary data extension."""
    if encoding == "b64":
        data = [base64.b64encode(b).decode("ascii") for b in items]
        body = {"inputs": [{"name": input_name, "shape": [len(items)], "datatype": "BYTES", "data": data}]}
        return json.dumps(body).encode(), {"Content-Type": "application/json"}
    payload = b"".join(struct.pack("<I", len(b)) + b for b in items)
    header = json.dumps(
        {
            "inputs": [
                {
                    "name": input_name,
                    "shape": [len(items)],
                    "datatype": "BYTES",
                    "parameters": {"binary_data_size": len(payload)},
                }
            ],
        }
    ).encode()
    return header + payload, {"Content-Type": "application/octet-stream", HEADER_LENGTH: str(len(header))}


def v2_tensor_body(items: list[np.ndarray], input_name: str) -> bytes:
    batch = np.stack([np.asarray(t) for t in items])
    datatype = V2_DATATYPES.get(str(batch.dtype))
    if datatype is None:
        raise TypeError(f"no Open Inference Protocol datatype for {batch.dtype}")
    data = batch.ravel().tolist()
    return json.dumps(
        {"inputs": [{"name": input_name, "shape": list(batch.shape), "datatype": datatype, "data": data}]}
    ).encode()


def v2_outputs(body: Any, n: int) -> list[list[np.ndarray]]:
    """One list of output arrays per request element: each output's rows along its first axis."""
    if not isinstance(body, dict):
        raise MalformedResponse("the response is not a JSON object")
    if "error" in body and "outputs" not in body:
        raise MalformedResponse(f"the endpoint answered with an error: {body['error']}")  # the client clips it
    outputs = body.get("outputs")
    if not isinstance(outputs, list) or not outputs:
        raise MalformedResponse(f"no 'outputs' list in the response (keys: {sorted(body)[:8]})")
    arrays = []
    for i, o in enumerate(outputs):
        if not isinstance(o, dict) or not isinstance(o.get("shape"), list) or "data" not in o:
            raise MalformedResponse(f"output {i} has no shape or data")
        dtype = NUMPY_OF_V2.get(str(o.get("datatype", "FP32")))
        if dtype is None:
            raise MalformedResponse(f"output {i} has datatype {o.get('datatype')!r}, not a numeric one")
        shape = _sizes(o["shape"], i)
        flat = _numeric(o["data"], f"output {i}'s data").ravel()
        try:
            array: np.ndarray = flat.astype(dtype).reshape(shape)
        except (ValueError, TypeError) as exc:
            raise MalformedResponse(f"output {i}: {len(flat)} values do not fill shape {o['shape']}") from exc
        if array.ndim == 0 or array.shape[0] != n:
            raise MalformedResponse(f"output {i} has shape {list(array.shape)} for {n} inputs")
        arrays.append(array)
    return [[a[row] for a in arrays] for row in range(n)]


def v2_input_name(metadata: Any) -> str | None:
    """The model's first input's name from its v2 metadata (``GET /v2/models/NAME``)."""
    inputs = metadata.get("inputs") if isinstance(metadata, dict) else None
    if isinstance(inputs, list) and inputs and isinstance(inputs[0], dict) and isinstance(inputs[0].get("name"), str):
        return inputs[0]["name"]
    return None


def _sizes(shape: list[Any], i: int) -> list[int]:
    """A v2 output's shape: sizes (whole numbers, 0 or more), else MalformedResponse."""
    if all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        return [int(d) for d in shape]
    shown = repr(shape) if len(shape) <= 8 else repr(shape[:8])[:-1] + ", …]"
    raise MalformedResponse(f"output {i} has shape {shown[:200]}, not a list of sizes")


def _numeric(value: Any, what: str) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except OverflowError as exc:  # an integer beyond float64's range (JSON has no limit)
        raise MalformedResponse(f"{what} has a number out of range") from exc
    except (ValueError, TypeError, RecursionError) as exc:
        raise MalformedResponse(f"{what} is not a numeric array") from exc
    if array.dtype == object or array.size == 0:
        raise MalformedResponse(f"{what} is empty or ragged")
    return array.astype(np.float32)
