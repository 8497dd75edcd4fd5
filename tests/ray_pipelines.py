"""Pipelines that take down the Ray actor running them (tests of --engine ray only).

Under ``--engine ray`` a pipeline runs in a one-process pool owned by a Ray actor, so a pipeline
that crashes is recorded against its image and the actor survives. These pipelines kill their
*parent* instead, the way a node loss or the OOM killer takes an actor down, and they do it only
when that parent is a Ray worker process (its command line starts with ``ray::``), never anything
else: run by the local engine they are plain ``pil_unit``.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np
from PIL import Image


def _parent_is_ray_worker() -> bool:
    try:
        cmdline = Path(f"/proc/{os.getppid()}/cmdline").read_bytes()
    except OSError:
        return False
    return cmdline.startswith(b"ray::")


def _kill_parent() -> None:
    if _parent_is_ray_worker():
        os.kill(os.getppid(), signal.SIGKILL)
        signal.pause()  # our own watchdog ends this process once the parent is gone


def _pil_unit(path: str) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0


def kills_its_actor_once_on_img4(path: str) -> np.ndarray:
    """pil_unit; on img4 the first time (a marker file next to the images folder), kills its actor."""
    marker = Path(path).parents[2] / "actor-killed-once"
    if Path(path).name == "img4.png" and _parent_is_ray_worker() and not marker.exists():
        marker.write_text("killed\n")
        _kill_parent()
    return _pil_unit(path)


def kills_its_actor_on_img4(path: str) -> np.ndarray:
    """pil_unit, but img4 kills the actor running it, every time."""
    if Path(path).name == "img4.png":
        _kill_parent()
    return _pil_unit(path)
