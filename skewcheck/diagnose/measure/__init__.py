"""The measuring helpers the detectors share: the value fit (fit, with the pair's moments and the
padded regions it keeps out: moments, pad_box), the residual it leaves (residual), the file's own
decode (reference), the file re-rendered other ways (rerender, rerender_repair) and the resize
policy of dynamic-size pipelines (resize_policy). No detector lives here."""
