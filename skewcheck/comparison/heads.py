"""Which model output is which head, and how each is judged (docs/models.md, "Outputs and heads").

A model with several outputs (a box, landmarks and a face/not-face score; an SSD's anchors and
scores) must not have its first 1-D output taken as the classifier: top-1 agreement and accuracy
computed on box offsets are noise that fails correct ports. The plan is decided once per run, from
the first image's outputs, their names and the user's ``--output NAME|INDEX[=KIND]`` choices:

- a named choice wins;
- of several 1-D outputs, the one that holds probabilities (non-negative, summing to 1) is the
  classifier; failing that, the one whose name says so (``class``, ``logit``, ``prob``…); with no
  way to tell, none is, and the plan says so (``--output INDEX=classification`` names it);
- a single 1-D output stays the classifier (a 1-D embedding cannot be told from logits by shape);
- a 1-D output that cannot hold the labels (a label id ≥ its length) is not a classifier;
- other 1-D outputs are ``regression`` (mean and max |Δ|), one-value outputs ``binary`` (a
  presence/visibility score that flips when it crosses 0.5, or 0 for logits), outputs named like
  landmarks or shaped K×2 / K×3 ``landmarks`` (displacement per point), and a 2-D output shaped
  like an anchor head (thousands × a few values: boxes and scores) ``anchors``: never a dense map,
  only statistics, until a post-process (``--postprocess yolov8`` …) turns it into detections.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from skewcheck.comparison.metrics import is_class_scores
from skewcheck.errors import UsageError

KINDS = ("classification", "dense", "embedding", "landmarks", "binary", "regression", "anchors", "other")
CLASS_NAME = re.compile(r"class|logit|prob|softmax|score|label|cls|pred", re.IGNORECASE)
LANDMARK_NAME = re.compile(r"landmark|keypoint|kpt|kps|mesh|joint|points", re.IGNORECASE)
ANCHORS_MIN = 256  # an anchor head has at least this many rows (or columns)
ANCHOR_VALUES = (5, 100)  # 4 box values + 1..96 scores (YOLOv8's 84, YOLOv5's 85 included)
ANCHOR_RATIO = 20  # and is this much longer than wide: no map is


@dataclass(frozen=True)
class OutputChoice:
    """One ``--output NAME|INDEX[=KIND[:DIMS]]``: which output to judge, and how."""

    selector: str | int
    kind: str | None = None
    dims: int | None = None  # landmarks: coordinates per point (2 or 3)

    def text(self) -> str:
        kind = f"={self.kind}" + (f":{self.dims}" if self.dims else "") if self.kind else ""
        return f"{self.selector}{kind}"


def parse_output(text: str) -> OutputChoice:
    raw = str(text).strip()
    selector, _, how = raw.partition("=")
    selector = selector.strip()
    if not selector:
        raise UsageError(f"--output needs an output name or index, got {raw!r}")
    kind_text, _, dims_text = how.strip().partition(":")
    kind = kind_text.strip().lower() or None
    if kind is not None and kind not in KINDS:
        raise UsageError(f"--output {raw}: the kind must be one of {', '.join(KINDS)}, got {kind!r}")
    dims = None
    if dims_text:
        if kind != "landmarks" or dims_text.strip() not in ("2", "3"):
            raise UsageError(f"--output {raw}: only landmarks take a dimension, :2 or :3")
        dims = int(dims_text)
    return OutputChoice(int(selector) if selector.isdigit() else selector, kind, dims)


def parse_outputs(values: Any) -> tuple[OutputChoice, ...]:
    if values is None:
        return ()
    if isinstance(values, (str, OutputChoice)):
        values = [values]
    return tuple(v if isinstance(v, OutputChoice) else parse_output(str(v)) for v in values)


def shape_text(output: np.ndarray) -> str:
    return "×".join(str(n) for n in output.shape) or "scalar"


def is_probabilities(output: np.ndarray) -> bool:
    v = output.astype(np.float64).ravel()
    return bool(v.size >= 2 and np.all(np.isfinite(v)) and v.min() >= -1e-6 and abs(v.sum() - 1.0) < 1e-3)


def looks_anchor_head(output: np.ndarray) -> bool:
    if output.ndim != 2:
        return False
    short, long = sorted(output.shape)
    return long >= ANCHORS_MIN and ANCHOR_VALUES[0] <= short <= ANCHOR_VALUES[1] and long >= ANCHOR_RATIO * short


def looks_landmarks(output: np.ndarray, name: str) -> bool:
    squeezed = [n for n in output.shape if n != 1]
    if len(squeezed) == 2 and squeezed[1] in (2, 3) and squeezed[0] >= 4:
        return True
    return bool(LANDMARK_NAME.search(name)) and output.size >= 4 and output.size % 2 == 0


def landmark_dims(output: np.ndarray, declared: int | None) -> int:
    if declared:
        return declared
    last = [n for n in output.shape if n != 1]
    if len(last) >= 2 and last[-1] in (2, 3):
        return last[-1]
    return 2 if output.size % 2 == 0 else 3


@dataclass
class HeadPlan:
    """Each output's kind, where it came from, and which output is the classifier (if any)."""

    kinds: list[str]
    how: list[str]
    names: list[str]
    shapes: list[str]
    class_index: int | None
    dims: dict[int, int] = field(default_factory=dict)  # landmarks: coordinates per point
    binary_threshold: dict[int, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "outputs": [
                {"output": i, "name": n, "shape": s, "kind": k, "how": h}
                for i, (n, s, k, h) in enumerate(zip(self.names, self.shapes, self.kinds, self.how, strict=True))
            ],
            "classifier": self.class_index,
        }
        if self.notes:
            out["notes"] = list(self.notes)
        return out

    def words(self) -> list[str]:
        """E.g. "output 2 "face" (2, probabilities) → classification (inferred)"."""
        return [
            f"output {i}{f' {n!r}' if n else ''} ({s}) → {k} ({h})"
            for i, (n, s, k, h) in enumerate(zip(self.names, self.shapes, self.kinds, self.how, strict=True))
        ]


def _chosen(choices: tuple[OutputChoice, ...], names: list[str], count: int) -> dict[int, OutputChoice]:
    chosen: dict[int, OutputChoice] = {}
    for choice in choices:
        if isinstance(choice.selector, int):
            if not 0 <= choice.selector < count:
                raise UsageError(f"--output {choice.text()}: the model has {count} output(s), 0 to {count - 1}")
            chosen[choice.selector] = choice
            continue
        matches = [i for i, n in enumerate(names) if n == choice.selector or n.split(":")[0] == choice.selector]
        if not matches:
            shown = ", ".join(repr(n) for n in names if n) or "none"
            raise UsageError(f"--output {choice.text()}: no output of that name (the model's: {shown})")
        chosen[matches[0]] = choice
    return chosen


def check_choices(choices: tuple[OutputChoice, ...], names: list[str]) -> None:
    """UsageError when a ``--output`` names no output of the model (its outputs' names known)."""
    _chosen(choices, [str(n) for n in names], len(names))


def plan_heads(
    outputs: list[np.ndarray],
    names: list[str] | None = None,
    choices: tuple[OutputChoice, ...] = (),
    task: str | None = None,
    max_label: int | None = None,
) -> HeadPlan:
    """The run's plan from the first image's outputs (see the module docstring)."""
    from skewcheck.comparison.outputs import infer_kind

    count = len(outputs)
    names = [str(n) for n in (names or [])][:count]
    names += [""] * (count - len(names))
    chosen = _chosen(choices, names, count)
    kinds: list[str] = []
    how: list[str] = []
    notes: list[str] = []
    for i, out in enumerate(outputs):
        c = chosen.get(i)
        if c is not None and c.kind is not None:
            kinds.append(c.kind)
            how.append(f"--output {c.text()}")
            continue
        kind = infer_kind(out, task)
        if task is None and kind in ("dense", "other") and looks_anchor_head(out):
            kind = "anchors"
        elif task is None and kind == "other" and looks_landmarks(out, names[i]):
            kind = "landmarks"
        elif task is None and kind == "other" and out.size == 1 and np.issubdtype(out.dtype, np.number):
            kind = "binary"
        kinds.append(kind)
        how.append("inferred")
    class_index = _classifier(outputs, names, kinds, how, chosen, task, max_label, notes)
    plan = HeadPlan(kinds, how, names, [shape_text(o) for o in outputs], class_index, notes=notes)
    for i, kind in enumerate(kinds):
        if kind == "landmarks":
            plan.dims[i] = landmark_dims(outputs[i], chosen[i].dims if i in chosen else None)
        if kind == "binary":
            v = outputs[i].astype(np.float64).ravel()
            plan.binary_threshold[i] = 0.5 if v.size and 0.0 <= float(v[0]) <= 1.0 else 0.0
        if kind == "anchors":
            notes.append(
                f"output {i} ({plan.shapes[i]}) looks like a detector's raw anchor head: it is compared by its "
                "statistics, not as a map; --postprocess (yolov8, yolov5, or file.py:fn) judges the detections"
            )
        if kind == "other" and task is None and outputs[i].size >= 4:
            notes.append(
                f"output {i} ({plan.shapes[i]}) is compared by mean |Δ| only; name its kind if it has one "
                f"(e.g. --output {i}=landmarks:3 for coordinates)"
            )
    return plan


def _classifier(
    outputs: list[np.ndarray],
    names: list[str],
    kinds: list[str],
    how: list[str],
    chosen: dict[int, OutputChoice],
    task: str | None,
    max_label: int | None,
    notes: list[str],
) -> int | None:
    """Pick one classification head; the others that looked like one become regression."""
    named = [i for i, c in chosen.items() if c.kind == "classification"]
    candidates = [i for i, k in enumerate(kinds) if k == "classification"]
    if max_label is not None:
        small = [i for i in candidates if i not in named and outputs[i].shape[0] <= max_label]
        for i in small:
            notes.append(
                f"output {i} ({outputs[i].shape[0]} values) cannot hold the labels (ids up to {max_label}): "
                "not judged as class scores"
            )
        candidates = [i for i in candidates if i not in small]
    if named:
        pick: int | None = named[0]
    elif len(candidates) <= 1:
        pick = candidates[0] if candidates else None
    else:
        probs = [i for i in candidates if is_probabilities(outputs[i])]
        by_name = [i for i in candidates if CLASS_NAME.search(names[i])]
        pick = probs[0] if len(probs) == 1 else (by_name[0] if len(by_name) == 1 else None)
        if pick is not None:
            how[pick] = "inferred: the one 1-D output " + ("of probabilities" if pick in probs else "named like scores")
        else:
            shown = ", ".join(f"{i} ({outputs[i].shape[0]})" for i in candidates)
            notes.append(
                f"several 1-D outputs ({shown}) and none holds probabilities: none is judged as class scores; "
                "name the classifier with --output INDEX=classification"
            )
    for i, kind in enumerate(kinds):
        if kind == "classification" and i != pick:
            if is_class_scores(outputs[i]) and task != "embedding":
                kinds[i] = "landmarks" if looks_landmarks(outputs[i], names[i]) else "regression"
            if how[i] == "inferred":
                how[i] = "inferred: 1-D, not the classifier"
    return pick
