"""`llm` plugin entry point for the offline default models (filled in by the text enrichment issue)."""
