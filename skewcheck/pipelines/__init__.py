"""Pipeline references → objects that turn one image file into one tensor (or a recorded error)."""

from __future__ import annotations

from skewcheck.errors import UsageError
from skewcheck.images.source import ImageRoot
from skewcheck.pipelines.base import Pipeline
from skewcheck.pipelines.outcome import DEFAULT_MAX_TENSOR_MB, Outcome

__all__ = ["Outcome", "Pipeline", "load_pipeline"]


def load_pipeline(
    ref: object,
    *,
    what: str = "pipeline",
    images_root: ImageRoot | None = None,
    max_tensor_mb: float | None = DEFAULT_MAX_TENSOR_MB,
) -> Pipeline:
    """Resolve a ``--train`` / ``--serve`` reference (or a Python callable from the API).

    ``images_root`` (the ``--images`` folder, local or a URI's) lets file-backed pipelines (``tensors:DIR``,
    snapshots) name an image by its path relative to it; callables never need it.
    ``max_tensor_mb``: a tensor larger than this is not kept; the image's outcome is a
    ``pipeline-error`` (``TensorTooLarge``) instead (None: no limit).
    """
    from skewcheck.pipelines.user_callable import CallablePipeline

    if max_tensor_mb is not None and not max_tensor_mb > 0:
        raise UsageError(f"--max-tensor-mb must be a positive number, got {max_tensor_mb}")
    if callable(ref) and not isinstance(ref, str):
        name = getattr(ref, "__qualname__", type(ref).__name__)
        return CallablePipeline(
            f"{getattr(ref, '__module__', '?')}:{name}", ref, what=what, max_tensor_mb=max_tensor_mb
        )
    if hasattr(ref, "run") and hasattr(ref, "ref"):
        return ref  # type: ignore[return-value]  # already a Pipeline (duck-typed: run + ref)
    if not isinstance(ref, str) or not ref.strip():
        raise UsageError(f"{what}: empty pipeline reference")
    ref = ref.strip()
    if ref.startswith("tensors:"):
        from skewcheck.pipelines.tensors_dir import TensorsDirPipeline

        return TensorsDirPipeline(ref, images_root=images_root, what=what, max_tensor_mb=max_tensor_mb)
    if ref.lower().endswith(".npz"):
        from skewcheck.pipelines.snapshot import SnapshotPipeline

        return SnapshotPipeline(ref, images_root=images_root, what=what, max_tensor_mb=max_tensor_mb)
    if ".toml#" in ref or ref.lower().endswith(".toml"):
        from skewcheck.pipelines.declarative import load_declarative

        pipe = load_declarative(ref, what=what)
        pipe.max_tensor_mb = max_tensor_mb
        return pipe
    return CallablePipeline(ref, what=what, max_tensor_mb=max_tensor_mb)
