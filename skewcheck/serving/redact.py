"""Header values out of every text an endpoint sends back, before that text is shortened.

A 500 page that echoes the request's ``Authorization`` header must not leave the start of the
token in a report: the whole text is scrubbed first, then cut. A text that was already cut (an
error page read only up to its first KB) may end inside a secret: that partial secret goes too.
"""

from __future__ import annotations

REDACTED = "[redacted]"


class Redactor:
    def __init__(self, headers: tuple[tuple[str, str], ...]) -> None:
        values = [v for _, v in headers if v]
        tokens = [v.split(" ", 1)[-1] for v in values if " " in v]  # "Bearer TOKEN": the token alone too
        self.secrets = sorted({s for s in values + tokens if s}, key=len, reverse=True)  # longest first

    def scrub(self, text: str, cut: bool = False) -> str:
        """``text`` without any secret; ``cut``: it was cut short, so a secret's start at its end goes too."""
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        if cut:
            text = self._without_partial_secret_at_end(text)
        return text

    def clip(self, text: str, limit: int, cut: bool = False) -> str:
        """One line of at most ``limit`` characters (plus "…"), scrubbed before it is shortened."""
        line = " ".join(self.scrub(text, cut).split())
        return line if len(line) <= limit else line[:limit] + "…"

    def _without_partial_secret_at_end(self, text: str) -> str:
        for secret in self.secrets:
            for n in range(min(len(secret) - 1, len(text)), 0, -1):
                if text.endswith(secret[:n]):
                    return text[:-n] + REDACTED
        return text
