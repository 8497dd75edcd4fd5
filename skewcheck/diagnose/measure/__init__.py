"""The measuring helpers the detectors share: the value fit (fit), the residual it leaves (residual),
the file's own decode (reference), the file re-rendered other ways (rerender, rerender_repair) and
the resize policy of dynamic-size pipelines (resize_policy). No detector lives here."""
