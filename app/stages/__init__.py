"""The stage handlers a `sluice worker` runs, by job type."""

from __future__ import annotations

import importlib

from app.queue.context import HandlerRegistry, JobContext


class HandlerLoadError(Exception):
    """A --handlers reference cannot be imported."""


async def vectorize_on_first_use(ctx: JobContext) -> None:
    """The vectorize stage, imported on first use (the Qdrant client is heavy to load)."""
    from app.stages.vectorize import vectorize as run_vectorize

    await run_vectorize(ctx)


def default_handlers() -> HandlerRegistry:
    """The built-in stage handlers, by job type."""
    from app.stages.extract import extract
    from app.stages.load import load
    from app.stages.transform import transform

    registry: HandlerRegistry = {
        "extract": extract,
        "transform": transform,
        "load": load,
        "vectorize": vectorize_on_first_use,
    }
    return registry


def load_handlers(reference: str | None) -> HandlerRegistry:
    """Handlers from `module:attribute` (a registry dict or a function returning one)."""
    if not reference:
        return default_handlers()
    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute:
        raise HandlerLoadError(f"--handlers {reference!r} must look like package.module:name")
    try:
        target = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise HandlerLoadError(f"cannot load handlers from {reference!r}: {exc}") from exc
    registry = target() if callable(target) else target
    if not isinstance(registry, dict):
        raise HandlerLoadError(f"{reference!r} is not a registry of stage handlers")
    return registry


async def close_vector_stores() -> None:
    """Release the vector store if this process opened one (imported lazily: it is heavy)."""
    import sys

    if "app.vectors.service" in sys.modules:
        from app.vectors.service import close_shared_vector_stores

        await close_shared_vector_stores()
