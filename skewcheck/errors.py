"""The exit codes, and the errors that map to them (usage: 2, the audit could not run: 3)."""

from enum import IntEnum


class ExitCode(IntEnum):
    """What ``skewcheck`` exits with; ``Report.exit_code`` is one of the first, third and fourth."""

    PASS = 0  # no skew at or above the gate
    SKEW = 1  # skew found: the gate failed
    USAGE = 2  # bad flag, missing file, unreadable reference, unloadable model
    AUDIT = 3  # the audit itself could not run


EXIT_CODES_HELP = (
    f"Exit codes: {ExitCode.PASS} no skew at or above the gate; {ExitCode.SKEW} skew found (gate failed); "
    f"{ExitCode.USAGE} usage or configuration error; {ExitCode.AUDIT} the audit itself could not run."
)


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
