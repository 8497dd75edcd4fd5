"""The exit codes, and the errors that map to them (usage: 2, the audit could not run: 3)."""

from collections.abc import Callable
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


def safe_text(value: object, describe: Callable[[object], object] = str) -> str:
    """``str(value)`` (or ``repr`` when ``describe`` is ``repr``) that cannot raise: user objects
    (a pipeline's exception, a ``sys.exit`` code) may define ``__str__`` / ``__repr__`` that raise
    or return a non-string, and describing them must never end the audit. Ctrl-C still stops it."""
    try:
        text = describe(value)
        return text if type(text) is str else str.__str__(text)  # a str subclass's methods are the user's too
    except KeyboardInterrupt:
        raise
    except BaseException:  # noqa: BLE001 (whatever the user's method raised)
        name = getattr(describe, "__name__", "str")
        return f"<{type_name(value)} whose __{name}__ raised>"


def type_name(value: object) -> str:
    """The name of ``value``'s type, read without running a metaclass's code."""
    try:
        return str(type.__getattribute__(type(value), "__name__"))
    except Exception:  # noqa: BLE001
        return "object"


def one_line(exc: BaseException, limit: int = 240) -> str:
    """The first non-empty line of an exception message, shortened: never a traceback, never raises."""
    text = safe_text(exc).strip()
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    if not line:
        line = type_name(exc)
    return line if len(line) <= limit else line[: limit - 1] + "…"


class UsageError(Exception):
    """Bad flag, missing file, unreadable reference, unloadable model: one line for the user."""


class AuditError(Exception):
    """The audit itself could not run (exit code 3), e.g. every image failed in the model."""
