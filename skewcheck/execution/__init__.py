"""Execution: how an audit's images reach comparison — one :class:`~skewcheck.execution.engine.Engine`
protocol, three engines, one :func:`~skewcheck.execution.image_runs.run_image`.

:func:`~skewcheck.execution.engine.get_engine` picks the engine once per audit (skewcheck/audit.py):

- :class:`~skewcheck.execution.local.SerialEngine`: the pipelines in the audit's process;
- :class:`~skewcheck.execution.local.PoolEngine` (``--workers N``): in a
  :class:`~skewcheck.execution.pool.PipelinePool` of worker processes (:mod:`.worker`, messages in
  :mod:`.messages`, decoded files handed over in :mod:`.handoff`), fed ahead by a
  :class:`~skewcheck.execution.prefetch.Prefetch` thread;
- :class:`skewcheck.engines.ray_engine.RayEngine` (``--engine ray``): on Ray Data, whose pipeline
  actors each own a pool of one, and whose model actors predict.

Each yields, in file order, one :class:`~skewcheck.execution.pair.Pair` per image, made by the same
``run_image()``; everything after that (the model where the engine did not predict, comparison,
diagnosis, attribution, ranking, reports) is the same code, so the report is the same whatever the
engine (``summary.engine`` aside, where the engine has something to say).

**Predictions.** An engine with a model stage (Ray's model actors) sends them with the pair; the
audit predicts, one batched call per side and chunk, for every pair that came without.

**Pair facts: one policy** (:class:`~skewcheck.execution.engine.FactsPolicy`). A pair's facts
(skewcheck/diagnose/facts.py: the value fit, the residual, the decoded file) are a cache, never a
result: ``run_image`` measures them next to the tensors when the engine gives it the diagnosis's
hints, and a pair that arrives without them has them measured by the detectors in the audit's
process, from the same tensors with the same numbers. So who measures follows who has time: the
hints are given whenever the image runs in the audit's process, and to a worker only while the audit
has at least ``FACTS_BACKLOG_CHUNKS`` chunks waiting (else the audit's process, about to wait, does
it). Whatever the engine, a pair comes without facts when its tensors are over ``FACTS_MAX_BYTES``,
when its worker died or could not send them, and from Ray, whose actors cannot read the driver's hints.
"""
