"""The residual findings: what no named cause explains, reported as such (grade.py's rules).

Flipped images whose only findings were measured to change nothing join the ``prediction``
catch-all (or make one); grossly changed images no detector explains make one ``unexplained``
finding.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from skewcheck.attribution.damage import share_severity
from skewcheck.findings import Finding, Severity

if TYPE_CHECKING:
    from skewcheck.attribution.grade import RunTotals


RESIDUAL_EXPLANATION = (
    "{n} flipped image(s) carry no finding whose repair changes anything measurable: "
    "the difference that flips them is one no detector names."
)


def unexplained_flips(
    findings: list[Finding], flipped_sets: dict[frozenset[Any], int], run: RunTotals
) -> list[Finding]:
    """Flips on images whose only findings were measured to change nothing (``info``) are the
    residual: they join the ``prediction`` catch-all, or make one, graded by the flips it holds."""
    weak = {f.key for f in findings if f.severity == Severity.INFO}
    n = sum(count for keys, count in flipped_sets.items() if keys and keys <= weak)
    if not n:
        return []
    catch_all = next((f for f in findings if f.kind == "prediction"), None)
    if catch_all is not None:
        catch_all.images += n
        catch_all.flips += n
        catch_all.flips_on_images += n
        catch_all.severity = max(catch_all.severity, share_severity(catch_all.flips, run.predicted) or Severity.MINOR)
        return []
    return [
        Finding(
            "prediction",
            max(Severity.MINOR, share_severity(n, run.predicted) or Severity.MINOR),
            "unknown",
            {"unexplained_flips": n},
            RESIDUAL_EXPLANATION.format(n=n),
            "Inspect the worst images' tensors; pin decoder/resize libraries and versions on both sides.",
            images=n,
            flips=n,
            flips_on_images=n,
            key=("prediction", "unknown", "residual"),
        )
    ]


UNEXPLAINED_EXPLANATION = (
    "{n} serve tensor(s) grossly differ from train's (even averaged over 8×8 cells) and no detector "
    "names a cause that moves an image this far{named}: a bug no known cause matches (noise, blank "
    "or foreign images, a stamp, a wrong crop or file)."
)


def unexplained_inputs(run: RunTotals) -> list[Finding]:
    """Grossly changed images that no detector explains: the tensors' residual, as one finding
    (``minor`` here; grading raises it by the gross-image floor every finding gets)."""
    n = run.gross_unexplained
    if not n:
        return []
    named = ", ".join(f"{kind} on {count}" for kind, count in sorted(run.gross_named.items()))
    finding = Finding(
        "unexplained",
        Severity.MINOR,
        "unknown",
        {"gross_images": n},
        UNEXPLAINED_EXPLANATION.format(
            n=n, named=f" (named on them, too small a cause alone: {named})" if named else ""
        ),
        "Look at the example images' serve tensors next to train's; log what the serving side "
        "feeds the model for these files.",
        images=n,
        examples=list(run.gross_examples),
        gross_images=n,
        key=("unexplained", "unknown", "residual"),
    )
    return [finding]
