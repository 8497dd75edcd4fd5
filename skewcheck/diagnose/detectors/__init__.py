"""The built-in detectors, one module each (with the helpers only they use: color_roundtrip and
gray_library for color_conversion). Which exist and in which order they run: skewcheck/diagnose/__init__.py."""
