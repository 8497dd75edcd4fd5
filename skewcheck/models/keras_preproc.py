"""Find the preprocessing baked into a Keras model: the chain of layers and ops right after its input.

Walks the model's config from the input while each consumer is a preprocessing step:
``Rescaling``, ``Normalization``, ``Resizing``, ``CenterCrop``, random augmentation layers (inactive
at inference), and the element-wise ops that ``keras.applications.*.preprocess_input`` leaves in a
Keras 3 graph when applied to a symbolic input (``TrueDivide``/``Multiply``/``Add``/``Subtract`` by
constants, ``GetItem`` + ``Stack`` for the RGB→BGR flip). The value steps compose into one affine
map per channel, ``inside = a * x[perm] + b``, from which :mod:`skewcheck.models.inspect` infers the
input range the model expects. Nothing is executed: only the config and the layers' weights are read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

AUGMENTATION_PREFIX = "Random"  # RandomFlip, RandomRotation, RandomZoom …: identity at inference
_ARITHMETIC = {"Add", "Subtract", "Multiply", "TrueDivide", "Divide"}
_CONTAINERS = {"Functional", "Sequential", "Model"}


@dataclass(frozen=True)
class PreprocStep:
    layer: str  # the layer's (or op's) name in the model
    kind: str  # rescaling | normalization | resizing | center-crop | channel-flip | arithmetic | cast | augmentation
    text: str  # e.g. "Rescaling(scale=0.00392157, offset=0)"
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"layer": self.layer, "kind": self.kind, "text": self.text, "params": self.params}


@dataclass
class Affine:
    """``inside[c] = a[c] * x[perm[c]] + b[c]``, per channel (scalars broadcast)."""

    a: np.ndarray = field(default_factory=lambda: np.ones(1))
    b: np.ndarray = field(default_factory=lambda: np.zeros(1))
    perm: tuple[int, ...] | None = None
    steps: list[str] = field(default_factory=list)  # texts of the value-changing steps

    @property
    def is_identity(self) -> bool:
        return not self.steps

    def then(self, mul: Any = 1.0, add: Any = 0.0, text: str = "") -> None:
        mul, add = np.asarray(mul, np.float64).reshape(-1), np.asarray(add, np.float64).reshape(-1)
        self.a, self.b = self.a * mul, self.b * mul + add
        if text:
            self.steps.append(text)

    def flip(self, perm: tuple[int, ...], text: str) -> None:
        order = list(perm)
        self.perm = tuple(order if self.perm is None else [self.perm[i] for i in order])
        self.a = self.a[order] if self.a.size > 1 else self.a
        self.b = self.b[order] if self.b.size > 1 else self.b
        self.steps.append(text)


def g(x: float) -> str:
    return f"{x:.6g}"


def _vec(v: np.ndarray) -> str:
    v = np.asarray(v).reshape(-1)
    return g(float(v[0])) if v.size == 1 or np.allclose(v, v[0]) else "[" + ", ".join(g(float(x)) for x in v) + "]"


def _const(arg: Any) -> np.ndarray | None:
    """A constant argument of an op (number or serialized tensor), flattened; None for a tensor."""
    if isinstance(arg, (int, float)) and not isinstance(arg, bool):
        return np.asarray([float(arg)])
    if isinstance(arg, dict) and arg.get("class_name") == "__tensor__":
        return np.asarray(arg["config"]["value"], np.float64).reshape(-1)
    return None


def _source(arg: Any) -> str | None:
    if isinstance(arg, dict) and arg.get("class_name") == "__keras_tensor__":
        return str(arg["config"]["keras_history"][0])
    return None


def _node_args(layer_cfg: dict[str, Any]) -> list[Any]:
    nodes = layer_cfg.get("inbound_nodes") or []
    return list(nodes[0].get("args", [])) if len(nodes) == 1 else []


def _sources(layer_cfg: dict[str, Any]) -> list[str]:
    out: list[str] = []

    def visit(x: Any) -> None:
        if isinstance(x, list):
            for y in x:
                visit(y)
        elif (s := _source(x)) is not None:
            out.append(s)

    visit(_node_args(layer_cfg))
    return out


class Walker:
    """Collects steps and the affine map while walking one model (and models nested first in it)."""

    def __init__(self) -> None:
        self.steps: list[PreprocStep] = []
        self.affine = Affine()
        self.stopped_at: str | None = None

    def walk(self, model: Any) -> None:
        config = model.get_config()
        if "input_layers" in config:
            self._walk_functional(model, config)
        else:
            self._walk_sequential(model, config)

    def _walk_sequential(self, model: Any, config: dict[str, Any]) -> None:
        for layer_cfg in config.get("layers", []):
            if layer_cfg["class_name"] == "InputLayer":
                continue
            if not self._apply(model, layer_cfg, args=None):
                return

    def _walk_functional(self, model: Any, config: dict[str, Any]) -> None:
        layers = config.get("layers", [])
        inputs = config.get("input_layers") or []
        if inputs and isinstance(inputs[0], str):  # one input: ["image", 0, 0]
            inputs = [inputs]
        if len(inputs) != 1:
            return
        current = str(inputs[0][0])
        while True:
            consumers = [c for c in layers if current in _sources(c)]
            if len(consumers) == 3 and all(c["class_name"] == "GetItem" for c in consumers):
                flipped = self._channel_flip(layers, consumers)
                if flipped is None:
                    return
                current = flipped
                continue
            if len(consumers) != 1 or set(_sources(consumers[0])) != {current}:
                if consumers:
                    self.stopped_at = consumers[0]["name"]
                return
            if not self._apply(model, consumers[0], args=_node_args(consumers[0])):
                return
            current = consumers[0]["name"]

    def _channel_flip(self, layers: list[dict[str, Any]], getters: list[dict[str, Any]]) -> str | None:
        """x[..., 2], x[..., 1], x[..., 0] stacked on the last axis: a channel permutation."""
        index: dict[str, int] = {}
        for getter in getters:
            key = _node_args(getter)[1] if len(_node_args(getter)) == 2 else None
            if not (
                isinstance(key, list)
                and len(key) == 2
                and isinstance(key[1], int)
                and isinstance(key[0], dict)
                and key[0].get("class_name") == "__ellipsis__"
            ):
                return None
            index[getter["name"]] = key[1]
        stacks = [c for c in layers if c["class_name"] == "Stack" and set(_sources(c)) == set(index)]
        if len(stacks) != 1 or stacks[0]["config"].get("axis", -1) not in (-1, 3):
            return None
        perm = tuple(index[s] for s in _sources(stacks[0]))
        text = "channel flip RGB→BGR" if perm == (2, 1, 0) else f"channel permutation {list(perm)}"
        self.steps.append(PreprocStep(stacks[0]["name"], "channel-flip", text, {"perm": list(perm)}))
        self.affine.flip(perm, text)
        return str(stacks[0]["name"])

    def _apply(self, model: Any, layer_cfg: dict[str, Any], args: list[Any] | None) -> bool:
        """Record one step; False (and stop) when the layer is not preprocessing."""
        cls, cfg = layer_cfg["class_name"], layer_cfg["config"]
        name = str(layer_cfg.get("name") or cfg.get("name"))
        if cls == "Rescaling":
            scale, offset = np.asarray(cfg.get("scale", 1.0), float), np.asarray(cfg.get("offset", 0.0), float)
            text = f"Rescaling(scale={_vec(scale)}, offset={_vec(offset)})"
            self.affine.then(scale, offset, text)
            self._add(name, "rescaling", text, {"scale": scale.tolist(), "offset": offset.tolist()})
        elif cls == "Normalization":
            return self._normalization(model, name, cfg)
        elif cls == "Resizing":
            params = {
                k: cfg.get(k)
                for k in ("height", "width", "interpolation", "crop_to_aspect_ratio", "pad_to_aspect_ratio")
                if k in cfg
            }
            extra = ", crop_to_aspect_ratio" if cfg.get("crop_to_aspect_ratio") else ""
            self._add(
                name,
                "resizing",
                f"Resizing({cfg['height']}×{cfg['width']}, {cfg.get('interpolation', 'bilinear')}{extra})",
                params,
            )
        elif cls == "CenterCrop":
            self._add(
                name,
                "center-crop",
                f"CenterCrop({cfg['height']}×{cfg['width']})",
                {"height": cfg["height"], "width": cfg["width"]},
            )
        elif cls.startswith(AUGMENTATION_PREFIX):
            self._add(name, "augmentation", f"{cls} (inactive at inference)", {})
        elif cls == "Cast":
            dtype = cfg.get("dtype") or (layer_cfg.get("inbound_nodes") or [{}])[0].get("kwargs", {}).get("dtype")
            self._add(name, "cast", f"Cast({dtype})", {"dtype": str(dtype)})
        elif cls in _ARITHMETIC and args is not None:
            return self._arithmetic(cls, name, args)
        elif cls in _CONTAINERS:
            inner = model.get_layer(name)
            before = len(self.steps)
            self.walk(inner)
            return len(self.steps) > before and self.stopped_at is None
        else:
            self.stopped_at = name
            return False
        return True

    def _add(self, name: str, kind: str, text: str, params: dict[str, Any]) -> None:
        self.steps.append(PreprocStep(str(name), kind, text, params))

    def _normalization(self, model: Any, name: str, cfg: dict[str, Any]) -> bool:
        layer = model.get_layer(name)
        mean = np.asarray(getattr(layer, "mean", cfg.get("mean")), np.float64).reshape(-1)
        var = np.asarray(getattr(layer, "variance", cfg.get("variance")), np.float64).reshape(-1)
        std = np.sqrt(np.maximum(var, 1e-7))  # keras: (x - mean) / maximum(sqrt(variance), epsilon)
        if cfg.get("invert"):
            text = f"Normalization(invert, mean={_vec(mean)}, variance={_vec(var)})"
            self.affine.then(std, mean, text)
        else:
            text = f"Normalization(mean={_vec(mean)}, variance={_vec(var)})"
            self.affine.then(1.0 / std, -mean / std, text)
        self._add(
            name,
            "normalization",
            text,
            {"mean": mean.tolist(), "variance": var.tolist(), "invert": bool(cfg.get("invert"))},
        )
        return True

    def _arithmetic(self, cls: str, name: str, args: list[Any]) -> bool:
        if len(args) != 2:
            self.stopped_at = name
            return False
        c0, c1 = _const(args[0]), _const(args[1])
        if (c0 is None) == (c1 is None):  # two tensors or two constants: not x ∘ constant
            self.stopped_at = name
            return False
        c = c1 if c0 is None else c0
        assert c is not None
        tensor_first = c0 is None
        shown = _vec(c)
        if cls == "Add":
            self.affine.then(1.0, c, text := f"x + {shown}")
        elif cls == "Multiply":
            self.affine.then(c, 0.0, text := f"x × {shown}")
        elif cls == "Subtract":
            if tensor_first:
                self.affine.then(1.0, -c, text := f"x − {shown}")
            else:
                self.affine.then(-1.0, c, text := f"{shown} − x")
        elif tensor_first:  # TrueDivide / Divide by a constant
            self.affine.then(1.0 / c, 0.0, text := f"x / {shown}")
        else:
            self.stopped_at = name
            return False
        self._add(name, "arithmetic", text, {"op": cls, "constant": c.tolist()})
        return True


# keras.applications' preprocess_input modes as affine maps of RGB input in [0, 255]
_MEAN_TORCH = np.array([0.485, 0.456, 0.406])
_STD_TORCH = np.array([0.229, 0.224, 0.225])
PRESETS: dict[str, tuple[tuple[int, ...] | None, np.ndarray, np.ndarray]] = {
    "tf": (None, np.array([1 / 127.5]), np.array([-1.0])),
    "torch": (None, 1 / (255 * _STD_TORCH), -_MEAN_TORCH / _STD_TORCH),
    "caffe": ((2, 1, 0), np.ones(1), -np.array([103.939, 116.779, 123.68])),
}


def match_preset(affine: Affine) -> str | None:
    """The keras.applications preprocess_input mode this affine map equals, if any."""
    for name, (perm, a, b) in PRESETS.items():
        same_perm = (affine.perm or None) == perm
        if same_perm and _close(affine.a, a) and _close(affine.b, b):
            return name
    return None


def _close(x: np.ndarray, y: np.ndarray) -> bool:
    n = max(x.size, y.size)
    return bool(np.allclose(np.broadcast_to(x, n), np.broadcast_to(y, n), rtol=2e-3, atol=1e-4))
