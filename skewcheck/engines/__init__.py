"""Remote engines: ``--engine ray`` (:mod:`skewcheck.engines.ray_engine`, the actors in
:mod:`skewcheck.engines.ray_stages`).

A remote engine implements the same :class:`skewcheck.execution.engine.Engine` protocol as the
local ones (:mod:`skewcheck.execution.local`): ``pairs(root, files, repeats)`` yields one
:class:`~skewcheck.execution.pair.Pair` per image, in file order, here with the model's predictions
from its model actors, and ``summary()`` says which images Ray retried or lost (``summary.engine``).
The API builds it before anything loads (``skewcheck/api.py`` ``_engine``: a missing Ray or an
unreachable cluster is a usage error in a second), and :func:`skewcheck.execution.engine.get_engine`
hands it to the audit. Everything after the pairs is the local engines' code, so the report is the
same. Nothing here imports Ray at the top except ``ray_stages``, which only the engine imports.
"""
