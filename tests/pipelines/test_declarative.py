"""Declarative pipelines (FILE.toml#name): spec round trip, each op against the direct library
call, one-line validation errors, and the first divergent step of a declarative pair."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageCms, ImageOps
from typer.testing import CliRunner

import skewcheck
from skewcheck.cli import app
from skewcheck.errors import UsageError
from skewcheck.pipelines import load_pipeline
from skewcheck.pipelines.declarative import DeclarativePipeline, PipelineSpec
from skewcheck.pipelines.declarative.spec import Decode
from skewcheck.presets import PRESETS
from skewcheck.probes import write_probes
from tests.conftest import REPO, jpeg_bytes, photo_like, write_png

UNIT = 0.00392156862745098


@pytest.fixture(scope="module")
def probes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("probes")
    write_probes(
        root,
        kinds=[
            "clean-png",
            "sentinel-resize",
            "sentinel-channel-order",
            "icc-adobe-rgb",
            "rgba",
            "corrupt-jpeg-entropy",
        ],
    )
    return root


@pytest.fixture(scope="module")
def photo(probes: Path) -> Path:
    return probes / "bases" / "chelsea.png"  # 112 × 75 real photo


def spec_file(tmp_path: Path, **pipelines: list[str]) -> Path:
    """Write ``[pipelines.NAME] steps = [...]`` with each step given as an inline TOML table."""
    text = "".join(
        f"[pipelines.{name}]\nsteps = [\n" + "".join(f"  {s},\n" for s in steps) + "]\n"
        for name, steps in pipelines.items()
    )
    path = tmp_path / "spec.toml"
    path.write_text(text)
    return path


def pipeline(tmp_path: Path, *steps: str) -> DeclarativePipeline:
    path = spec_file(tmp_path, p=list(steps))
    p = load_pipeline(f"{path}#p")
    assert isinstance(p, DeclarativePipeline)
    return p


def run(p: DeclarativePipeline, path: Path) -> np.ndarray:
    outcome = p.run(path)
    assert outcome.ok, (outcome.status, outcome.error)
    assert outcome.tensor is not None
    return outcome.tensor


DECODE_PIL = '{ op = "decode", library = "pil" }'

# ---------------------------------------------------------------------------------- round trip

EVERY_OP = [
    '{ op = "decode", library = "opencv", color = "rgb", exif = "ignore", alpha = "white" }',
    '{ op = "center_crop", fraction = 0.9 }',
    '{ op = "resize", size = [40, 56], library = "opencv", method = "area", keep_aspect = true, pad = 0 }',
    '{ op = "center_crop", size = [32, 48] }',
    '{ op = "channel_order", order = [2, 1, 0] }',
    '{ op = "cast", dtype = "float32" }',
    '{ op = "scale", factor = 0.5, offset = 1 }',
    '{ op = "normalize", mean = [0.1, 0.2, 0.3], std = [1, 2, 3] }',
    '{ op = "preset", name = "keras.caffe" }',
    '{ op = "layout", to = "chw" }',
    '{ op = "batch" }',
]


def test_spec_round_trip_gives_an_equal_spec_and_identical_tensors(tmp_path, photo):
    p = pipeline(tmp_path, *EVERY_OP)
    data = p.spec.to_dict()
    again = PipelineSpec.from_dict(json.loads(json.dumps(data)))  # through plain JSON data
    assert again == p.spec
    assert again.to_dict() == data
    a, b = run(p, photo), run(DeclarativePipeline(again, "again"), photo)
    assert a.dtype == b.dtype == np.float32 and a.shape == (3, 32, 48)  # batch axis dropped, as for callables
    np.testing.assert_array_equal(a, b)
    assert "dropped a leading batch axis" in p.run(photo).notes[0]


def test_defaults_are_the_library_s_own_behaviour_and_are_written_out():
    spec = PipelineSpec.from_dict({"name": "x", "steps": [{"op": "decode", "library": "opencv"}]})
    assert spec.to_dict()["steps"][0] == {
        "op": "decode",
        "library": "opencv",
        "channels": 3,
        "color": "bgr",
        "icc": "ignore",
        "exif": "apply",
        "truncated": "allow",
        "alpha": "drop",
    }
    assert spec.steps[0] == Decode("opencv", color="bgr", exif="apply", truncated="allow")
    assert spec.description == "decode(opencv, bgr, exif apply, truncated allow)"


# ---------------------------------------------------------------------------------- decode


def test_decode_each_library_matches_its_direct_call(tmp_path, photo):
    data = photo.read_bytes()
    with Image.open(photo) as im:
        pil = np.asarray(im.convert("RGB"))
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    np.testing.assert_array_equal(run(pipeline(tmp_path, DECODE_PIL), photo), pil)
    np.testing.assert_array_equal(run(pipeline(tmp_path, '{ op = "decode", library = "opencv" }'), photo), bgr)
    np.testing.assert_array_equal(
        run(pipeline(tmp_path, '{ op = "decode", library = "opencv", color = "rgb" }'), photo),
        cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB),
    )
    np.testing.assert_array_equal(
        run(pipeline(tmp_path, '{ op = "decode", library = "pil", color = "bgr" }'), photo), pil[..., ::-1]
    )
    grey = run(pipeline(tmp_path, '{ op = "decode", library = "pil", channels = 1 }'), photo)
    with Image.open(photo) as im:
        np.testing.assert_array_equal(grey[..., 0], np.asarray(im.convert("L")))


@pytest.mark.parametrize("orientation", range(2, 9))
def test_decode_exif_apply_equals_imageops_exif_transpose(tmp_path, orientation):
    """A PNG (lossless, so decoders agree) whose pixels are stored transformed, EXIF tag set."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / f"o{orientation}.png"
    Image.fromarray(photo_like(orientation, 20)[:, :14]).save(path, exif=exif)
    with Image.open(path) as im:
        upright = np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
        stored = np.asarray(im.convert("RGB"))
    assert upright.shape != stored.shape or not np.array_equal(upright, stored)
    for library in ("pil", "tf"):  # Pillow's own call; TensorFlow via the EXIF tag and NumPy
        got = run(pipeline(tmp_path, f'{{ op = "decode", library = "{library}", exif = "apply" }}'), path)
        np.testing.assert_array_equal(got, upright, err_msg=library)
        ignored = run(pipeline(tmp_path, f'{{ op = "decode", library = "{library}", exif = "ignore" }}'), path)
        np.testing.assert_array_equal(ignored, stored, err_msg=library)


def test_decode_icc_to_srgb_equals_imagecms(tmp_path, probes):
    path = next((probes / "icc").glob("*.png"))
    with Image.open(path) as im:
        src = ImageCms.ImageCmsProfile(io.BytesIO(im.info["icc_profile"]))
        expected = np.asarray(ImageCms.profileToProfile(im, src, ImageCms.createProfile("sRGB"), outputMode="RGB"))
        ignored = np.asarray(im.convert("RGB"))
    assert np.abs(expected.astype(int) - ignored).max() > 10  # the profile matters on this probe
    for library in ("pil", "opencv"):
        got = run(
            pipeline(tmp_path, f'{{ op = "decode", library = "{library}", color = "rgb", icc = "to-srgb" }}'), path
        )
        np.testing.assert_array_equal(got, expected, err_msg=library)


def test_decode_alpha_white_equals_pillow_alpha_composite(tmp_path, probes):
    path = next(probes.rglob("*rgba*.png"))
    with Image.open(path) as im:
        rgba = im.convert("RGBA")
        expected = np.asarray(
            Image.alpha_composite(Image.new("RGBA", im.size, (255, 255, 255, 255)), rgba).convert("RGB")
        )
    for library in ("pil", "opencv", "tf"):
        got = run(
            pipeline(tmp_path, f'{{ op = "decode", library = "{library}", color = "rgb", alpha = "white" }}'), path
        )
        assert np.abs(got.astype(int) - expected).max() <= 1, library
    dropped = run(pipeline(tmp_path, DECODE_PIL), path)
    assert np.abs(dropped.astype(int) - expected).max() > 100


def test_decode_failures_are_decode_errors(tmp_path, probes):
    truncated = tmp_path / "cut.jpg"
    truncated.write_bytes(jpeg_bytes(photo_like(1, 64))[:400])
    garbage = tmp_path / "text.jpg"
    garbage.write_text("not an image")
    pil = pipeline(tmp_path, DECODE_PIL, '{ op = "cast", dtype = "float32" }').run(truncated)
    assert pil.status == "decode-error" and "truncated" in pil.error.lower()
    assert pil.notes == ["failed at step 0: decode(pil, rgb)"]
    cv = pipeline(tmp_path, '{ op = "decode", library = "opencv" }').run(garbage)
    assert cv.status == "decode-error" and "cv2.imdecode returned None" in cv.error
    # libjpeg warns "Corrupt JPEG data" and OpenCV returns the image: truncated = "error" refuses it.
    corrupt = next(probes.rglob("*corrupt-jpeg-entropy*.jpg"))
    lenient = pipeline(tmp_path, '{ op = "decode", library = "opencv", truncated = "allow" }').run(corrupt)
    assert lenient.ok and any("Corrupt JPEG data" in w for w in lenient.native_warnings)
    strict = pipeline(tmp_path, '{ op = "decode", library = "opencv", truncated = "error" }').run(corrupt)
    assert strict.status == "decode-error" and "Corrupt JPEG data" in strict.error


# ---------------------------------------------------------------------------------- geometry


@pytest.mark.parametrize(
    ("method", "flag"), [("area", cv2.INTER_AREA), ("bilinear", cv2.INTER_LINEAR), ("lanczos", cv2.INTER_LANCZOS4)]
)
def test_resize_opencv_equals_cv2_resize(tmp_path, photo, method, flag):
    p = pipeline(tmp_path, DECODE_PIL, f'{{ op = "resize", size = [30, 50], library = "opencv", method = "{method}" }}')
    with Image.open(photo) as im:
        rgb = np.asarray(im.convert("RGB"))
    got = run(p, photo)
    assert got.shape == (30, 50, 3)  # size is [height, width]
    np.testing.assert_array_equal(got, cv2.resize(rgb, (50, 30), interpolation=flag))


def test_resize_pil_and_tf_equal_their_direct_calls(tmp_path, photo):
    import tensorflow as tf

    with Image.open(photo) as im:
        rgb = np.asarray(im.convert("RGB"))
        pil = np.asarray(im.convert("RGB").resize((50, 30), resample=Image.Resampling.BICUBIC))
    got = run(
        pipeline(tmp_path, DECODE_PIL, '{ op = "resize", size = [30, 50], library = "pil", method = "bicubic" }'), photo
    )
    np.testing.assert_array_equal(got, pil)
    got = run(
        pipeline(tmp_path, DECODE_PIL, '{ op = "resize", size = [30, 50], library = "tf", antialias = true }'), photo
    )
    expected = tf.image.resize(rgb, (30, 50), method="bilinear", antialias=True).numpy()
    assert got.dtype == np.float32  # tf.image.resize returns float32, and so does the step
    np.testing.assert_array_equal(got, expected)


def test_resize_keep_aspect_letterboxes_and_center_crop_matches_tf(tmp_path, photo):
    import tensorflow as tf

    with Image.open(photo) as im:
        rgb = np.asarray(im.convert("RGB"))  # 75 × 112
    got = run(
        pipeline(
            tmp_path,
            DECODE_PIL,
            '{ op = "resize", size = [64, 64], library = "opencv", method = "area", keep_aspect = true, pad = 7 }',
        ),
        photo,
    )
    inner = cv2.resize(rgb, (64, 43), interpolation=cv2.INTER_AREA)  # 75/112 * 64 = 42.9 rows
    np.testing.assert_array_equal(got[10:53], inner)
    assert (got[:10] == 7).all() and (got[53:] == 7).all()
    crop = run(pipeline(tmp_path, DECODE_PIL, '{ op = "center_crop", fraction = 0.7 }'), photo)
    np.testing.assert_array_equal(crop, tf.image.central_crop(rgb, 0.7).numpy())
    crop = run(pipeline(tmp_path, DECODE_PIL, '{ op = "center_crop", size = [20, 31] }'), photo)
    np.testing.assert_array_equal(crop, rgb[27:47, 40:71])


# ---------------------------------------------------------------------------------- values


@pytest.mark.parametrize("name", ["keras.caffe", "keras.tf", "keras.torch", "torchvision.imagenet"])
def test_preset_equals_keras_preprocess_input(tmp_path, photo, name):
    from keras.applications.imagenet_utils import preprocess_input

    with Image.open(photo) as im:
        rgb = np.asarray(im.convert("RGB"))
    got = run(pipeline(tmp_path, DECODE_PIL, f'{{ op = "preset", name = "{name}" }}'), photo)
    mode = {"torchvision.imagenet": "torch"}.get(name, name.split(".")[1])
    expected = preprocess_input(rgb.astype(np.float32), mode=mode)
    assert got.dtype == expected.dtype == np.float32
    np.testing.assert_allclose(got, expected, atol=2e-5)
    np.testing.assert_allclose(
        got, PRESETS[{"torchvision.imagenet": "keras.torch"}.get(name, name)].apply(rgb), atol=2e-5
    )


def test_value_ops_follow_numpy(tmp_path, photo):
    with Image.open(photo) as im:
        rgb = np.asarray(im.convert("RGB"))
    # uint8 × Python float is float64 in NumPy: the classic dtype skew, kept as user code gets it.
    assert run(pipeline(tmp_path, DECODE_PIL, f'{{ op = "scale", factor = {UNIT} }}'), photo).dtype == np.float64
    got = run(
        pipeline(tmp_path, DECODE_PIL, '{ op = "cast", dtype = "float32" }', f'{{ op = "scale", factor = {UNIT} }}'),
        photo,
    )
    np.testing.assert_array_equal(got, rgb.astype(np.float32) * UNIT)
    got = run(
        pipeline(
            tmp_path,
            DECODE_PIL,
            '{ op = "normalize", mean = [10, 20, 30], std = [2] }',
            '{ op = "channel_order" }',
            '{ op = "layout", to = "chw" }',
        ),
        photo,
    )
    expected = np.transpose(((rgb.astype(np.float32) - [10, 20, 30]) / 2)[..., ::-1], (2, 0, 1))
    assert got.shape == (3, 75, 112) and got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_run_steps_gives_each_step_and_stops_at_an_error(tmp_path, photo):
    p = pipeline(
        tmp_path, DECODE_PIL, '{ op = "center_crop", size = [500, 500] }', '{ op = "cast", dtype = "float32" }'
    )
    steps = p.run_steps(photo)
    assert [s.description for s in steps] == ["decode(pil, rgb)", "center_crop(500x500)"]
    assert steps[0].tensor.shape == (75, 112, 3) and steps[1].tensor is None
    assert "larger than the 75x112 image" in steps[1].error
    outcome = p.run(photo)
    assert outcome.status == "pipeline-error" and outcome.notes == ["failed at step 1: center_crop(500x500)"]


# ---------------------------------------------------------------------------------- validation

BAD = [
    ('{ op = "blur" }', "step 1 (blur): unknown op 'blur'"),
    (
        '{ op = "resize", size = [8, 8], library = "skimage" }',
        "step 1 (resize): library = 'skimage' is not one of pil, opencv, tf",
    ),
    ('{ op = "resize", size = [8, 8], library = "pil", method = "gaussian" }', "step 1 (resize): method = 'gaussian'"),
    ('{ op = "resize", size = 224, library = "pil" }', "step 1 (resize): size must be [height, width]"),
    ('{ op = "resize", size = [0, 8], library = "pil" }', "step 1 (resize): size must be [height, width]"),
    ('{ op = "resize", sise = [8, 8], library = "pil" }', "step 1 (resize): missing 'size'"),
    ('{ op = "resize", size = [8, 8], library = "pil", antialias = false }', "Pillow always antialiases"),
    ('{ op = "resize", size = [8, 8], library = "tf", method = "area", pad_value = 1 }', "unknown key 'pad_value'"),
    ('{ op = "preset", name = "keras.inception" }', "step 1 (preset): name = 'keras.inception'"),
    ('{ op = "batch" }, { op = "cast", dtype = "float32" }', "step 1 (batch): batch must be the last step"),
    (
        '{ op = "layout", to = "chw" }, { op = "normalize", mean = [0], std = [1] }',
        "step 2 (normalize): normalize works on HWC",
    ),
    ('{ op = "decode", library = "tf" }', "step 1 (decode): decode may only be the first step"),
    ('{ op = "normalize", mean = [0, 0], std = [1] }', "step 1 (normalize): mean needs 1 or 3 values"),
]


@pytest.mark.parametrize(("step", "message"), BAD, ids=[m.split(":")[-1][:30] for _, m in BAD])
def test_validation_errors_are_one_line_naming_file_pipeline_and_step(tmp_path, step, message):
    path = spec_file(tmp_path, serve=[DECODE_PIL, step])
    with pytest.raises(UsageError) as err:
        load_pipeline(f"{path}#serve", what="--serve")
    text = str(err.value)
    assert "\n" not in text
    assert text.startswith(f"--serve {path}#serve: step ")
    assert message in text


def test_reference_errors(tmp_path):
    path = spec_file(tmp_path, train=[DECODE_PIL], serve=[DECODE_PIL])
    cases = {
        str(tmp_path / "nope.toml#train"): "TOML file not found",
        str(path): "name the pipeline as",
        f"{path}#": "name the pipeline as",
        f"{path}#deploy": "has no pipeline 'deploy' (it defines: serve, train)",
    }
    for ref, message in cases.items():
        with pytest.raises(UsageError, match=re.escape(message)):
            load_pipeline(ref, what="--train")
    broken = tmp_path / "broken.toml"
    broken.write_text("[pipelines.a\nsteps = [")
    with pytest.raises(UsageError, match="is not valid TOML"):
        load_pipeline(f"{broken}#a")
    no_decode = spec_file(tmp_path, a=['{ op = "cast", dtype = "float32" }'])
    with pytest.raises(UsageError, match=r"#a: step 0 \(cast\): the first step must be"):
        load_pipeline(f"{no_decode}#a")


# ---------------------------------------------------------------------------------- divergence

TAIL = ['{ op = "cast", dtype = "float32" }', f'{{ op = "scale", factor = {UNIT} }}']


def resize_step(library: str, method: str) -> str:
    return f'{{ op = "resize", size = [64, 64], library = "{library}", method = "{method}" }}'


def test_pair_differing_only_in_resize_diverges_at_the_resize_step(tmp_path, probes):
    path = spec_file(
        tmp_path,
        train=[DECODE_PIL, resize_step("pil", "bilinear"), *TAIL],
        serve=[DECODE_PIL, resize_step("opencv", "nearest"), *TAIL],
    )
    report = skewcheck.compare(train=f"{path}#train", serve=f"{path}#serve", images=probes)
    d = report.to_dict()["divergence"]
    assert d["step"] == 1 and d["serve_index"] == 1
    assert d["train_step"] == "resize(pil, bilinear, 64x64)" and d["serve_step"] == "resize(opencv, nearest, 64x64)"
    assert d["metric"]["max_abs_diff"] > 10 and d["metric"]["mean_abs_diff"] > 1
    assert d["images"] == d["sampled"] == 8 and d["op_lists"] is None
    (resize,) = [f for f in report.findings if f.kind == "resize"]
    assert resize.severity.label == "minor" and report.exit_code == 0  # no model, no gross image: no damage


def test_pair_differing_in_channel_order_at_decode_diverges_at_step_0(tmp_path, probes):
    path = spec_file(
        tmp_path, train=[DECODE_PIL, *TAIL], serve=['{ op = "decode", library = "opencv", exif = "ignore" }', *TAIL]
    )
    report = skewcheck.compare(train=f"{path}#train", serve=f"{path}#serve", images=probes)
    d = report.to_dict()["divergence"]
    assert d["step"] == 0 and d["serve_step"] == "decode(opencv, bgr, truncated allow)"
    assert d["metric"]["max_abs_diff"] > 100
    assert report.findings[0].kind == "channel-order"


def test_op_list_difference_is_aligned_and_reported(tmp_path, probes):
    """serve skips the cast: scale aligns with scale, and the float64 result shows as a dtype divergence."""
    path = spec_file(tmp_path, train=[DECODE_PIL, *TAIL], serve=[DECODE_PIL, TAIL[1]])
    report = skewcheck.compare(train=f"{path}#train", serve=f"{path}#serve", images=probes / "bases")
    d = report.to_dict()["divergence"]
    assert d["op_lists"] == {"train_index": 1, "serve_index": 1, "train_steps": ["cast(float32)"], "serve_steps": []}
    assert (d["step"], d["serve_index"]) == (2, 1)
    assert d["metric"]["dtype"] == {"train": "float32", "serve": "float64"}
    assert d["metric"]["max_abs_diff"] < 1e-6  # the values agree to float32 precision
    assert "dtype" in {f.kind for f in report.findings}


def test_cli_identical_specs_pass_and_a_skewed_pair_names_the_step(tmp_path, image_dir):
    path = spec_file(
        tmp_path, a=[DECODE_PIL, *TAIL], b=[DECODE_PIL, *TAIL], c=[DECODE_PIL, '{ op = "channel_order" }', *TAIL]
    )
    runner = CliRunner()
    same = runner.invoke(
        app,
        [
            "compare",
            "--train",
            f"{path}#a",
            "--serve",
            f"{path}#b",
            "--model",
            "none",
            "--images",
            str(image_dir),
            "--report",
            str(tmp_path / "r.json"),
        ],
    )
    assert same.exit_code == 0, same.output
    assert json.loads((tmp_path / "r.json").read_text())["divergence"]["step"] is None
    assert "First divergent step" not in same.output
    skewed = runner.invoke(
        app, ["compare", "--train", f"{path}#a", "--serve", f"{path}#c", "--model", "none", "--images", str(image_dir)]
    )
    assert skewed.exit_code == 1, skewed.output
    assert "First divergent step: #1 cast(float32) vs serve #2 cast(float32)" in " ".join(skewed.output.split())
    assert "Op lists differ at train #1 / serve #1" in " ".join(skewed.output.split())
    quiet = runner.invoke(
        app,
        [
            "compare",
            "--train",
            f"{path}#a",
            "--serve",
            f"{path}#c",
            "--model",
            "none",
            "--images",
            str(image_dir),
            "--quiet",
        ],
    )
    assert quiet.exit_code == 1 and quiet.output == ""
    bad = runner.invoke(
        app, ["compare", "--train", f"{path}#a", "--serve", f"{path}#zz", "--model", "none", "--images", str(image_dir)]
    )
    assert bad.exit_code == 2 and "has no pipeline 'zz'" in bad.output


def test_example_spec_loads(tmp_path):
    ref = REPO / "docs" / "examples" / "pipelines.toml"
    train, serve = load_pipeline(f"{ref}#train"), load_pipeline(f"{ref}#serve")
    assert (
        train.description
        == "declarative: decode(tf, rgb) → resize(tf, bilinear, 224x224) → cast(float32) → scale(×0.00392157)"
    )
    assert serve.description.startswith(
        "declarative: decode(opencv, bgr, exif apply, truncated allow) → resize(opencv, area, 224x224)"
    )
    path = write_png(tmp_path / "x.png", photo_like(3, 40))
    assert run(train, path).shape == run(serve, path).shape == (224, 224, 3)
