"""The suite's pytest-xdist schedule: whole files per worker (``--dist loadfile``), the heaviest first.

xdist's own loadfile schedule starts the files with the most tests first. On 2 cores that left a
file of a dozen slow tests (the Ray engine's, 2 minutes alone) to start late, and one worker ran it
alone while the other had finished: the suite took the longest file's time on top of everything
else. Starting the files that take longest first (the greedy "longest first" schedule) lets the
many small files fill the other worker meanwhile, so both finish close together.

``WEIGHTS`` are seconds measured on the 2-core development machine (``pytest --durations=0``,
summed per unit); only their order matters, and only the slowest units need one. A file not
listed keeps xdist's order after the listed ones (most tests first). A unit is a file, except:

- ``SPLIT`` files, whose tests are independent and each slow (documented commands run in
  subprocesses): each test is its own unit, so they spread over the workers;
- ``JOINED`` files run as one unit with another: the two files that start Ray clusters run one
  after the other on one worker, never two clusters at once (memory, and both want every core).
"""

from __future__ import annotations

from typing import Any

from xdist.scheduler import LoadFileScheduling

SPLIT = {"tests/e2e/test_docs.py"}
JOINED = {"tests/engines/test_ray_sigterm.py": "tests/engines/test_ray_engine.py"}
WEIGHTS = {  # seconds, from a full run on a busy machine (about twice a quiet one's): only the order counts
    "tests/engines/test_ray_engine.py": 238,  # with test_ray_sigterm.py
    "tests/serving/test_serving.py": 74,
    "tests/cli/test_cli_augment.py": 62,
    "tests/execution/test_workers.py": 61,
    "tests/models/test_corrupt_models.py": 39,
    "tests/e2e/test_skew_suite.py": 34,
    "tests/e2e/test_docs.py::test_doc_excerpts_are_what_the_documented_commands_print": 34,
    "tests/e2e/test_skew_matrix.py": 33,
    "tests/e2e/test_docs.py::test_models_page_example_runs_are_what_the_documented_commands_print": 32,
    "tests/e2e/test_mutation_corpus.py": 29,
    "tests/e2e/test_skew_suite_models.py": 22,
    "tests/ci/test_github_action.py": 22,
    "tests/models/test_models.py": 21,
    "tests/cli/test_interrupt.py": 20,
    "tests/models/test_model_memory_bounds.py": 19,
    "tests/e2e/test_docs.py::test_augment_page_runs_are_what_the_documented_commands_print": 19,
}


class HeaviestFirst(LoadFileScheduling):
    """``--dist loadfile`` with the units above, handed out heaviest first."""

    def __init__(self, config: Any, log: Any = None) -> None:
        super().__init__(config, log)
        self._ordered = False

    def _split_scope(self, nodeid: str) -> str:
        path = nodeid.split("::", 1)[0]
        if path in SPLIT:
            return nodeid
        return JOINED.get(path, path)

    def _assign_work_unit(self, node: Any) -> None:
        if not self._ordered:  # the first hand-out: the queue is complete, in xdist's order
            self._ordered = True
            units = sorted(self.workqueue.items(), key=lambda unit: -WEIGHTS.get(unit[0], 0))  # stable
            self.workqueue.clear()
            self.workqueue.update(units)
        super()._assign_work_unit(node)
