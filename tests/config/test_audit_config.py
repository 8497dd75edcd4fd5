"""One frozen, validated configuration (skewcheck/config/audit_config.py): built once from the
command line or the API's keywords, checked when it is built, shown in panels by `compare --help`."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

import skewcheck
from skewcheck.cli import app
from skewcheck.config import audit_rules
from skewcheck.config.audit_config import AuditConfig
from skewcheck.config.audit_rules import KEYWORDS
from skewcheck.config.options import PANELS
from skewcheck.errors import UsageError
from skewcheck.no_model import is_no_model
from tests.conftest import photo_like, write_png

REF = "tests/pipelines_for_tests.py:"
# the command's parameters that are not skewcheck.compare keywords, by panel
COMMAND_ONLY = {
    "report": "reports",
    "report_format": "reports",
    "endpoint_ca": "endpoint",
    "endpoint_insecure": "endpoint",
    "output": "model",
    "endpoint_header": "endpoint",
    "example": "run",
    "quiet": "run",
    "verbose": "run",
    "config": "run",
    "profile": "run",
}


def test_compare_help_shows_every_group_as_a_panel_in_order() -> None:
    result = CliRunner().invoke(app, ["compare", "--help"], terminal_width=120)
    assert result.exit_code == 0, result.output
    headings = [
        line[:-1] for line in result.output.splitlines() if line and not line[0].isspace() and line.endswith(":")
    ]
    assert headings == [*PANELS.values(), "Options"]  # --help alone has no panel


def test_each_option_sits_in_the_panel_of_its_group() -> None:
    command = typer.main.get_command(app).commands["compare"]  # type: ignore[attr-defined]
    for param in command.params:
        group = COMMAND_ONLY.get(param.name) or KEYWORDS[param.name][0]  # type: ignore[index]
        assert param.rich_help_panel == PANELS[group], param.name  # type: ignore[attr-defined]


def test_the_config_is_frozen() -> None:
    config = AuditConfig.from_keywords(train=REF + "pil_unit", serve=REF + "pil_unit", fail_on="minor")
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.gate.fail_on = "never"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.gate = config.gate  # type: ignore[misc]
    assert config.gate.fail_on == "minor" and config.model.none and config.execution.workers == "auto"


@pytest.mark.parametrize(
    ("keywords", "message"),
    [
        ({"fail_on": "big"}, "--fail-on must be one of"),
        ({"batch_size": 0}, "--batch-size must be at least 1"),
        ({"atol": float("nan")}, "--atol must be a finite number of 0 or more"),
        ({"workers": "lots"}, "--workers must be 'auto' or a number of processes"),
        ({"timeout": 5.0, "workers": 0}, "--timeout needs --workers 1 or more"),
        ({"postprocess": "yolov8", "task": "detection"}, "--postprocess reads the model's outputs: it needs --model"),
        ({"outputs": ["0=dense"]}, "--output names the model's outputs: it needs --model"),
        ({"engine": "spark"}, "--engine must be local or ray"),
        ({"ray_address": "auto"}, "--ray-address needs --engine ray"),
        ({"fail_on_traffic_share": 0.1}, "--fail-on-traffic-share needs --traffic"),
    ],
)
def test_usage_errors_are_raised_when_the_config_is_built(keywords: dict, message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(")):
        AuditConfig.from_keywords(train=REF + "pil_unit", serve=REF + "pil_unit", **keywords)


def test_an_endpoint_serve_needs_a_model_and_is_parsed_once() -> None:
    url = "http://127.0.0.1:9/v1/models/m:predict"
    with pytest.raises(UsageError, match="--serve is an endpoint, which yields predictions"):
        AuditConfig.from_keywords(train=REF + "pil_unit", serve=url, workers=0)
    config = AuditConfig.from_keywords(train=REF + "pil_unit", serve=url, model="m.keras", workers=0)
    assert config.served is not None and config.served.model == "m"


@pytest.mark.parametrize("model", [None, "none", " None ", Path("none")])
def test_no_model_is_said_in_one_place(model: object) -> None:
    assert is_no_model(model)
    assert not is_no_model("model.keras") and not is_no_model(object())


def test_unknown_keywords_are_a_type_error() -> None:
    with pytest.raises(TypeError, match="fail_onn"):
        AuditConfig.from_keywords(train="a.py:f", serve="a.py:f", fail_onn="minor")


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[AuditConfig]:
    built: list[AuditConfig] = []
    check = audit_rules.check_rules

    def counting(config: AuditConfig):
        built.append(config)
        return check(config)

    monkeypatch.setattr(audit_rules, "check_rules", counting)
    return built


@pytest.fixture
def four_images(tmp_path: Path) -> Path:
    for i in range(4):
        write_png(tmp_path / "imgs" / f"{i}.png", photo_like(i, 16))
    return tmp_path / "imgs"


@pytest.mark.usefixtures("run_from_repo")
def test_the_api_and_the_command_build_the_config_once(counted: list, four_images: Path) -> None:
    report = skewcheck.compare(train=REF + "pil_unit", serve=REF + "pil_unit_again", images=four_images, workers=0)
    assert report.exit_code == 0 and len(counted) == 1
    args = ["compare", "--train", REF + "pil_unit", "--serve", REF + "pil_unit_again", "--images", str(four_images)]
    result = CliRunner().invoke(app, [*args, "--workers", "0", "-q"])
    assert result.exit_code == 0, result.output
    assert len(counted) == 2 and counted[1].execution.workers == 0 and counted[1].model.none
