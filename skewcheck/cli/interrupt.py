"""Ctrl-C and SIGTERM end a command cleanly: workers stopped, one line, exit 128 + signal number.

Python turns SIGINT into ``KeyboardInterrupt`` but dies on SIGTERM without running a single
``finally``: the worker pool's ``__exit__`` never runs and its workers are left behind. Inside
:func:`signals_as_interrupts` both signals raise :class:`Interrupted` (a ``KeyboardInterrupt``) from
wherever the main thread is, so every ``with`` block on the way out cleans up.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """A SIGINT or SIGTERM arrived; ``exit_code`` is the shell's 128 + signal number."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def exit_code(exc: KeyboardInterrupt) -> int:
    return exc.exit_code if isinstance(exc, Interrupted) else 128 + signal.SIGINT


@contextlib.contextmanager
def signals_as_interrupts() -> Iterator[None]:
    """SIGINT and SIGTERM raise :class:`Interrupted` inside the block (main thread only).

    Only the first one: the handlers from before come back at once, so a second signal during the
    cleanup acts as it would have without us (the workers' watchdogs still end them).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[int, object] = {}

    def restore() -> None:
        for sig, handler in previous.items():  # None: a handler not set from Python, i.e. the default
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)  # type: ignore[arg-type]

    def _raise(signum: int, frame: FrameType | None) -> None:
        restore()
        raise Interrupted(signum)

    previous.update({sig: signal.signal(sig, _raise) for sig in SIGNALS})
    try:
        yield
    finally:
        restore()
