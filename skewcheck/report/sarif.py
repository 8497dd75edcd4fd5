"""SARIF 2.1.0 for code-scanning UIs (GitHub, GitLab, Azure DevOps), rendered from ``Report.to_dict()``.

One result per finding: its rule is the finding kind (its text from docs/findings.md as help),
its level follows the severity (critical/major: error, minor: warning, info: note), and its
location is where the deviating side's pipeline is defined: the callable's ``def`` line, or the
declarative pipeline's divergent step (else its ``[pipelines.NAME]`` table). The finding's
example images are its related locations. Paths under the working directory (the checkout, in
CI) are relative to ``%SRCROOT%``; others are ``file://`` URIs.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from skewcheck.report.common import evidence_text

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
LEVELS = {"critical": "error", "major": "error", "minor": "warning", "info": "note"}
# kinds no detector emits (the graded residual): their rule text
_OTHER_KINDS = {
    "unexplained": "Serve tensors grossly differ from train's and no detector names a cause that moves them that far.",
}


def render_sarif(data: dict[str, Any], root: Path | None = None) -> str:
    """The SARIF log; ``root`` (default: the working directory) is what ``%SRCROOT%`` stands for."""
    root = (root or Path.cwd()).resolve()
    findings = data["findings"]
    kinds = list(dict.fromkeys(f["kind"] for f in findings))
    results = [_result(f, kinds.index(f["kind"]), data, root) for f in findings]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "skewcheck",
                "version": data.get("skewcheck_version") or "0",
                "rules": [_rule(kind) for kind in kinds],
            }
        },
        "originalUriBaseIds": {SRCROOT: {"uri": root.as_uri() + "/"}},
        "invocations": [{"executionSuccessful": data["verdict"] != "error", "exitCode": data["exit_code"]}],
        "results": results,
        "properties": {"verdict": data["verdict"], "gate": data["gate"], "report_schema": data["schema"]},
    }
    return json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2) + "\n"


def _rule(kind: str) -> dict[str, Any]:
    from skewcheck.diagnose.catalog import kind_docs

    doc = kind_docs().get(kind)
    if doc is None:
        summary = _OTHER_KINDS.get(kind, f"Finding kind {kind}.")
        return {"id": kind, "shortDescription": {"text": summary}, "help": {"text": summary + " See docs/findings.md."}}
    parts = [(label, doc[label]) for label in ("Cause", "Evidence", "Fix") if label in doc]
    return {
        "id": kind,
        "shortDescription": {"text": doc["summary"]},
        "fullDescription": {"text": " ".join([doc["summary"], *(f"{label}: {text}" for label, text in parts)])},
        "help": {
            "text": "\n\n".join(f"{label}: {text}" for label, text in parts) or doc["summary"],
            "markdown": "\n\n".join([doc["summary"], *(f"**{label}.** {text}" for label, text in parts)]),
        },
        "properties": {"tags": ["training-serving-skew"], "detector": f"skewcheck/diagnose/{doc['detector']}.py"},
    }


def _result(finding: dict[str, Any], rule_index: int, data: dict[str, Any], root: Path) -> dict[str, Any]:
    side = finding.get("side")
    text = f"[{finding['severity']}] {finding['kind']} (side: {side or 'unknown'}; {finding['images']} images, "
    text += f"{finding['flips']} flips): {finding['explanation']} Fix: {finding['fix']}"
    if finding.get("evidence"):
        text += f" (evidence: {evidence_text(finding['evidence'])})"
    result: dict[str, Any] = {
        "ruleId": finding["kind"],
        "ruleIndex": rule_index,
        "level": LEVELS.get(finding["severity"], "warning"),
        "message": {"text": text},
        "partialFingerprints": {"skewcheckFinding/v1": _fingerprint(finding, data)},
        "properties": {
            key: finding.get(key) for key in ("severity", "side", "images", "flips", "fails_gate", "evidence")
        },
    }
    location = _traced_location(side, finding.get("location")) or _pipeline_location(side, data, root)
    if location is not None:
        result["locations"] = [location if "physicalLocation" in location else _physical(location, root)]
    related = [_image_location(i, path, data, root) for i, path in enumerate(finding.get("examples") or [])]
    if related:
        result["relatedLocations"] = related
    return result


def _fingerprint(finding: dict[str, Any], data: dict[str, Any]) -> str:
    """The same finding on the same pipelines matches across runs (code scanning tracks it)."""
    refs = "|".join(data["pipelines"][s]["ref"] for s in ("train", "serve"))
    return hashlib.sha256(f"{finding['kind']}|{finding.get('side')}|{refs}".encode()).hexdigest()[:32]


def _pipeline_location(side: str | None, data: dict[str, Any], root: Path) -> dict[str, Any] | None:
    """The deviating side's definition (serve when the side is unknown or both), else the other side's."""
    order = ["train", "serve"] if side == "train" else ["serve", "train"]
    for name in order:
        pipeline = data["pipelines"][name]
        source = pipeline.get("source")
        if not source:
            continue
        physical: dict[str, Any] = {"artifactLocation": _artifact(source["file"], root)}
        line = _divergent_line(name, source, data.get("divergence")) or source.get("line")
        if line:
            physical["region"] = {"startLine": line}
        return {"physicalLocation": physical, "message": {"text": f"the {name} pipeline: {pipeline['ref']}"}}
    return None


def _traced_location(side: str | None, location: dict[str, Any] | None) -> dict[str, Any] | None:
    """The line where the deviating side's value first parts from the other's (skewcheck.trace), when
    both pipelines are Python callables: ``{"name", "file", "line", "code"}`` of that side."""
    if not location:
        return None
    for name in ["train", "serve"] if side == "train" else ["serve", "train"]:
        where = location.get(name)
        if where and where.get("file") and where.get("line"):
            return {"side": name, **where}
    return None


def _physical(where: dict[str, Any], root: Path) -> dict[str, Any]:
    code = (where.get("code") or "").strip()
    return {
        "physicalLocation": {
            "artifactLocation": _artifact(where["file"], root),
            "region": {"startLine": where["line"]},
        },
        "message": {"text": f"the {where['side']} pipeline's first divergent line" + (f": {code}" if code else "")},
    }


def _divergent_line(side: str, source: dict[str, Any], divergence: dict[str, Any] | None) -> int | None:
    """The line of the first step where the two declarative pipelines' tensors part."""
    steps = source.get("steps")
    if not steps or not divergence or divergence.get("step") is None:
        return None
    index = divergence.get("serve_index") if side == "serve" else divergence.get("step")
    return steps[index] if isinstance(index, int) and 0 <= index < len(steps) else None


def _image_location(index: int, path: str, data: dict[str, Any], root: Path) -> dict[str, Any]:
    base = data.get("images_root")
    if base and "://" in base:
        artifact = {"uri": base.rstrip("/") + "/" + path}
    else:
        artifact = _artifact(str(Path(base or ".") / path), root)
    return {"id": index, "physicalLocation": {"artifactLocation": artifact}, "message": {"text": "example image"}}


def _artifact(file: str, root: Path) -> dict[str, Any]:
    path = Path(file).resolve()
    try:
        return {"uri": path.relative_to(root).as_posix(), "uriBaseId": SRCROOT}
    except ValueError:  # outside the checkout (an installed package, a cache folder)
        return {"uri": path.as_uri()}
