"""Reads a corpus of Markdown digests and builds the search index."""
