"""Black-box diagnosis: which candidate skew, replayed on the train side through the local model,
reproduces the endpoint's predictions.

An image-mode endpoint yields predictions, no tensors, so no detector can fit a cause. The
replayer keeps train's tensor of a seeded sample of images (as the attribution sample is drawn),
and at the end of the run applies every candidate of :mod:`skewcheck.serving.candidates` to each,
runs the local model (the file that was deployed) and counts on how many images the replayed
top-1 is the endpoint's. The best candidate, or pair of candidates when a pair reproduces more
images than any one, is the explanation: it becomes normal findings, one per candidate, with the
agreement it reaches as evidence and the attribution's ``Tally`` of what fixing it recovers
(flips back, accuracy), so grading, ranking, reports and the exit code work unchanged.
Candidates whose replayed predictions equal the winner's on every sampled image are listed as
``indistinguishable``: the replay cannot tell them apart on these images.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from skewcheck.attribution.measure import Tally, top1
from skewcheck.attribution.sample import AttributionSample
from skewcheck.comparison.metrics import as_probabilities
from skewcheck.comparison.predict import predict_side
from skewcheck.findings import Finding, Severity
from skewcheck.serving.candidates import Candidate, ReplayImage, all_candidates

REPLAY_SAMPLE = 256  # images whose train tensor is kept and replayed
REPLAY_MAX_BYTES = 256 << 20
TOP_SINGLES = 6  # pairs are tried among this many best single candidates
SAME_SHIFT = 0.01  # mean total variation under which two candidates' predictions count as the same
MAX_LISTED = 12


@dataclass
class _Scored:
    candidates: tuple[Candidate, ...]
    tops: list[int | None]
    probs: list[np.ndarray | None]
    agree: int = 0
    shift: float = 0.0
    compared: int = 0

    @property
    def label(self) -> str:
        return "train + " + " + ".join(c.name for c in self.candidates) if self.candidates else "train as is"


@dataclass
class Replayer:
    total: int
    runner: Any
    seed: int = 0
    images: list[ReplayImage] = field(default_factory=list)
    predicted: int = 0  # images with both predictions, over the whole run
    flipped: int = 0
    _bytes: int = 0
    not_applicable: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._sample = AttributionSample(self.total, self.seed, size=REPLAY_SAMPLE)

    def offer(
        self, index: int, path: str, file: Any, tensor: np.ndarray | None, train: Any, endpoint: Any, label: int | None
    ) -> None:
        t_out, e_out = getattr(train, "outputs", None), getattr(endpoint, "outputs", None)
        t_top, e_top = top1(t_out), top1(e_out)
        if t_top is None or e_top is None or t_out is None or e_out is None:
            return
        self.predicted += 1
        self.flipped += int(t_top != e_top)
        if (
            index not in self._sample
            or tensor is None
            or tensor.ndim != 3
            or self._bytes + tensor.nbytes > REPLAY_MAX_BYTES
        ):
            return
        self._bytes += tensor.nbytes
        self.images.append(ReplayImage(path, file, tensor, e_out, t_out, label))

    def finish(self, findings: list[Finding]) -> tuple[list[Finding], dict[Any, Tally], dict[str, Any] | None]:
        """(findings with the replay's added and the catch-all trimmed, their tallies, a summary)."""
        if not self.images or self.runner is None:
            return findings, {}, None
        identity = self._score(())
        each = [(c, self._score((c,))) for c in all_candidates()]
        singles = [s for _, s in each if s.compared]
        self.not_applicable = [
            c.name for c, s in each if not s.compared
        ]  # changed no image: cannot be told apart from train
        singles.sort(key=lambda s: (-s.agree, s.shift))
        best = singles[0] if singles else identity
        pairs = []
        for a, b in itertools.combinations(singles[:TOP_SINGLES], 2):
            if a.candidates[0].kind != b.candidates[0].kind:
                ordered = sorted((a.candidates[0], b.candidates[0]), key=lambda c: not c.renders)
                scored = self._score(tuple(ordered))
                if scored.compared:
                    pairs.append(scored)
        pairs.sort(key=lambda s: (-s.agree, s.shift))
        if pairs and pairs[0].agree > best.agree:
            best = pairs[0]
        summary = self._summary(identity, best, singles, pairs)
        if best is identity or best.agree <= identity.agree:
            return findings, {}, summary
        made, tallies = self._findings(identity, best, singles, summary)
        return _trim_catch_all(findings, best, identity, len(self.images)) + made, tallies, summary

    def _score(self, candidates: tuple[Candidate, ...]) -> _Scored:
        """The local model's predictions on train + ``candidates`` for every sampled image. Where a
        candidate does not apply (no alpha, not a JPEG) or changes nothing, the image is train as is;
        a candidate that applies to no image is not scored (``compared`` 0)."""
        tensors: list[np.ndarray | None] = []
        applied = 0
        for img in self.images:
            t: np.ndarray | None = img.tensor
            for c in candidates:
                moved = c.apply(t, img) if t is not None else None
                t = t if moved is None else moved
            same = t is img.tensor or (t is not None and t.shape == img.tensor.shape and np.array_equal(t, img.tensor))
            applied += int(not same)
            tensors.append(None if t is None or same else _as_train_dtype(t, img.tensor.dtype))
        scored = _Scored(candidates, [], [])
        if candidates and not applied:
            return scored
        preds = predict_side(self.runner, tensors) if applied else [None] * len(tensors)
        for img, pred, t in zip(self.images, preds, tensors, strict=True):
            outputs = img.train if t is None else getattr(pred, "outputs", None)
            top, probs = top1(outputs), _probs(outputs)
            scored.tops.append(top)
            scored.probs.append(probs)
            if top is None or probs is None:
                continue
            scored.compared += 1
            scored.agree += int(top == top1(img.endpoint))
            scored.shift += _tv(probs, _probs(img.endpoint))
        if scored.compared:
            scored.shift /= scored.compared
        return scored

    def _summary(
        self, identity: _Scored, best: _Scored, singles: list[_Scored], pairs: list[_Scored]
    ) -> dict[str, Any]:
        n = len(self.images)
        mine = {c.name for c in best.candidates}
        others = singles + [
            p for p in pairs if not mine & {c.name for c in p.candidates}
        ]  # a pair with the winner in it says nothing new
        same = [s.label.removeprefix("train + ") for s in others if s is not best and _same(s, best)]
        return {
            "replayed_images": n,
            "candidates_tried": len(singles) + len(pairs),
            "best": best.label,
            "agreement": round(best.agree / n, 6),
            "agreement_train_as_is": round(identity.agree / n, 6),
            "runner_up": next(
                (
                    {"candidate": s.label, "agreement": round(s.agree / n, 6)}
                    for s in singles + pairs
                    if s is not best and not _same(s, best)
                ),
                None,
            ),
            "indistinguishable": _listed(same),
            "no_effect_here": _listed([s.label.removeprefix("train + ") for s in singles if _same(s, identity)]),
            "not_applicable": _listed(self.not_applicable),
        }

    def _findings(
        self, identity: _Scored, best: _Scored, singles: list[_Scored], summary: dict[str, Any]
    ) -> tuple[list[Finding], dict[Any, Tally]]:
        by_name = {s.candidates[0].name: s for s in singles}
        made: list[Finding] = []
        tallies: dict[Any, Tally] = {}
        pct = f"{100 * best.agree / len(self.images):.1f} %"
        base = f"{100 * identity.agree / len(self.images):.1f} %"
        for c in best.candidates:
            rest = tuple(x for x in best.candidates if x is not c)
            left = by_name[rest[0].name] if rest else identity  # what serve would be with this one fixed
            key = ("replay", c.kind, c.name)
            tallies[key] = self._tally(best, left)
            explanation = (
                f"The endpoint's predictions match {best.label} on {pct} of the {len(self.images)} replayed images "
                f"(train as is: {base}): the serving stack behaves as if it applied {c.name}."
            )
            made.append(
                Finding(
                    kind=c.kind,
                    severity=Severity.MAJOR,
                    side="serve",
                    evidence={**c.evidence, "replay": best.label, **{k: v for k, v in summary.items() if k != "best"}},
                    explanation=explanation,
                    fix=c.fix,
                    images=self.predicted,
                    flips_on_images=self.flipped,
                    examples=self._examples(best),
                    key=key,
                    repair=("replay",),
                )
            )
        return made, tallies

    def _tally(self, best: _Scored, left: _Scored) -> Tally:
        """Attribution's counts: fixing this candidate alone leaves serve as ``left`` on the images ``best`` reproduces."""
        tally = Tally(images=self.predicted, flipped_images=self.flipped)
        for i, img in enumerate(self.images):
            t_top, e_top = top1(img.train), top1(img.endpoint)
            explained = best.tops[i] == e_top
            after = left.tops[i] if explained else e_top  # what the endpoint would answer with this fix made
            flipped = t_top != e_top
            tally.sampled += 1
            tally.predicted += 1
            tally.agree_after += int(after == t_top)
            if flipped:
                tally.sampled_flipped += 1
                tally.recovered += int(after == t_top)
                tally.credited += int(after == t_top)
            else:
                tally.agreeing += 1
                tally.broken += int(after != t_top)
            if img.label is not None:
                delta = int(after == img.label) - int(e_top == img.label)
                tally.labelled += 1
                tally.correct_after += int(after == img.label)
                if flipped:
                    tally.correct_delta_flipped += delta
                else:
                    tally.correct_delta_agreeing += delta
            p_train, p_end = _probs(img.train), _probs(img.endpoint)
            p_after = left.probs[i] if explained else p_end
            if p_train is not None and p_end is not None and p_after is not None:
                tally.shifts += 1
                tally.shift_before += _tv(p_train, p_end)
                tally.shift_after += _tv(p_train, p_after)
        return tally

    def _examples(self, best: _Scored) -> list[str]:
        """Reproduced flips first: the images where the endpoint's answer changed and the replay shows why."""
        flips = [
            img.path
            for i, img in enumerate(self.images)
            if top1(img.train) != top1(img.endpoint) and best.tops[i] == top1(img.endpoint)
        ]
        return flips[:5]


def _trim_catch_all(findings: list[Finding], best: _Scored, identity: _Scored, n: int) -> list[Finding]:
    """The ``prediction`` catch-all keeps only the differences the best replay does not reproduce."""
    out = []
    for f in findings:
        if f.kind != "prediction" or f.side != "unknown":
            out.append(f)
            continue
        flips_sampled = n - identity.agree
        left = (n - best.agree) / flips_sampled if flips_sampled else 0.0
        f.flips_on_images = round(f.flips_on_images * min(1.0, left))
        f.images = max(f.flips_on_images, round(f.images * min(1.0, left)))
        if f.images:
            f.explanation = (
                f"{f.explanation} The best replay ({best.label}) does not reproduce the endpoint's "
                "predictions on these images."
            )
            out.append(f)
    return out


def _listed(names: list[str]) -> list[str]:
    return names[:MAX_LISTED] + ([f"… {len(names) - MAX_LISTED} more"] if len(names) > MAX_LISTED else [])


def _same(a: _Scored, b: _Scored) -> bool:
    if a.tops != b.tops:
        return False
    shifts = [_tv(p, q) for p, q in zip(a.probs, b.probs, strict=True) if p is not None and q is not None]
    return not shifts or float(np.mean(shifts)) < SAME_SHIFT


def _probs(outputs: list[np.ndarray] | None) -> np.ndarray | None:
    top = top1(outputs)
    if top is None or not outputs:
        return None
    scores = next(o for o in outputs if o.ndim == 1 and o.size > top)
    return as_probabilities(scores)


def _tv(p: np.ndarray | None, q: np.ndarray | None) -> float:
    if p is None or q is None or p.shape != q.shape:
        return 1.0
    return 0.5 * float(np.abs(p - q).sum())


def _as_train_dtype(t: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """A replayed tensor in train's dtype (a float candidate of an integer train tensor stays float)."""
    if np.issubdtype(dtype, np.floating):
        return t.astype(dtype)
    return t.astype(np.float32)
