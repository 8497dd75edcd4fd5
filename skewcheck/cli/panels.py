"""Help that lists a command's options in panels: the ``rich_help_panel`` of each option, as
plain text sections (the app renders help without rich), in the order of
:data:`skewcheck.config.options.PANELS`; options without a panel (``--help``) come last."""

from __future__ import annotations

from typing import Any

from typer.core import TyperCommand

from skewcheck.config.options import PANELS


class PanelledCommand(TyperCommand):
    def format_options(self, ctx: Any, formatter: Any) -> None:  # typer's vendored click types
        sections: dict[str, list[tuple[str, str]]] = {}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is not None:
                sections.setdefault(getattr(param, "rich_help_panel", None) or "Options", []).append(record)
        order = list(PANELS.values())
        for panel in sorted(sections, key=lambda p: order.index(p) if p in order else len(order)):
            with formatter.section(panel):
                formatter.write_dl(sections[panel])
