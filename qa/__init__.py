"""Retrieval-based question answering over Chinese government work reports, with citations."""

__version__ = "0.1.0"
