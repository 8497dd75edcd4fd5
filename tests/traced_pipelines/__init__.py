"""Pipelines spread over modules as a service's code is: decode, resize and normalize in their own
files, called from train.py and serve.py (tests/tracing/test_line_trace.py names their lines exactly)."""
