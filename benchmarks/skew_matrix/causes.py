"""The one table: model input kinds (train specs), causes, equivalent ports, and what each should be named.

A **spec** is the careful training pipeline of one model input kind (settings over
``ops.REFERENCE``). A **cause** changes one or two settings on the serve side; ``kind`` is the
finding kind skewcheck *should* name for it (docs/findings.md), ``accepted`` the other kinds that
also name it correctly (a letterbox is a framing: the ``crop`` detector lists it too). A cause
skewcheck has no kind for yet is scored under the kind it should get (``quantization``), so the
miss shows. A **port** is other code for the same numbers (``impl``): it must stay quiet.

``applies(spec, family)`` keeps a cause to the inputs where it means something (a gray formula
needs a gray model, ``exif`` an EXIF-tagged family); a cause that can be applied but changes no
tensor on a family (EXIF ignored on untagged photos) is kept on one family as an *inert* case:
the code differs, the numbers do not, and the audit must stay quiet there too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from benchmarks.skew_matrix.images import JPEG_FAMILIES

SPECS: dict[str, dict[str, Any]] = {
    "hwc64": {},
    "chw64": {"layout": "chw"},
    "gray64": {"color": "gray"},
    "letterbox64": {"framing": "letterbox"},
    "dynamic": {"size": None},
    "imagenet64": {"value": "imagenet"},
}
UNIT_SPECS = {"hwc64", "chw64", "gray64", "letterbox64", "dynamic"}
RESIZING = {"hwc64", "chw64", "gray64", "letterbox64", "imagenet64"}
STRETCHING = {"hwc64", "chw64", "gray64", "imagenet64"}
RGB_SPECS = {"hwc64", "chw64", "letterbox64", "dynamic", "imagenet64"}

# Which model (benchmarks/skew_matrix/models.py) can take each spec's tensors.
MODELS_FOR_SPEC = {
    "hwc64": ("classifier", "multihead", "dense", "ssd", "landmarks", "embedding"),
    "chw64": ("classifier_chw",),
    "gray64": ("classifier_gray",),
    "letterbox64": ("ssd", "classifier"),
    "dynamic": ("classifier_dynamic",),
    "imagenet64": ("classifier", "embedding"),
}

RESIDUAL_KINDS = {"prediction", "unexplained"}  # "something differs, no named cause"
NO_SKEWCHECK_KIND = {"quantization"}  # truth kinds skewcheck has no finding kind for yet


@dataclass(frozen=True)
class Cause:
    name: str
    kind: str
    changes: Callable[[str], dict[str, Any]] | dict[str, Any]
    applies: Callable[[str, str], bool] = lambda spec, family: True
    accepted: tuple[str, ...] = ()
    variants_of: str = ""  # causes sharing this tag are sampled, not all run on every input kind
    notes: str = field(default="", compare=False)

    def serve_changes(self, spec: str) -> dict[str, Any]:
        return self.changes(spec) if callable(self.changes) else dict(self.changes)

    @property
    def keys(self) -> frozenset[str]:
        probe = self.serve_changes("hwc64")
        return frozenset(probe)


def _on(specs: set[str], families: set[str] | None = None) -> Callable[[str, str], bool]:
    return lambda spec, family: spec in specs and (families is None or family in families)


RESIZE_METHODS = (
    "pil.bicubic",
    "pil.nearest",
    "pil.lanczos",
    "pil.box",
    "cv2.linear",
    "cv2.area",
    "cv2.nearest",
    "cv2.cubic",
    "tf.bilinear",
    "tf.bilinear-aa",
    "tf.nearest",
    "tf.area",
)
GRAY_FORMULAS = ("cv2", "tf", "bt709", "mean", "bgr-weights")

CAUSES: list[Cause] = [
    Cause("bgr", "channel-order", {"channels": "bgr"}, _on(RGB_SPECS)),
    Cause("raw-uint8-range", "scale", {"value": "raw"}, _on(UNIT_SPECS), notes="missing /255"),
    Cause("double-255", "scale", {"value": "double"}, _on(UNIT_SPECS), notes="/255 twice"),
    Cause("tf-range", "normalization", {"value": "tf"}, _on(UNIT_SPECS), accepted=("scale",), notes="/127.5-1"),
    Cause("imagenet-extra", "normalization", {"value": "imagenet"}, _on(UNIT_SPECS)),
    Cause("caffe-mean", "normalization", {"value": "caffe"}, _on(UNIT_SPECS), accepted=("scale",)),
    Cause("imagenet-missing", "normalization", {"value": "unit"}, _on({"imagenet64"})),
    Cause("imagenet-no-std", "normalization", {"value": "imagenet-nostd"}, _on({"imagenet64"})),
    Cause("imagenet-as-tf", "normalization", {"value": "tf"}, _on({"imagenet64"})),
    *(Cause(f"resize:{m}", "resize", {"resize": m}, _on(RESIZING), variants_of="resize") for m in RESIZE_METHODS),
    Cause("center-crop", "crop", {"framing": "center-crop"}, _on(STRETCHING)),
    Cause("center-87", "crop", {"framing": "center-87"}, _on(STRETCHING)),
    Cause("letterbox", "padding", {"framing": "letterbox"}, _on(STRETCHING), accepted=("crop",)),
    Cause("stretch", "padding", {"framing": "stretch"}, _on({"letterbox64"}), accepted=("crop",)),
    Cause("pad-114", "padding", {"pad": 114}, _on({"letterbox64"})),
    Cause("exif-ignored", "orientation", {"exif": False}, _on(set(SPECS), {"exif", "photos"})),
    Cause("icc-ignored", "color-profile", {"icc": False}, _on(set(SPECS), {"icc", "photos"})),
    Cause("alpha-black", "alpha", {"alpha": "black"}, _on(set(SPECS), {"rgba", "photos"})),
    Cause("alpha-dropped", "alpha", {"alpha": "drop"}, _on(set(SPECS), {"rgba", "photos"})),
    Cause("cv2-decode", "jpeg-decoder", {"decoder": "cv2"}, notes="same libjpeg settings as PIL: inert"),
    Cause("tf-fast-idct", "jpeg-decoder", {"decoder": "tf-fast"}, _on(set(SPECS), JPEG_FAMILIES)),
    *(Cause(f"gray:{g}", "color-conversion", {"gray": g}, _on({"gray64"}), variants_of="gray") for g in GRAY_FORMULAS),
    Cause("gray-replicated", "color-conversion", {"gray3": True}, _on(RGB_SPECS)),
    Cause("float64", "dtype", {"dtype": "float64"}),
    Cause("float16", "dtype", {"dtype": "float16"}),
    Cause("chw", "layout", {"layout": "chw"}, _on(RGB_SPECS - {"chw64"})),
    Cause("hwc", "layout", {"layout": "hwc"}, _on({"chw64"})),
    Cause("size-48", "shape", {"size": 48}, _on(RESIZING)),
    Cause("srgb-linearized", "gamma", {"curve": "srgb-to-linear"}, notes="sRGB → linear before the network"),
    Cause("gamma-2.2", "gamma", {"curve": "gamma-2.2"}, notes="x ** 2.2 (adjust_gamma, a gamma LUT)"),
    Cause("uint8-intdiv", "quantization", {"quant": "intdiv"}, notes="uint8 // 255"),
    Cause("bits5", "quantization", {"quant": "bits5"}),
    Cause("bits3", "quantization", {"quant": "bits3"}),
]
BY_NAME = {c.name: c for c in CAUSES}
# Kinds by cause name, the table docs/skew-matrix.md prints.
EXPECTED_KIND = {c.name: c.kind for c in CAUSES}

PORTS: dict[str, tuple[dict[str, Any], Callable[[str, str], bool]]] = {
    "float64-division": ({"impl": "float64_div"}, _on(UNIT_SPECS)),
    "reciprocal-multiply": ({"impl": "reciprocal"}, _on(UNIT_SPECS)),
    "tf-divide": ({"impl": "tf_divide"}, _on(UNIT_SPECS)),
    "fused-affine-normalize": ({"impl": "fused_affine"}, _on({"imagenet64"})),
    "chw-round-trip": ({"impl": "chw_roundtrip"}, _on(set(SPECS))),
    "cv2-bgr-round-trip": ({"impl": "cv2_roundtrip"}, _on(set(SPECS))),
    "exif-transpose": ({"impl": "exif_transpose"}, _on(set(SPECS))),
    "numpy-pad-letterbox": ({"impl": "np_pad"}, _on({"letterbox64"})),
}

# Inert examples are kept on this family only (photos carry no EXIF tag, ICC profile or alpha).
INERT_FAMILY = "photos"
FAMILY_BOUND = {"exif-ignored": "exif", "icc-ignored": "icc", "alpha-black": "rgba", "alpha-dropped": "rgba"}


def compatible(a: Cause, b: Cause) -> bool:
    """Two causes can be combined when they change different settings."""
    return not (a.keys & b.keys) and a.kind != b.kind
