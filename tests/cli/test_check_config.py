"""`skewcheck check-config`, the pre-commit hook's command: the configuration, its profiles and
every reference in it resolve, without importing user code or loading a model."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from skewcheck.cli import app
from tests.conftest import REPO

SPECS = REPO / "docs" / "examples" / "pipelines.toml"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "specs.toml").write_text(SPECS.read_text())
    # a module that must never be imported by the check: importing it would exit
    (tmp_path / "serving.py").write_text("import sys\nsys.exit(7)\n\n\ndef load_image(data):\n    return data\n")
    (tmp_path / "model.keras").write_bytes(b"not read")
    (tmp_path / "skewcheck.toml").write_text(
        'model = "model.keras"\ntrain = "specs.toml#train"\nserve = "serving.py:load_image"\n'
        '[profiles.spec]\nserve = "specs.toml#serve"\n'
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _check(*args: str):
    return CliRunner().invoke(app, ["check-config", *args])


def test_a_sound_configuration_passes_without_running_user_code(project: Path) -> None:
    result = _check()
    assert result.exit_code == 0, result.output
    assert f"ok: {project}/skewcheck.toml: serve = {project}/serving.py:load_image" in result.output
    assert f"ok: {project}/skewcheck.toml profile 'spec': serve = {project}/specs.toml#serve" in result.output


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (('serve = "serving.py:load_image"', 'serve = "serving.py:load_imagee"'), "defines no top-level 'load_imagee'"),
        (('train = "specs.toml#train"', 'train = "specs.toml#trian"'), "has no pipeline 'trian'"),
        (('model = "model.keras"', 'model = "models/m.keras"'), "model: not found:"),
        (('serve = "specs.toml#serve"', 'serve = "nosuch.module:fn"'), "cannot find module 'nosuch.module'"),
        (('serve = "specs.toml#serve"', 'serve = "skewcheck.example.pipelines:nope"'), "defines no top-level 'nope'"),
        (("[profiles.spec]", "[profiles.spec]\nfail-on = 3"), "'fail-on' must be a non-empty string"),
    ],
)
def test_a_broken_reference_is_one_line_each_and_exit_2(project: Path, edit: tuple[str, str], message: str) -> None:
    config = project / "skewcheck.toml"
    config.write_text(config.read_text().replace(*edit))
    result = _check("--quiet")
    assert result.exit_code == 2
    assert result.output.startswith("skewcheck: error: ") and message in result.output
    assert "Traceback" not in result.output


def test_a_broken_step_in_a_spec_file_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    spec = tmp_path / "p.toml"
    spec.write_text(SPECS.read_text().replace('method = "area"', 'method = "aera"'))
    result = _check(str(spec))
    assert result.exit_code == 2
    assert "#serve" in result.output and "aera" in result.output
    assert _check(str(SPECS)).exit_code == 0  # the documented example, with no configuration around


def test_the_pre_commit_hooks_run_this_command() -> None:
    hooks = {h["id"]: h for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    assert hooks["skewcheck-check-config"]["entry"].startswith("skewcheck check-config")
    assert hooks["skewcheck-check-config"]["pass_filenames"] is False
    assert hooks["skewcheck-check-specs"]["entry"].startswith("skewcheck check-config")
    assert all(h["language"] == "python" for h in hooks.values())


def test_options_that_cannot_go_together_fail_as_compare_would(project: Path) -> None:
    # each value is valid alone; together they break a rule compare checks when it builds its configuration
    (project / "skewcheck.toml").write_text(
        'model = "model.keras"\ntrain = "specs.toml#train"\nserve = "specs.toml#serve"\nworkers = 0\ntimeout = 5\n'
        '[profiles.ray]\nworkers = 2\nray_address = "auto"\n'
    )
    result = _check()
    assert result.exit_code == 2, result.output
    assert "skewcheck.toml: the options together: --timeout needs --workers 1 or more" in result.output
    assert "profile 'ray': the options together: --ray-address needs --engine ray" in result.output


def test_a_file_that_leaves_the_pipelines_to_the_command_line_is_checked_on_its_own_options(project: Path) -> None:
    (project / "skewcheck.toml").write_text('model = "model.keras"\nworkers = 2\n')
    result = _check()
    assert result.exit_code == 0, result.output
    assert f"ok: {project}/skewcheck.toml: the options together" in result.output
