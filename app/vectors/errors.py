"""Errors of the vector store, worded for the person who has to act on them."""

from __future__ import annotations


class VectorStoreError(Exception):
    """Qdrant cannot be reached or refused a request."""


class VectorStoreBusyError(VectorStoreError):
    """Another process held the local Qdrant folder for longer than we could wait."""
