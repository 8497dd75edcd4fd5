"""`skewcheck inspect MODEL`: input/output signatures and the preprocessing baked into the model."""

from __future__ import annotations

import json
from typing import Any

import typer

from skewcheck.cli.app import app, fail_usage
from skewcheck.errors import UsageError
from skewcheck.native import set_verbose
from skewcheck.safe_text import visible


@app.command("inspect")
def inspect_cmd(
    model: str = typer.Argument(..., help="model.keras | model.h5 | SavedModel dir | model.tflite | model.onnx"),
    as_json: bool = typer.Option(False, "--json", help="print JSON (for machines) instead of text"),
    unsafe_load: bool = typer.Option(
        False, "--unsafe-load", help="load Keras models with safe_mode=False (runs their Lambda code)"
    ),
    verbose: bool = typer.Option(False, "--verbose", help="let TensorFlow's native logs through"),
) -> None:
    """Show the model's input and output signatures (with quantization), the preprocessing layers
    inside it and the input range it therefore expects. Needs no image."""
    set_verbose(verbose)
    from skewcheck.models.inspect import inspect_model

    try:
        result = inspect_model(model, unsafe_load=unsafe_load)
    except UsageError as exc:
        fail_usage(str(exc))
        return
    data = result.to_dict()
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    for line in render_text(data):
        typer.echo(visible(line))  # the path and layer names are the user's


def _spec(spec: dict[str, Any]) -> str:
    shape = (
        "any" if spec["shape"] is None else "(" + ", ".join("?" if d is None else str(d) for d in spec["shape"]) + ")"
    )
    text = f"  {spec['name']}: {spec['dtype']} {shape}"
    q = spec.get("quantization")
    if q:
        text += f"  quantized: scale={q['scale']:.6g}, zero_point={q['zero_point']}"
    return text


def render_text(data: dict[str, Any]) -> list[str]:
    lines = [f"model {data['path']} ({data['format']})", "inputs:"]
    lines += [_spec(s) for s in data["inputs"]]
    lines.append("outputs:")
    lines += [_spec(s) for s in data["outputs"]] or ["  (known after the first prediction)"]
    heads = data.get("heads")
    if heads:
        lines.append("how compare judges each output (--output NAME|INDEX=KIND overrides):")
        lines += [
            f"  output {h['output']}{' ' + h['name'] if h['name'] else ''} ({h['shape']}) → {h['kind']} ({h['how']})"
            for h in heads["outputs"]
        ]
        lines += [f"  note: {n}" for n in heads.get("notes", [])]
    lines.append("preprocessing inside the model:")
    lines += [f"  {i}. {s['text']}  [{s['layer']}]" for i, s in enumerate(data["preprocessing"], 1)] or ["  none found"]
    expected = data["expected_input"]
    if expected is not None:
        lo, hi = expected["network_sees"]
        lines.append(f"expected input: {expected['text']} (its layers then see [{lo:g}, {hi:g}])")
    else:
        lines.append("expected input: unknown (no preprocessing or quantization tells it)")
    lines += [f"note: {n}" for n in data["notes"]]
    return lines
