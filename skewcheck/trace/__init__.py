"""Line tracing of Python pipelines: where in the user's code the two sides first diverge.

``digest`` (a compact copy of one intermediate image), ``user_files`` (which frames are the
user's), ``recorder`` (the ``sys.settrace`` tracer), ``align`` (matching two traces under the
known alignments) and ``locations`` (the audit's entry point: choose images, trace, attach).
"""
