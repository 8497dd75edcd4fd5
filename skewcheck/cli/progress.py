"""The audit's progress bar (`skewcheck compare`)."""

from __future__ import annotations

from typing import Any


class AuditProgress:
    """A rich progress bar on stderr, or nothing with --quiet."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self._bar: Any = None  # a rich Progress while a terminal shows it

    def __enter__(self):
        if self.quiet:
            return None
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        console = Console(stderr=True)
        if not console.is_terminal:  # CI logs get the report, not bar redraws
            return None
        self._bar = Progress(
            TextColumn("auditing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._bar.__enter__()
        task = self._bar.add_task("audit", total=None)

        def update(done: int, total: int) -> None:
            self._bar.update(task, completed=done, total=total)

        return update

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
