"""``--model none``: a tensor-only audit. The one rule that says whether a model reference means
no model, read by the configuration, the config file's path resolution, ``check-config`` and the
model loader (no import beyond the standard library: configuration checks stay cheap)."""

from __future__ import annotations

from pathlib import Path

NO_MODEL = "none"


def is_no_model(model: object) -> bool:
    """True for ``none`` (any case, surrounding spaces ignored) and for no model at all (None)."""
    return model is None or (isinstance(model, (str, Path)) and str(model).strip().lower() == NO_MODEL)
