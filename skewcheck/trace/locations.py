"""Where in the user's code: the lines at which two Python pipelines first diverge, per finding.

When both pipelines are Python callables, the audit offers each image with its finding keys as it
goes (:meth:`LineTracer.offer`, no work done); at most ``TRACED_IMAGES`` are kept, in audit order,
each because it carries a finding no image kept before carries. After the audit
(:meth:`LineTracer.attach`), each kept image runs once more through both pipelines under the line
tracer (:mod:`skewcheck.trace.recorder`), the two traces are aligned (:mod:`skewcheck.trace.align`)
and every finding whose images include a traced image gets the location of its cause on that image
(the first traced image that carries it): ``finding.location`` =
``{"train": {"file", "line", "code", "name"}, "serve": {...}, "image": path}``.

A cause is located with every known alignment allowed except its own (``scale`` for a scale
finding, ``channels`` for channel order, ``layout``, ``dtype``); any other kind is located where the
content itself first differs. Pipelines that are not Python callables (TOML specs have their own
step divergence; ``tensors:`` folders, snapshots and endpoints run elsewhere) have no location. A
tracer failure, or a pipeline that raises when run again, is recorded under ``line_trace`` in the
report and the audit goes on.
"""

from __future__ import annotations

import linecache
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from skewcheck.errors import one_line, type_name
from skewcheck.findings import Finding
from skewcheck.images.source import ImageFile, held_while_run
from skewcheck.pipelines.outcome import Outcome
from skewcheck.pipelines.user_callable import CallablePipeline
from skewcheck.trace.align import COMPONENTS, CONTENT, Divergence, TraceAlignment
from skewcheck.trace.recorder import LineRecorder, Snapshot, Trace
from skewcheck.trace.user_files import UserFiles, callable_dir

TRACED_IMAGES = 3
OWN_COMPONENT = {"scale": "scale", "channel-order": "channels", "layout": "layout", "dtype": "dtype"}
BUDGET_S, BUDGET_TIMES = 5.0, 20  # tracing one call stops after 5 s + 20 x its untraced time
CODE_CHARS = 160

FindingKey = Any  # Finding.key: (kind, side, evidence as JSON)


@dataclass
class _Chosen:
    file: ImageFile
    path: str
    keys: frozenset[FindingKey]
    budget_s: float
    locations: dict[str, Divergence | None] = field(default_factory=dict)


class LineTracer:
    def __init__(self, train: CallablePipeline, serve: CallablePipeline, images: int = TRACED_IMAGES) -> None:
        self.pipelines = {"train": train, "serve": serve}
        self.images = images
        self.chosen: list[_Chosen] = []
        self._covered: set[FindingKey] = set()

    def offer(self, file: ImageFile, path: str, train: Outcome, serve: Outcome, keys: Iterable[FindingKey]) -> None:
        """Keep this image for tracing when it carries a finding no kept image carries."""
        if len(self.chosen) >= self.images or not (train.ok and serve.ok):
            return
        keys = frozenset(keys)
        if not keys - self._covered:
            return
        self._covered |= keys
        budget = BUDGET_S + BUDGET_TIMES * max(train.seconds, serve.seconds)
        self.chosen.append(_Chosen(held_while_run(file), path, keys, budget))  # one read for both traced sides

    def attach(self, findings: list[Finding]) -> dict[str, Any]:
        """Trace the kept images, set ``location`` on the findings they explain; what was traced."""
        started = time.perf_counter()
        images = [self._trace_image(chosen) for chosen in self.chosen]
        for finding in findings:
            for chosen in self.chosen:
                if finding.key not in chosen.keys:
                    continue
                where = chosen.locations.get(OWN_COMPONENT.get(finding.kind, CONTENT))
                if where is not None:
                    finding.location = location_dict(where, chosen.path)
                    break
        return {"images": images, "seconds": round(time.perf_counter() - started, 3)}

    def _trace_image(self, chosen: _Chosen) -> dict[str, Any]:
        out: dict[str, Any] = {"path": chosen.path}
        traces: dict[str, Trace] = {}
        for side, pipeline in self.pipelines.items():
            traces[side] = trace = trace_call(pipeline, chosen.file, chosen.budget_s)
            out[side] = {"snapshots": len(trace.snapshots)}
            if trace.error is not None:
                out[side]["error"] = trace.error
            if trace.stopped is not None:
                out[side]["stopped"] = trace.stopped
        try:
            aligned = TraceAlignment(traces["train"].snapshots, traces["serve"].snapshots)
            for name in (CONTENT, *sorted(COMPONENTS)):
                allowed = COMPONENTS if name == CONTENT else COMPONENTS - {name}
                chosen.locations[name] = aligned.locate(allowed)
        except Exception as exc:  # odd values in a trace: no location, the audit goes on
            out["error"] = f"aligning the traces failed: {type_name(exc)}: {one_line(exc, 300)}"
            chosen.locations.clear()
        content = chosen.locations.get(CONTENT)
        out["located"] = {  # the content's divergence, and each cause's where it differs from that one
            name: location_dict(where, None)
            for name, where in chosen.locations.items()
            if where is not None and (name == CONTENT or where != content)
        }
        return out


def trace_call(pipeline: CallablePipeline, file: ImageFile, budget_s: float) -> Trace:
    """One traced call of ``pipeline`` on ``file``; its failure is the trace's error, never raised."""
    own = UserFiles([callable_dir(pipeline.fn)])
    recorder = LineRecorder(own, budget_s=budget_s)
    try:
        raised = pipeline.call_inside(file, recorder)
    except Exception as exc:  # e.g. reading the file again failed
        raised = exc
    if raised is not None and recorder.trace.error is None:
        recorder.trace.error = f"the pipeline raised when traced: {type_name(raised)}: {one_line(raised, 300)}"
    return recorder.trace


def location_dict(where: Divergence, image: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"train": _line(where.train), "serve": _line(where.serve)}
    if image is not None:
        out["image"] = image
    return out


def _line(snapshot: Snapshot) -> dict[str, Any]:
    code = linecache.getline(snapshot.file, snapshot.line).strip()
    if len(code) > CODE_CHARS:
        code = code[: CODE_CHARS - 1] + "…"
    return {"file": shown_path(snapshot.file), "line": snapshot.line, "code": code, "name": snapshot.name}


def shown_path(file: str) -> str:
    """Relative to the working directory when the file is under it, else as Python named it."""
    try:
        relative = os.path.relpath(file)
    except ValueError:  # another drive (Windows)
        return file
    return file if relative.startswith(os.pardir) else relative.replace(os.sep, "/")


def line_tracer(train: Any, serve: Any) -> LineTracer | None:
    """A line tracer when both pipelines are Python callables run in this process, else None."""
    if isinstance(train, CallablePipeline) and isinstance(serve, CallablePipeline):
        return LineTracer(train, serve)
    return None
