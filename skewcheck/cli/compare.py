"""`skewcheck compare` (placeholder)."""
