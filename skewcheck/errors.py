"""Errors that mean the user asked for something that cannot be done (exit code 2)."""


def one_line(exc: BaseException, limit: int = 240) -> str:
    """The first non-empty line of an exception message, shortened: never a traceback."""
    text = str(exc).strip()
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    if not line:
        line = type(exc).__name__
    return line if len(line) <= limit else line[: limit - 1] + "…"


class UsageError(Exception):
    """Bad flag, missing file, unreadable reference, unloadable model: one line for the user."""


class AuditError(Exception):
    """The audit itself could not run (exit code 3), e.g. every image failed in the model."""
