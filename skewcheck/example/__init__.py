"""The bundled example: a digit classifier, its training pipeline and a buggy serving pipeline."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent


def example_arguments() -> dict[str, str]:
    return {
        "model": str(HERE / "model.keras"),
        "train": "skewcheck.example.pipelines:train_preprocess",
        "serve": "skewcheck.example.pipelines:serve_preprocess",
        "images": str(HERE / "images"),
        "labels": str(HERE / "labels.csv"),
    }
