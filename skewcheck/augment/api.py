"""``skewcheck.augment.audit_policy(...) -> AugmentReport``: the API the ``augment`` command wraps."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from skewcheck.augment.report import AugmentReport
from skewcheck.errors import UsageError


def _fraction(flag: str, value: float) -> None:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and 0 < value <= 1):
        raise UsageError(f"{flag} must be a number in (0, 1], got {value!r}")


def _check_options(
    model: Any,
    fail_on: str,
    max_drop: float,
    confidence: float,
    break_share: float,
    device: str,
    task: str | None,
    threshold: float,
    postprocess: Any,
) -> None:
    """Usage errors before anything loads: each a one-line UsageError naming its flag."""
    from skewcheck.comparison.outputs import check_task
    from skewcheck.models._common import check_device_name
    from skewcheck.report.model import GATES

    if fail_on not in GATES:
        raise UsageError(f"--fail-on must be one of {', '.join(GATES)}, got {fail_on!r}")
    if not (isinstance(max_drop, (int, float)) and math.isfinite(max_drop) and 0 <= max_drop <= 100):
        raise UsageError(f"--max-drop must be a number of points from 0 to 100, got {max_drop!r}")
    _fraction("--confidence", confidence)
    _fraction("--break-share", break_share)
    check_device_name(device)
    check_task(task, threshold, postprocess)
    if model is None or (isinstance(model, str) and model.strip().lower() in ("", "none")):
        raise UsageError("augment measures the model's answers: --model is required")


def _sampled(found: Any, root: Any, wanted: Any, seed: int, label_map: dict[str, Any]) -> Any:
    """``--sample``'s seeded draw of the files, per label (None without ``--sample``)."""
    from skewcheck.images.sample import SampledFiles

    if wanted is None:
        return None

    def stratum(name: str) -> tuple[str | None, str | None]:
        label = label_map.get(name)
        return None, str(label) if label is not None else None

    return SampledFiles(found, root, wanted, seed, stratum)


def audit_policy(
    *,
    model: Any,
    train: str | Callable[..., Any],
    augment: str,
    images: str | Path,
    labels: str | Path | None = None,
    class_names: str | Path | list[str] | None = None,
    task: str | None = None,
    threshold: float = 0.5,
    postprocess: str | Callable[..., Any] | None = None,
    fail_on: str = "major",
    max_drop: float = 5.0,
    confidence: float = 0.7,
    break_share: float = 0.25,
    value_range: str | None = None,
    seed: int = 0,
    device: str = "auto",
    unsafe_load: bool = False,
    sample: int | float | str | None = None,
    workers: int | str = "auto",
) -> AugmentReport:
    """Audit the augmentation policy ``augment`` (a TOML spec or ``aug.py:policy``) against
    ``model`` on the ``images`` as ``train`` decodes them (docs/augment.md). Usage problems raise
    :class:`~skewcheck.errors.UsageError`; an audit that cannot run raises
    :class:`~skewcheck.errors.AuditError`. ``sample``: a seeded sample of the images (a count, a
    fraction or a percentage, drawn per label), as ``compare``'s. ``workers`` ≥ 1 decodes with the
    train pipeline (a reference string) in that many worker processes; ``auto`` decodes in this
    process (decoding is a small share of an augmentation audit's work). The report is the same
    whatever the number of workers.

    (Over 80 lines on purpose: a flat keyword signature, one keyword per CLI option, as the
    ``compare`` API keeps; the body checks, loads and hands one AugmentInputs to the audit.)"""
    from skewcheck.api import _class_names, _load_model
    from skewcheck.augment.audit import AugmentInputs, run_augment_audit
    from skewcheck.augment.spec import load_spec
    from skewcheck.augment.value_range import parse_value_range
    from skewcheck.comparison.outputs import load_postprocess
    from skewcheck.images.discover import ImageFiles, check_images_dir
    from skewcheck.images.labels import read_labels
    from skewcheck.images.sample import parse_sample
    from skewcheck.images.source import ImageFile, relative_name
    from skewcheck.native import quiet_imports, quiet_tensorflow_env
    from skewcheck.pipelines import load_pipeline
    from skewcheck.worker_count import AUTO, parse_workers

    _check_options(model, fail_on, max_drop, confidence, break_share, device, task, threshold, postprocess)
    span = parse_value_range(value_range)
    wanted = parse_sample(sample)
    count = parse_workers(workers)
    reference = isinstance(train, str)
    if isinstance(count, int) and count > 0 and not reference:
        raise UsageError(
            f"workers={count} needs train as a reference string ('pkg.module:fn', 'file.py:fn'): "
            "worker processes rebuild the pipeline from it (or use workers=0)"
        )
    transforms = load_spec(str(augment))
    root = check_images_dir(Path(images))
    quiet_tensorflow_env()
    with quiet_imports():
        pipeline = load_pipeline(train, what="--train", images_root=root)
    post = load_postprocess(postprocess)
    names = _class_names(class_names)
    label_map = read_labels(Path(labels), names) if labels is not None else {}
    skip: set[ImageFile] = {Path(labels).absolute()} if labels is not None else set()
    found = ImageFiles(root, skip=skip)
    sampled = _sampled(found, root, wanted, seed, label_map)
    files = [(relative_name(f, root), f) for f in (sampled if sampled is not None else found)]
    if not files:
        raise UsageError(f"no files found under {root}")
    # auto: in-process. Each decoded image feeds 1 + transforms × strengths model passes and
    # transforms in this process, so decoding is a small share of the work: on 2 cores, 1,000
    # images of the benchmark (a TensorFlow train pipeline, which a worker imports again) took
    # 24-35 s in-process and 33-42 s with one worker (README). --workers N where decoding is dear.
    n_workers = 0 if count == AUTO else count
    assert isinstance(n_workers, int)

    def load() -> Any:
        with quiet_imports():
            return _load_model(model, device, unsafe_load)

    # with workers, the model loads once the pool is decoding: its TensorFlow import overlaps them
    runner = load() if n_workers == 0 else None
    inputs = AugmentInputs(
        runner=runner,
        train=pipeline,
        files=sorted(files, key=lambda f: f[0]),
        transforms=transforms,
        labels=label_map,
        class_names=names,
        task=task,
        threshold=threshold,
        postprocess=post,
        value_range=span,
        seed=seed,
        confidence=confidence,
        break_share=break_share,
        max_drop=float(max_drop),
        gate=fail_on,
        spec_ref=str(augment),
        workers=n_workers,
        root=root,
        load_model=load,
        sample=sampled.summary(seed, ["label"] if label_map else []) if sampled is not None else None,
    )
    return run_augment_audit(inputs)
