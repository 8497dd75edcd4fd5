"""The GitHub Action's audit step (action.yml runs ``python -m skewcheck.ci.github_action``).

It reads the action's inputs from ``SKEWCHECK_*`` environment variables (action.yml maps each
input to one), runs ``skewcheck compare`` with JSON and Markdown reports (and SARIF when asked)
in the report folder, appends the Markdown report to ``$GITHUB_STEP_SUMMARY``, writes the step's
outputs (``verdict``, ``exit-code``, the reports' absolute paths) to ``$GITHUB_OUTPUT``, and exits with the
audit's exit code: the gate fails the job (``1``), and so do usage errors (``2``) and an audit
that could not run (``3``). With ``SKEWCHECK_FAIL_ON_SKEW=false`` a failed gate (``1``) is
reported but does not fail the step.

Run it anywhere with the variables GitHub sets::

    GITHUB_STEP_SUMMARY=summary.md GITHUB_OUTPUT=out.txt SKEWCHECK_EXAMPLE=true python -m skewcheck.ci.github_action
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import uuid
from collections.abc import Mapping
from pathlib import Path

# action input → (environment variable, compare flag); an empty value leaves the flag out
FLAG_INPUTS = {
    "config": ("SKEWCHECK_CONFIG", "--config"),
    "profile": ("SKEWCHECK_PROFILE", "--profile"),
    "model": ("SKEWCHECK_MODEL", "--model"),
    "train": ("SKEWCHECK_TRAIN", "--train"),
    "serve": ("SKEWCHECK_SERVE", "--serve"),
    "images": ("SKEWCHECK_IMAGES", "--images"),
    "labels": ("SKEWCHECK_LABELS", "--labels"),
    "fail-on": ("SKEWCHECK_FAIL_ON", "--fail-on"),
    "max-flip-rate": ("SKEWCHECK_MAX_FLIP_RATE", "--max-flip-rate"),
}
OTHER_INPUTS = {
    "example": "SKEWCHECK_EXAMPLE",  # true: the bundled example
    "args": "SKEWCHECK_ARGS",  # any other compare flags, split like a shell line
    "report-dir": "SKEWCHECK_REPORT_DIR",
    "sarif": "SKEWCHECK_SARIF",  # true: also write skewcheck.sarif
    "fail-on-skew": "SKEWCHECK_FAIL_ON_SKEW",  # false: a failed gate does not fail the step
}
REPORTS = ("json", "markdown", "sarif")  # each has a ``<format>-report`` output
VERDICTS = {0: "pass", 1: "fail", 2: "usage-error", 3: "error"}


def _true(value: str | None, default: bool = False) -> bool:
    if value is None or not value.strip():
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def compare_args(env: Mapping[str, str], reports: dict[str, Path]) -> list[str]:
    """The ``skewcheck compare`` arguments the inputs ask for."""
    args = ["compare"]
    if _true(env.get("SKEWCHECK_EXAMPLE")):
        args.append("--example")
    for variable, flag in FLAG_INPUTS.values():
        value = env.get(variable, "").strip()
        if value:
            args += [flag, value]
    args += shlex.split(env.get("SKEWCHECK_ARGS", ""))
    for path in reports.values():
        args += ["--report", str(path)]
    return args


def report_paths(env: Mapping[str, str]) -> dict[str, Path]:
    folder = Path(env.get("SKEWCHECK_REPORT_DIR", "").strip() or "skewcheck-reports")
    paths = {"json": folder / "skewcheck.json", "markdown": folder / "skewcheck.md"}
    if _true(env.get("SKEWCHECK_SARIF")):
        paths["sarif"] = folder / "skewcheck.sarif"
    return paths


def _append(path: str | None, text: str) -> None:
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(text)


def _output(name: str, value: str) -> str:
    """One ``$GITHUB_OUTPUT`` entry, in the delimiter form that holds any value."""
    delimiter = f"skewcheck_{uuid.uuid4().hex}"
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


def run(env: Mapping[str, str]) -> int:
    """The step: audit, summary, outputs. Returns the step's exit code."""
    reports = report_paths(env)
    reports["json"].parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "skewcheck.cli", *compare_args(env, reports)]
    print("$ skewcheck " + shlex.join(command[3:]), flush=True)
    done = subprocess.run(command, env={**os.environ, **env}, stderr=subprocess.PIPE, text=True, check=False)
    sys.stderr.write(done.stderr)
    code = done.returncode
    written = {fmt: path for fmt, path in reports.items() if path.is_file()}
    verdict = VERDICTS.get(code, "error")
    if "json" in written:
        verdict = json.loads(written["json"].read_text(encoding="utf-8")).get("verdict", verdict)
    if "markdown" in written:
        _append(env.get("GITHUB_STEP_SUMMARY"), written["markdown"].read_text(encoding="utf-8") + "\n")
    else:
        why = done.stderr.strip().splitlines()[-1:] or [f"exit code {code}"]
        _append(env.get("GITHUB_STEP_SUMMARY"), f"## skewcheck: no report (exit code {code})\n\n```\n{why[0]}\n```\n")
    outputs = {"verdict": verdict, "exit-code": str(code)}
    outputs.update({f"{fmt}-report": str(written[fmt].resolve()) if fmt in written else "" for fmt in REPORTS})
    _append(env.get("GITHUB_OUTPUT"), "".join(_output(k, v) for k, v in outputs.items()))
    if code == 1 and not _true(env.get("SKEWCHECK_FAIL_ON_SKEW"), default=True):
        return 0
    return code


def main() -> None:
    sys.exit(run(os.environ))


if __name__ == "__main__":
    main()
