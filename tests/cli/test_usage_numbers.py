"""Issue 24 item 11: odd flag values are usage errors (one line, exit 2), never "internal error".

Non-finite numbers (``inf``, ``nan``, ``1e400``), an endpoint URL urllib cannot split, a CA bundle
that is missing or not PEM. The endpoint checks come before any request or model load, so the
URLs point nowhere and the model file need not exist.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from skewcheck.cli import app

PIPELINE = "tests/hostile_pipelines.py:pil"
ENDPOINT = "http://127.0.0.1:9/v1/models/m:predict"

pytestmark = pytest.mark.usefixtures("run_from_repo")


def _compare(images: Path, *extra: str, serve: str = PIPELINE) -> tuple[int, list[str]]:
    result = CliRunner().invoke(
        app, ["compare", "--train", PIPELINE, "--serve", serve, "--images", str(images), "--quiet", *extra]
    )
    return result.exit_code, result.output.splitlines()


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--sample", "inf"], "--sample must be a finite number"),
        (["--sample", "1e400"], "--sample must be a finite number"),
        (["--sample", "inf%"], "--sample must be a finite number"),
        (["--timeout", "inf"], "--timeout must be a positive, finite number of seconds, got inf"),
        (["--timeout", "nan"], "--timeout must be a positive, finite number of seconds, got nan"),
        (["--workers", "1", "--timeout", "nan"], "--timeout must be a positive, finite number of seconds"),
        (["--atol", "nan"], "--atol must be a finite number of 0 or more, got nan"),
        (["--rtol", "nan"], "--rtol must be a finite number of 0 or more, got nan"),
        (["--atol", "inf"], "--atol must be a finite number of 0 or more, got inf"),
        (["--rtol", "-1e-3"], "--rtol must be a finite number of 0 or more, got -0.001"),
        (["--workers", "100000"], "--workers 100000 is more processes than this machine can run: at most"),
    ],
)
def test_non_finite_numbers_are_usage_errors(image_dir, flags, message):
    code, lines = _compare(image_dir, *flags)
    assert code == 2
    assert len(lines) == 1 and lines[0].startswith("skewcheck: error: ") and message in lines[0], lines


@pytest.mark.parametrize(
    ("serve", "flags", "message"),
    [
        (ENDPOINT, ["--endpoint-timeout", "nan"], "--endpoint-timeout must be a positive, finite number"),
        (ENDPOINT, ["--endpoint-timeout", "inf"], "--endpoint-timeout must be a positive, finite number"),
        ("http://127.0.0.1:99999/v1/models/m:predict", [], "not a valid endpoint URL: Port out of range"),
        ("http://[::1/v1/models/m:predict", [], "not a valid endpoint URL: Invalid IPv6 URL"),
        (ENDPOINT, ["--endpoint-ca", "/nonexistent/ca.pem"], "not a readable CA bundle ([Errno 2]"),
    ],
)
def test_malformed_endpoint_options_are_usage_errors(image_dir, serve, flags, message):
    code, lines = _compare(image_dir, "--model", "deployed.keras", *flags, serve=serve)
    assert code == 2
    assert len(lines) == 1 and lines[0].startswith("skewcheck: error: ") and message in lines[0], lines


def test_a_ca_bundle_that_is_not_pem_is_a_usage_error(image_dir, tmp_path):
    garbage = tmp_path / "ca.pem"
    garbage.write_text("this is not a certificate\n")
    code, lines = _compare(
        image_dir, "--model", "deployed.keras", "--endpoint-ca", str(garbage), serve=ENDPOINT.replace("http", "https")
    )
    assert code == 2
    assert lines == [f"skewcheck: error: --endpoint-ca {garbage}: not a readable CA bundle ({_no_certificate()})"]


def _no_certificate() -> str:
    """What this Python's ssl says about a file holding no certificate (its wording varies by OpenSSL)."""
    import ssl

    try:
        ssl.create_default_context(cafile=__file__)
    except ssl.SSLError as exc:
        return str(exc)
    raise AssertionError("a Python file loaded as a CA bundle")
