"""Tiny Keras models built in-process with fixed seeds, one per model input / output kind.

Each is a convolution or two and a dense head, random weights (``keras.utils.set_random_seed``):
what they predict does not matter, only that a skew can change it. Built once per process, saved
to a ``.keras`` file under the work folder and loaded back through skewcheck's own loader, so the
audit sees exactly the runner a user's file would give (``runner(name, folder)``).

Output kinds and the answer test the truth uses (``changed``; benchmarks/skew_matrix/truth.py):

- ``classifier`` (and ``_chw``, ``_gray``, ``_dynamic`` inputs): 10-way softmax; top-1 flip.
- ``multihead``: box (4, sigmoid) + landmarks (10, sigmoid) + face/no-face (2-way softmax); the
  class head's top-1 flips, or a box / landmark coordinate moves more than 2 px at 64 px.
- ``dense``: 16 × 16 × 1 sigmoid map; more than 1 % of its pixels cross 0.5.
- ``ssd``: 8 × 8 cells × 2 anchors × (4 box + 3 class scores) = 128 × 7; the three most confident
  anchors, or their labels, change.
- ``landmarks``: 10 coordinates (sigmoid); one moves more than 2 px at 64 px.
- ``embedding``: unit-length 32-d (``task="embedding"``); cosine similarity below 0.99.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

SEED = 2026
TASK = {"embedding": "embedding"}  # compare(task=...) a user would pass; others inferred
REGRESSION_PX = 2 / 64  # a coordinate moving more than 2 px of a 64 px input changed its answer
_RUNNERS: dict[str, Any] = {}


def _trunk(keras: Any, x: Any) -> Any:
    x = keras.layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(x)
    return keras.layers.Conv2D(16, 3, strides=2, padding="same", activation="relu")(x)


def build(name: str) -> Any:
    """The Keras model ``name`` (seeded: the same weights in every process)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    keras.utils.set_random_seed(SEED + sorted(OUTPUTS).index(name))
    L = keras.layers
    shape = {"classifier_chw": (3, 64, 64), "classifier_gray": (64, 64, 1), "classifier_dynamic": (None, None, 3)}
    inputs = keras.Input(shape=shape.get(name, (64, 64, 3)), dtype="float32", name="image")
    x = L.Permute((2, 3, 1))(inputs) if name == "classifier_chw" else inputs
    x = _trunk(keras, x)
    if name == "dense":
        out: Any = L.Conv2D(1, 3, padding="same", activation="sigmoid", name="map")(x)
        return keras.Model(inputs, out, name=name)
    if name == "ssd":
        x = L.Conv2D(16, 3, strides=2, padding="same", activation="relu")(x)
        out = L.Reshape((8 * 8 * 2, 7), name="anchors")(L.Conv2D(2 * 7, 1)(x))
        return keras.Model(inputs, out, name=name)
    flat = L.GlobalAveragePooling2D()(x) if name == "classifier_dynamic" else L.Flatten()(x)
    if name == "multihead":
        box = L.Dense(4, activation="sigmoid", name="box")(flat)
        marks = L.Dense(10, activation="sigmoid", name="landmarks")(flat)
        face = L.Dense(2, activation="softmax", name="face")(flat)
        return keras.Model(inputs, [box, marks, face], name=name)
    if name == "landmarks":
        return keras.Model(inputs, L.Dense(10, activation="sigmoid", name="landmarks")(flat), name=name)
    if name == "embedding":
        emb = L.UnitNormalization(name="embedding")(L.Dense(32)(flat))
        return keras.Model(inputs, emb, name=name)
    return keras.Model(inputs, L.Dense(10, activation="softmax", name="scores")(flat), name=name)


# Per output, in the runner's output order: what kind of answer it is.
OUTPUTS = {
    "classifier": ("class",),
    "classifier_chw": ("class",),
    "classifier_gray": ("class",),
    "classifier_dynamic": ("class",),
    "multihead": ("coords", "coords", "class"),
    "dense": ("map",),
    "ssd": ("anchors",),
    "landmarks": ("coords",),
    "embedding": ("embedding",),
}


def runner(name: str, folder: Path) -> Any:
    """skewcheck's runner for model ``name`` (built, saved and loaded once per process)."""
    if name not in _RUNNERS:
        from skewcheck.models.loader import load_model

        folder = Path(folder) / f"models-{os.getpid()}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.keras"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            build(name).save(path)
        _RUNNERS[name] = load_model(str(path), device="cpu")
        _order_outputs(name, _RUNNERS[name])
    return _RUNNERS[name]


def _order_outputs(name: str, loaded: Any) -> None:
    """The runner lists outputs by name (sorted): map our kinds onto that order."""
    names = [o.name for o in loaded.info.outputs]
    if name == "multihead":
        kinds = {"box": "coords", "landmarks": "coords", "face": "class"}
        OUTPUTS[name] = tuple(next(k for key, k in kinds.items() if key in n) for n in names)


def predict(name: str, folder: Path, batch: np.ndarray) -> list[np.ndarray]:
    return [np.asarray(o, np.float64) for o in runner(name, folder).predict(batch.astype(np.float32))]


def _ssd_answer(a: np.ndarray) -> set[tuple[int, int]]:
    scores = a[:, 4:]
    best = np.argsort(-scores.max(1), kind="stable")[:3]
    return {(int(i), int(scores[i].argmax())) for i in best}


def changed(name: str, train: list[np.ndarray], serve: list[np.ndarray], i: int) -> bool:
    """Did image ``i``'s answer change (the test of each output's kind, above)?"""
    for kind, a, b in zip(OUTPUTS[name], train, serve, strict=True):
        x, y = a[i], b[i]
        if kind == "class" and int(x.argmax()) != int(y.argmax()):
            return True
        if kind == "coords" and float(np.max(np.abs(x - y))) > REGRESSION_PX:
            return True
        if kind == "map" and float(np.mean((x > 0.5) != (y > 0.5))) > 0.01:
            return True
        if kind == "embedding":
            cos = float(np.dot(x.ravel(), y.ravel()) / max(np.linalg.norm(x) * np.linalg.norm(y), 1e-12))
            if cos < 0.99:
                return True
        if kind == "anchors" and _ssd_answer(x) != _ssd_answer(y):
            return True
    return False
