"""Model runners: load ``--model`` and run batches; fit pipeline tensors to the model input.

Importing this package does not import TensorFlow: each loader imports it when it needs it.
"""

from skewcheck.models.adapt import Adapted, Mismatch, fit_to_input
from skewcheck.models.base import ModelInfo, ModelRunner, TensorSpec
from skewcheck.models.loader import load_model

__all__ = ["Adapted", "Mismatch", "ModelInfo", "ModelRunner", "TensorSpec", "fit_to_input", "load_model"]
