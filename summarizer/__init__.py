"""summarizer: news articles in, one consolidated brief out, every figure checked against its source."""

__version__ = "0.1.0"
