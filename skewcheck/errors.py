"""Errors that mean the user asked for something that cannot be done (exit code 2)."""


class UsageError(Exception):
    """Bad flag, missing file, unreadable reference, unloadable model: one line for the user."""


class AuditError(Exception):
    """The audit itself could not run (exit code 3), e.g. every image failed in the model."""
