"""The container image's CI step (.ci/container) and what it relies on in the Dockerfile.

The step itself needs root, apt-get, buildah and podman and runs in `.ci/run` after the tests;
these checks need none of them."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.conftest import REPO

SCRIPT = REPO / ".ci" / "container"
DOCKERFILE = REPO / "Dockerfile"


def test_ci_builds_and_runs_the_image_after_the_tests() -> None:
    lines = [line.strip() for line in (REPO / ".ci" / "run").read_text().splitlines()]
    assert "bash .ci/container" in lines
    assert lines.index("bash .ci/container") > lines.index("pytest")


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_container_script_parses() -> None:
    done = subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_container_script_checks_every_pinned_decoder() -> None:
    # The step compares each ARG *_VERSION of the Dockerfile with the version inside the image:
    # a new pin the script does not know would go unchecked.
    pinned = set(re.findall(r"^ARG (\w+)_VERSION=", DOCKERFILE.read_text(), flags=re.MULTILINE))
    script = SCRIPT.read_text()
    (alternatives,) = re.findall(r"\^ARG \(([A-Z|]+)\)_VERSION", script)
    assert set(alternatives.split("|")) == pinned
    for name in pinned:
        assert f'"{name}": ' in script, f"{name} has no distribution name in .ci/container"


def test_dockerfile_installs_into_a_venv_from_python3() -> None:
    # Debian's python3 (the base CI builds) has no `python` and its pip refuses the system
    # site-packages (PEP 668): the venv, made with python3, is what lets both bases build.
    text = DOCKERFILE.read_text()
    venv = text.index("RUN python3 -m venv /opt/venv")
    assert text.index("ENV PATH=/opt/venv/bin:$PATH") > venv
    assert text.index("python -m pip install") > text.index("ENV PATH=/opt/venv/bin:$PATH")


def test_build_context_leaves_out_the_ci_venv() -> None:
    # .ci/run makes .venv in the checkout before the image is built: gigabytes of context.
    assert ".venv" in (REPO / ".dockerignore").read_text().split()
