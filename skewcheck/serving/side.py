"""An endpoint as the serve side: a Pipeline (one outcome per image) that is also the serve side's
prediction source (the audit asks it, not the local model, for serve's predictions).

``image`` mode: the file's bytes are the request; the serve outcome has no tensor (the service
decodes and preprocesses on its own), so serve is known by its predictions only.
``tensor`` mode: the serve outcome is the train pipeline's tensor for the image, and that tensor
is the request: only the served model and its runtime differ from the local model.

The local model's predictions on train's tensors show what the deployed model's answers look
like: the client checks every answer against them (skewcheck.serving.protocol.unlike_model).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from skewcheck.comparison.predict import SidePrediction
from skewcheck.errors import one_line
from skewcheck.images.source import ImageFile, read_image_bytes
from skewcheck.pipelines.base import Pipeline
from skewcheck.pipelines.outcome import Outcome
from skewcheck.serving.client import EndpointClient
from skewcheck.serving.endpoint import Endpoint

IMAGE_NOTE = "no tensor: the endpoint decodes and preprocesses the file itself"


class EndpointSide:
    def __init__(self, endpoint: Endpoint, train: Pipeline) -> None:
        self.endpoint = endpoint
        self.ref = endpoint.ref
        self.description = endpoint.description
        self.train = train
        self.client = EndpointClient(endpoint)

    @property
    def image_mode(self) -> bool:
        return self.endpoint.input == "image"

    def open(self) -> None:
        self.client.check()

    def close(self) -> None:
        self.client.close()

    def stats(self, images: int) -> dict[str, object]:
        """What the report says about the endpoint: never its headers."""
        c = self.client
        return {
            "url": self.endpoint.url,
            "protocol": self.endpoint.protocol,
            "input": self.endpoint.input,
            "requests": c.requests,
            "seconds": round(c.seconds, 3),
            "images_per_s": round(images / c.seconds, 1) if c.seconds > 0 else None,
        }

    def run(self, path: ImageFile) -> Outcome:
        if self.image_mode:
            return Outcome(status="ok", notes=[IMAGE_NOTE])
        outcome = self.train.run(path)
        outcome.notes = [*outcome.notes, f"the train pipeline's tensor, sent to {self.endpoint.url}"]
        return outcome

    def predict(
        self,
        files: list[ImageFile],
        outcomes: list[Outcome],
        model_answers: Sequence[SidePrediction | None] = (),
    ) -> list[SidePrediction | None]:
        """The endpoint's predictions for a chunk of images (None where nothing could be sent);
        ``model_answers``: the local model's predictions of the train side, what an answer must look like."""
        self._learn_model(model_answers)
        items: list[bytes | np.ndarray | None] = []
        unreadable: dict[int, str] = {}
        for i, (file, outcome) in enumerate(zip(files, outcomes, strict=True)):
            if not self.image_mode:
                items.append(outcome.tensor if outcome.ok else None)
                continue
            try:
                items.append(read_image_bytes(file))
            except OSError as exc:
                items.append(None)
                unreadable[i] = f"{type(exc).__name__}: {one_line(exc, limit=200)}"
        preds = self.client.predict(items)
        for i, reason in unreadable.items():
            preds[i] = SidePrediction(error=reason)
        return preds

    def _learn_model(self, answers: Sequence[SidePrediction | None]) -> None:
        """The client checks answers against the model's outputs once it has seen one image's."""
        if self.client.model_shapes is None:
            seen = next((p.outputs for p in answers if p is not None and p.outputs is not None), None)
            if seen is not None:
                self.client.model_shapes = [np.shape(o) for o in seen]
