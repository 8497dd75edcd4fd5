"""`skewcheck probe-images` (placeholder until the probe catalogue lands)."""
