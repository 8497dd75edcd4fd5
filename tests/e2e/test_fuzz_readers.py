"""Property tests for every reader of user files: any input gives a value or a UsageError
(per-image tensor files: a value or that image's recorded error), never another exception.

Bounded and derandomized so the suite stays fast and deterministic; fuzz/ has atheris harnesses
for the same readers, for longer runs by hand.
"""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skewcheck.errors import UsageError

FUZZ = settings(
    max_examples=60, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)

_TMP = Path(tempfile.mkdtemp(prefix="skewcheck-fuzz-"))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
text_or_bytes = st.binary(max_size=300) | st.text(max_size=300).map(lambda s: s.encode("utf-8", "surrogatepass"))


def _write(name: str, data: bytes) -> Path:
    path = _TMP / name
    path.write_bytes(data)
    return path


def _value_or_usage(fn, *args):
    try:
        return fn(*args)
    except UsageError:
        return None


# --- labels and class names ---------------------------------------------------------------------

label_csv = st.builds(
    lambda rows, header: (header + "\n" + "\n".join(",".join(r) for r in rows)).encode("utf-8", "surrogatepass"),
    st.lists(st.lists(st.text(max_size=12), min_size=0, max_size=3), max_size=6),
    st.sampled_from(["file,label", "label,file", "file", "", "file,label,extra"]),
)


@FUZZ
@given(data=label_csv | text_or_bytes, names=st.none() | st.lists(st.text(max_size=8), max_size=4))
def test_labels_reader(data, names):
    from skewcheck.images.labels import read_labels

    out = _value_or_usage(read_labels, _write("labels.csv", data), names)
    if out is not None:
        assert all(isinstance(k, str) and isinstance(v, int) for k, v in out.items())


@FUZZ
@given(data=text_or_bytes)
def test_class_names_reader(data):
    from skewcheck.images.labels import read_class_names

    out = _value_or_usage(read_class_names, _write("names.txt", data))
    if out is not None:
        assert out and all(isinstance(n, str) and n for n in out)


# --- TOML specs ---------------------------------------------------------------------------------

toml_scalars = st.one_of(
    st.integers(min_value=-(10**500), max_value=10**500).map(str),
    st.floats().map(lambda f: repr(f).replace("nan", "nan")),
    st.sampled_from(
        ["true", "false", "inf", "-inf", "nan", '"pil"', '"tf"', '"opencv"', '"decode"', '"resize"', '"bilinear"']
    ),
    st.text(max_size=8).map(json.dumps),
)
toml_values = st.recursive(
    toml_scalars, lambda inner: st.lists(inner, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]"), max_leaves=6
)
step_keys = st.sampled_from(
    [
        "op",
        "library",
        "channels",
        "size",
        "method",
        "antialias",
        "factor",
        "offset",
        "mean",
        "std",
        "order",
        "dtype",
        "name",
        "to",
        "fraction",
        "keep_aspect",
        "pad",
        "color",
        "exif",
    ]
)
ops = st.sampled_from(
    [
        '"decode"',
        '"resize"',
        '"cast"',
        '"scale"',
        '"normalize"',
        '"channel_order"',
        '"center_crop"',
        '"layout"',
        '"batch"',
        '"preset"',
        '["decode"]',
        "1",
    ]
)
toml_step = st.builds(
    lambda op, kv: "{ op = " + op + "".join(f", {k} = {v}" for k, v in kv.items()) + " }",
    ops,
    st.dictionaries(step_keys.filter(lambda k: k != "op"), toml_values, max_size=4),
)
toml_doc = st.builds(
    lambda steps: '[pipelines.p]\nsteps = [{ op = "decode", library = "pil" }, ' + ", ".join(steps) + "]\n",
    st.lists(toml_step, max_size=4),
)


@FUZZ
@given(doc=toml_doc | text_or_bytes.map(lambda b: b.decode("utf-8", "replace")))
def test_toml_spec_reader(doc):
    from skewcheck.pipelines.declarative import load_declarative

    path = _write("spec.toml", doc.encode("utf-8", "surrogatepass"))
    _value_or_usage(load_declarative, f"{path}#p")


# --- probe manifest -----------------------------------------------------------------------------

manifest_entry = st.fixed_dictionaries(
    {},
    optional={
        "file": json_values,
        "kind": json_values,
        "category": json_values,
        "base": json_values,
        "expect": st.sampled_from(["reject", "either", "same-as-base"]) | json_values,
        "tolerance": json_values,
        "note": json_values,
    },
)


@FUZZ
@given(
    doc=st.one_of(json_values, st.fixed_dictionaries({"probes": st.lists(manifest_entry | json_values, max_size=4)}))
)
def test_probe_manifest_reader(doc):
    from skewcheck.probes import load_manifest

    folder = _TMP / "manifest"
    folder.mkdir(exist_ok=True)
    try:
        text = json.dumps(doc)
    except (ValueError, RecursionError):
        return
    (folder / "manifest.json").write_text(text)
    out = _value_or_usage(load_manifest, folder)
    if out is not None:
        assert all(e.expect in ("reject", "either", "same-as-base") for e in out.values())


# --- tensors:DIR files --------------------------------------------------------------------------


def _tensor_run(files: dict[str, bytes]):
    from skewcheck.pipelines.tensors_dir import TensorsDirPipeline

    root = _TMP / "timgs"
    root.mkdir(exist_ok=True)
    image = root / "x.png"
    image.write_bytes(b"img")
    folder = _TMP / "tdir"
    if folder.exists():
        for p in folder.iterdir():
            p.unlink()
    folder.mkdir(exist_ok=True)
    for suffix, data in files.items():
        (folder / f"x.png{suffix}").write_bytes(data)
    outcome = TensorsDirPipeline(f"tensors:{folder}", images_root=root, max_tensor_mb=16).run(image)
    assert outcome.status in ("ok", "pipeline-error", "decode-error", "missing")
    assert outcome.ok == (outcome.tensor is not None)
    return outcome


def _npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=array.dtype.hasobject)
    return buf.getvalue()


def _mutate(data: bytes, cuts: list[tuple[int, int]]) -> bytes:
    out = bytearray(data)
    for pos, value in cuts:
        if out:
            out[pos % len(out)] = value
    return bytes(out)


mutations = st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=6)
sample_arrays = st.sampled_from(
    [np.zeros((4, 4, 3), np.float32), np.arange(12, dtype=np.uint8), np.array([1, None], dtype=object)]
)


@FUZZ
@given(sidecar=json_values, raw=st.binary(max_size=64))
def test_tensors_dir_sidecar_and_bin(sidecar, raw):
    try:
        text = json.dumps(sidecar)
    except (ValueError, RecursionError):
        return
    _tensor_run({".bin": raw, ".json": text.encode()})


@FUZZ
@given(array=sample_arrays, cuts=mutations, cut_at=st.none() | st.integers(0, 400))
def test_tensors_dir_npy(array, cuts, cut_at):
    data = _mutate(_npy(array), cuts)
    _tensor_run({".npy": data[:cut_at] if cut_at is not None else data})


@FUZZ
@given(array=sample_arrays, cuts=mutations, cut_at=st.none() | st.integers(0, 600), extra=st.booleans())
def test_tensors_dir_npz(array, cuts, cut_at, extra):
    buf = io.BytesIO()
    arrays = {"a": array, **({"b": np.zeros(2)} if extra else {})}
    np.savez_compressed(buf, **arrays)
    data = _mutate(buf.getvalue(), cuts)
    _tensor_run({".npz": data[:cut_at] if cut_at is not None else data})


@FUZZ
@given(text=text_or_bytes)
def test_tensors_dir_error_file(text):
    outcome = _tensor_run({".error": text})
    assert outcome.error_type == "ForeignError"


# --- snapshots ----------------------------------------------------------------------------------


def _snapshot_bytes(meta: object, tensors: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("__meta__.npy", _npy(np.frombuffer(json.dumps(meta).encode(), np.uint8)))
        for name, array in tensors.items():
            z.writestr(f"{name}.npy", _npy(array))
    return buf.getvalue()


record = st.fixed_dictionaries(
    {},
    optional={
        "path": st.sampled_from(["x.png"]) | json_values,
        "sha256": json_values,
        "status": st.sampled_from(["ok", "missing", "decode-error"]) | json_values,
        "array": st.sampled_from(["t000000"]) | json_values,
        "notes": json_values,
        "native_warnings": json_values,
        "seconds": json_values,
        "error": json_values,
    },
)
snapshot_meta = st.builds(
    lambda images, pipeline, fmt: {"format": fmt, "images": images, "pipeline": pipeline},
    st.lists(record | json_values, max_size=3) | json_values,
    json_values,
    st.sampled_from(["skewcheck.snapshot/v1"]) | json_values,
)


@FUZZ
@given(meta=snapshot_meta | json_values, array=sample_arrays, cuts=mutations, mutate=st.booleans())
def test_snapshot_reader(meta, array, cuts, mutate):
    from skewcheck.pipelines.snapshot import SnapshotPipeline

    try:
        data = _snapshot_bytes(meta, {"t000000": array})
    except (ValueError, RecursionError):
        return
    path = _write("golden.npz", _mutate(data, cuts) if mutate else data)
    image = _write("x.png", b"img")
    pipe = _value_or_usage(SnapshotPipeline, path)
    if pipe is not None:
        outcome = pipe.run(image)
        assert outcome.status in ("ok", "pipeline-error", "decode-error", "missing")
