"""The generated skew matrix's seeded slice, its numbers pinned (benchmarks/skew_matrix/, issue 26).

About 60 cases of the matrix (a few single-cause cases of every expected kind, one with a model
where there is one, plus pairs and equivalent ports; never the large-image family), generated,
audited in-process and scored exactly as ``scripts/skew_matrix_table.py`` does for
docs/skew-matrix.md. The pins are counts, not rates: any change of what the detectors name, of a
severity that crosses ``minor``, or of an exit code changes one of them and fails this test. That
is the point: a detector change shows here as numbers, and the pins are then updated on purpose.

To re-pin after a deliberate detector (or matrix) change::

    PYTHONPATH=. python scripts/skew_matrix_table.py --slice --jobs 1 --pins

and replace ``PINNED`` with what it prints (then rerun the whole matrix for docs/skew-matrix.md:
``PYTHONPATH=. python scripts/skew_matrix_table.py``). Say in the commit which numbers moved and why.
"""

from __future__ import annotations

import time

import pytest

from benchmarks.skew_matrix import generate, run
from benchmarks.skew_matrix.score import pins, score

SEED = run.SEED
PINNED = {
    "cases": 64,
    "errors": 0,
    "categories": {"inert": 6, "one-cause": 43, "port": 8, "two-causes": 7},
    # expected kind: [cases, hits at >= minor, hits counting info findings]
    "recall": {
        "alpha": [1, 1, 1],
        "channel-order": [2, 2, 2],
        "color-conversion": [3, 0, 0],
        "color-profile": [2, 2, 2],
        "crop": [3, 3, 3],
        "dtype": [7, 7, 7],
        "gamma": [6, 6, 6],
        "jpeg-decoder": [4, 3, 3],
        "layout": [5, 5, 5],
        "normalization": [4, 4, 4],
        "orientation": [3, 3, 3],
        "padding": [2, 2, 2],
        "quantization": [3, 3, 3],
        "resize": [5, 4, 4],
        "scale": [3, 3, 3],
        "shape": [4, 4, 4],
    },
    # reported kind: [cases reporting it at >= minor, of which right]
    "precision": {
        "alpha": [1, 1],
        "channel-order": [2, 2],
        "color-profile": [2, 2],
        "crop": [3, 3],
        "dtype": [7, 7],
        "gamma": [6, 6],
        "jpeg-decoder": [3, 3],
        "layout": [5, 5],
        "normalization": [6, 4],
        "orientation": [3, 3],
        "padding": [2, 2],
        "quantization": [3, 3],
        "resize": [5, 4],
        "scale": [3, 3],
        "shape": [4, 4],
        "unexplained": [3, 0],
    },
    # [cases, first finding right, cases with a bigger cause, first finding is the bigger cause]
    "first": {"one-cause": [43, 39, 0, 0], "two-causes": [7, 7, 5, 4]},
    "alarms": {"inert": [6, 0], "port": [8, 0]},  # [cases, alarms]
    "exit": [64, 64, 0],  # [cases, exit code right, exit 0 where the gate should fail]
}


@pytest.fixture(scope="module")
def matrix_slice(tmp_path_factory):
    work = tmp_path_factory.mktemp("skew-matrix")
    all_cases, folders, modules = run.prepare(work, SEED)
    chosen = generate.pick_slice(all_cases, SEED)
    t0 = time.perf_counter()
    rows = run.run_cases(chosen, folders, modules, work, SEED)
    return rows, time.perf_counter() - t0


def test_the_matrix_is_large_enough():
    assert len(generate.cases(SEED)) >= 2000


def test_slice_numbers_are_pinned(matrix_slice):
    rows, seconds = matrix_slice
    got = pins(score(rows))
    worst = sorted(rows, key=lambda r: -r["audit_s"])[:3]
    assert got == PINNED, (seconds, [(r["name"], r["audit_s"]) for r in worst])


def test_equivalent_ports_in_the_slice_are_equal(matrix_slice):
    """A port that is not the same numbers would measure nothing: the harness checks its own cases."""
    rows, _ = matrix_slice
    ports = [r for r in rows if r["group"] == "port"]
    assert ports and all(r["truth"]["equal"] for r in ports), [r["name"] for r in ports if not r["truth"]["equal"]]
