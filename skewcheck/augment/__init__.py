"""``skewcheck augment``: audit a training augmentation policy against the model and labelled images.

Files, in the order the data flows: ``spec`` (``--augment`` → transforms), ``builtin`` (the TOML
transforms), ``value_range`` (where the transforms act: the train tensor, in its value range),
``audit`` (decode once, one batched model pass per transform and strength), ``measure`` (what
changed), ``findings`` (safe ranges, label-breaking pairs), ``report`` and its renderers
(``wording``, ``terminal``, ``markdown``, ``junit``, ``html``). ``api.audit_policy`` is the entry
point; importing this package imports neither TensorFlow nor OpenCV.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from skewcheck.augment.api import audit_policy

__all__ = ["audit_policy"]


def __getattr__(name: str) -> Any:
    if name == "audit_policy":
        from skewcheck.augment.api import audit_policy

        return audit_policy
    raise AttributeError(f"module 'skewcheck.augment' has no attribute {name!r}")
