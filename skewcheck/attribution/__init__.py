"""Attribution by repair: what undoing each finding's cause recovers, measured on a seeded sample.

Detectors say what differs; this stage says what it costs. For every finding with a repair
(``Observation.repair``), a bounded sample of its images gets the repair applied alone to the
serve tensor, the model runs on the repaired tensors (batched, per chunk, while the tensors still
exist) and the flips it brings back, the agreement and accuracy after the fix and the share of the
tensor difference it removes are tallied. All repairs of an image applied together give the
residual: what no finding explains. ``grade`` then ranks and grades findings by those numbers.
"""

from skewcheck.attribution.grade import grade_and_rank
from skewcheck.attribution.measure import Attributor
from skewcheck.attribution.sample import AttributionSample, repeat_indices

__all__ = ["AttributionSample", "Attributor", "grade_and_rank", "repeat_indices"]
