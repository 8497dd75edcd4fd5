"""First divergent step: when both sides are declarative, where do their tensors part ways?

Like a layer-wise comparison in a model debugger: both specs run on the same image, and the
tensors are compared after every pair of aligned steps. Steps align by op name (difflib's
matching blocks over the two op lists), so identical op lists align index by index and an op
one side lacks is skipped and reported as an op-list difference. Only a sample runs (the first
images whose final tensors differ), one image at a time, so memory stays flat.
"""

from __future__ import annotations

import difflib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from skewcheck.images.source import ImageFile
from skewcheck.pipelines.declarative.pipeline import DeclarativePipeline, StepResult
from skewcheck.pipelines.outcome import Outcome

SAMPLE = 8


@dataclass(frozen=True)
class StepDivergence:
    """Where one image's two step lists first differ, and by how much."""

    path: str
    train_index: int
    serve_index: int
    train_step: str
    serve_step: str
    metric: dict[str, Any]


def align(train: DeclarativePipeline, serve: DeclarativePipeline) -> list[tuple[int, int]]:
    """Pairs of (train index, serve index) whose outputs are compared, in order."""
    matcher = _matcher(train, serve)
    return [(b.a + k, b.b + k) for b in matcher.get_matching_blocks() for k in range(b.size)]


def op_list_difference(train: DeclarativePipeline, serve: DeclarativePipeline) -> dict[str, Any] | None:
    """The first place where the two op lists differ (an op on one side only), or None."""
    t, s = train.spec.steps, serve.spec.steps
    for tag, i1, i2, j1, j2 in _matcher(train, serve).get_opcodes():
        if tag != "equal":
            return {
                "train_index": i1,
                "serve_index": j1,
                "train_steps": [step.describe() for step in t[i1:i2]],
                "serve_steps": [step.describe() for step in s[j1:j2]],
            }
    return None


def _matcher(train: DeclarativePipeline, serve: DeclarativePipeline) -> difflib.SequenceMatcher:
    return difflib.SequenceMatcher(
        a=[s.op for s in train.spec.steps], b=[s.op for s in serve.spec.steps], autojunk=False
    )


def compare_step(t: StepResult, s: StepResult, atol: float, rtol: float) -> dict[str, Any] | None:
    """The metric where the two step outputs differ, None where they agree."""
    if t.tensor is None or s.tensor is None:
        errors = {
            side: f"step {r.index} {r.description}: {r.error}"
            for side, r in (("train", t), ("serve", s))
            if r.tensor is None
        }
        return None if len(errors) == 2 else {"error": errors}
    a, b = t.tensor, s.tensor
    if a.shape != b.shape:
        return {"shape": {"train": list(a.shape), "serve": list(b.shape)}}
    metric: dict[str, Any] = {}
    if a.dtype != b.dtype:
        metric["dtype"] = {"train": str(a.dtype), "serve": str(b.dtype)}
    diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
    if diff.size:
        metric["max_abs_diff"] = float(diff.max())
        metric["mean_abs_diff"] = float(diff.mean())
    close = bool(np.all(diff <= atol + rtol * np.abs(a.astype(np.float64))))
    return metric if (metric.get("dtype") or not close) else None


def first_divergence(
    train: DeclarativePipeline, serve: DeclarativePipeline, file: ImageFile, name: str, atol: float, rtol: float
) -> StepDivergence | None:
    """Run both specs on one image and compare after each aligned step pair."""
    t_steps, s_steps = train.run_steps(file), serve.run_steps(file)
    for ti, si in align(train, serve):
        # A side that failed at an earlier (unaligned) step shows that failure here.
        t, s = t_steps[min(ti, len(t_steps) - 1)], s_steps[min(si, len(s_steps) - 1)]
        metric = compare_step(t, s, atol, rtol)
        if metric is not None:
            return StepDivergence(
                name, ti, si, train.spec.steps[ti].describe(), serve.spec.steps[si].describe(), metric
            )
        if t.tensor is None:
            return None  # both sides failed: nothing further to compare
    return None


def final_differs(train: Outcome, serve: Outcome, atol: float, rtol: float) -> bool:
    if train.status != serve.status:
        return True
    if not (train.ok and serve.ok):
        return False
    a, b = train.tensor, serve.tensor
    assert a is not None and b is not None
    if a.shape != b.shape or a.dtype != b.dtype:
        return True
    return not np.allclose(b.astype(np.float64), a.astype(np.float64), atol=atol, rtol=rtol)


@dataclass
class DivergenceTracer:
    """Collects the first divergent step of up to ``sample`` images whose final tensors differ."""

    train: DeclarativePipeline
    serve: DeclarativePipeline
    atol: float = 1e-5
    rtol: float = 1e-5
    sample: int = SAMPLE
    sampled: int = 0
    found: list[StepDivergence] = field(default_factory=list)

    def offer(self, file: ImageFile, name: str, train: Outcome, serve: Outcome) -> None:
        if self.sampled >= self.sample or not final_differs(train, serve, self.atol, self.rtol):
            return
        self.sampled += 1
        found = first_divergence(self.train, self.serve, file, name, self.atol, self.rtol)
        if found is not None:
            self.found.append(found)

    def result(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "step": None,
            "sampled": self.sampled,
            "images": 0,
            "op_lists": op_list_difference(self.train, self.serve),
        }
        if not self.found:
            return out
        first = min(self.found, key=lambda d: (d.train_index, d.serve_index))
        here = [d for d in self.found if (d.train_index, d.serve_index) == (first.train_index, first.serve_index)]
        metric = dict(first.metric)
        maxes = [d.metric["max_abs_diff"] for d in here if "max_abs_diff" in d.metric]
        means = [d.metric["mean_abs_diff"] for d in here if "mean_abs_diff" in d.metric]
        if maxes:
            metric["max_abs_diff"] = max(maxes)
            metric["mean_abs_diff"] = float(np.mean(means))
        counts = Counter((d.train_index, d.serve_index, d.train_step) for d in self.found)
        out.update(
            step=first.train_index,
            serve_index=first.serve_index,
            train_step=first.train_step,
            serve_step=first.serve_step,
            metric=metric,
            images=len(here),
            example=first.path,
            by_step=[
                {"step": ti, "serve_index": si, "train_step": desc, "images": n}
                for (ti, si, desc), n in sorted(counts.items())
            ],
        )
        return out


def divergence_tracer(train: Any, serve: Any, atol: float, rtol: float) -> DivergenceTracer | None:
    """A tracer when both pipelines are declarative, else None."""
    if isinstance(train, DeclarativePipeline) and isinstance(serve, DeclarativePipeline):
        return DivergenceTracer(train, serve, atol, rtol)
    return None
