"""lse — LangSmith extractor: lossless archive, golden datasets, LLM evaluations."""

__version__ = "0.1.0"
