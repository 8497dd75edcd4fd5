"""Configuration files ([tool.skewcheck] / skewcheck.toml): discovery, precedence of flags over
profiles over the file, relative paths, and one-line exit-2 errors naming the key and the file."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from skewcheck.cli import app
from skewcheck.config import OPTIONS, find_config, load_config
from skewcheck.config.schema import render
from tests.conftest import REPO, photo_like, write_png

PIPELINES = REPO / "tests" / "pipelines_for_tests.py"
SCHEMA = REPO / "skewcheck" / "config" / "config.schema.json"
EXAMPLE_CONFIG = REPO / "docs" / "examples" / "skewcheck.toml"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project whose serving pipeline forgets /255, four images, and a skewcheck.toml that
    names them by relative paths; the working directory is a subfolder of it."""
    for i in range(4):
        write_png(tmp_path / "imgs" / f"img{i}.png", photo_like(i))
    (tmp_path / "pipes.py").write_text(PIPELINES.read_text())
    (tmp_path / "skewcheck.toml").write_text(
        'train = "pipes.py:pil_unit"\n'
        'serve = "pipes.py:pil_raw"\n'
        'images = "imgs"\n'
        'fail-on = "never"\n'
        'report = ["out/r.json"]\n'
        "quiet = true\n"
        "[profiles.strict]\n"
        'fail_on = "major"\n'
        'report = "out/strict.json"\n'
    )
    (tmp_path / "src").mkdir()
    monkeypatch.chdir(tmp_path / "src")
    return tmp_path


def _compare(*args: str):
    return CliRunner().invoke(app, ["compare", *args])


def test_the_file_sets_the_options_and_its_relative_paths_read_against_its_folder(project: Path) -> None:
    result = _compare()
    assert result.exit_code == 0, result.output  # fail-on never, from the file
    report = json.loads((project / "out" / "r.json").read_text())
    assert report["gate"] == "never"
    assert report["summary"]["images"] == 4
    assert report["pipelines"]["serve"]["ref"] == f"{project}/pipes.py:pil_raw"
    assert [f["kind"] for f in report["findings"]][:1] == ["scale"]


def test_a_profile_overrides_the_file_and_a_flag_overrides_both(project: Path) -> None:
    strict = _compare("--profile", "strict")
    assert strict.exit_code == 1, strict.output  # the profile's gate
    assert json.loads((project / "out" / "strict.json").read_text())["gate"] == "major"
    assert not (project / "out" / "r.json").exists()  # the profile's report replaced the file's list

    flagged = _compare("--profile", "strict", "--fail-on", "never", "--report", "mine.json")
    assert flagged.exit_code == 0, flagged.output
    assert json.loads((project / "src" / "mine.json").read_text())["gate"] == "never"  # a flag's path: from cwd


def test_a_flag_equal_to_the_default_still_overrides_the_file(project: Path) -> None:
    (project / "skewcheck.toml").write_text(
        (project / "skewcheck.toml").read_text().replace('fail-on = "never"', 'fail-on = "minor"')
    )
    assert _compare("--fail-on", "major", "--report", "x.json").exit_code == 1
    assert json.loads((project / "src" / "x.json").read_text())["gate"] == "major"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('fail_onn = "major"', "unknown key 'fail_onn' (did you mean 'fail_on'?)"),
        ('fail-on = "sometimes"', "'fail-on' must be one of critical, major, minor, never, got str 'sometimes'"),
        ("batch-size = 0", "'batch-size' must be at least 1, got 0"),
        ('max_flip_rate = "1%"', "'max_flip_rate' must be a number, got str '1%'"),
        ("quiet = 1", "'quiet' must be true or false, got int 1"),
        ("report = [1]", "'report' must be a string or a list of strings, got list [1]"),
        ('fail_on = "major"\nfail-on = "minor"', "'fail-on' and 'fail_on' set the same option"),
        ("[profiles.ci]\nwokers = 2", "profile 'ci': unknown key 'wokers' (did you mean 'workers'?)"),
    ],
)
def test_a_bad_key_or_value_is_one_line_exit_2_naming_key_and_file(tmp_path: Path, line: str, message: str) -> None:
    config = tmp_path / "skewcheck.toml"
    config.write_text('train = "a.py:f"\n' + line + "\n")
    result = _compare("--config", str(config), *(["--profile", "ci"] if "profiles.ci" in line else []))
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "Traceback" not in result.output
    assert result.output.startswith(f"skewcheck: error: {config}")
    assert message in result.output


def test_pyproject_table_found_upwards_and_skewcheck_toml_first(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n[tool.skewcheck]\nfail-on = "minor"\n')
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    (tmp_path / "a" / "pyproject.toml").write_text('[project]\nname = "no-table"\n')  # skipped: no [tool.skewcheck]
    assert find_config(deep) == tmp_path / "pyproject.toml"
    config = load_config(cwd=deep)
    assert config is not None and dict(config.values) == {"fail_on": "minor"}
    (tmp_path / "a" / "skewcheck.toml").write_text('fail-on = "critical"\n')
    assert find_config(deep) == tmp_path / "a" / "skewcheck.toml"


def test_paths_and_references_are_resolved_against_the_file(tmp_path: Path) -> None:
    (tmp_path / "skewcheck.toml").write_text(
        'model = "models/m.keras"\ntrain = "train/input.py:pre"\nserve = "specs/p.toml#serve"\n'
        'labels = "data/labels.csv"\nimages = "s3://bucket/prefix"\nclass_names = "/abs/names.txt"\n'
        'postprocess = "mypkg.post:boxes"\n[profiles.golden]\ntrain = "golden.npz"\nserve = "tensors:dumps"\n'
    )
    values = load_config(cwd=tmp_path).values  # type: ignore[union-attr]
    assert values["model"] == f"{tmp_path}/models/m.keras"
    assert values["train"] == f"{tmp_path}/train/input.py:pre"
    assert values["serve"] == f"{tmp_path}/specs/p.toml#serve"
    assert values["labels"] == f"{tmp_path}/data/labels.csv"
    assert values["images"] == "s3://bucket/prefix"
    assert values["class_names"] == Path("/abs/names.txt")
    assert values["postprocess"] == "mypkg.post:boxes"  # an import path stays one
    golden = load_config(cwd=tmp_path, profile="golden").values  # type: ignore[union-attr]
    assert golden["train"] == f"{tmp_path}/golden.npz" and golden["serve"] == f"tensors:{tmp_path}/dumps"


def test_profile_without_a_file_and_missing_config_are_usage_errors(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = _compare("--profile", "mobile", "--train", "a.py:f", "--serve", "a.py:f")
    assert result.exit_code == 2 and "--profile mobile: no skewcheck.toml" in result.output
    result = _compare("--config", str(tmp_path / "nope.toml"))
    assert (
        result.exit_code == 2
        and result.output == f"skewcheck: error: configuration file not found: {tmp_path}/nope.toml\n"
    )


def test_the_options_are_exactly_the_compare_flags() -> None:
    import typer.main

    command = typer.main.get_command(app).commands["compare"]  # type: ignore[attr-defined]
    flags = {next(o for o in p.opts if o.startswith("--")) for p in command.params}
    assert {o.flag for o in OPTIONS} == flags - {"--config", "--profile"}
    params = {p.name for p in command.params}
    assert {o.param for o in OPTIONS} == params - {"config", "profile"}


def test_the_published_schema_is_current_and_validates_the_example() -> None:
    assert SCHEMA.read_text() == render(), (
        "run: python -m skewcheck.config.schema > skewcheck/config/config.schema.json"
    )
    from skewcheck.config.loader import tomllib

    schema = json.loads(SCHEMA.read_text())
    example = tomllib.loads(EXAMPLE_CONFIG.read_text())
    jsonschema.Draft202012Validator(schema).validate(example)
    assert load_config(path=EXAMPLE_CONFIG, profile="nightly").values["sample"] == "1%"  # type: ignore[union-attr]
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors({**example, "fail_onn": "x"}))
    assert errors and "fail_onn" in errors[0].message
