"""`sluice search`: a tenant's best-matching work items and pull requests."""

from __future__ import annotations

import argparse
from typing import Any

from app.cli.commands_queue import positive_int, tenant_by_name
from app.cli.errors import CommandError
from app.config import Settings
from app.db import connect, resolve_database_url

ENTITY_CHOICES = ("work_item", "pull_request")


def register(commands: Any) -> None:
    """Add the search command to the command tree."""
    search = commands.add_parser(
        "search", help="search a tenant's vectorized work items and pull requests"
    )
    search.add_argument("--tenant", required=True, metavar="NAME", help="the tenant to search")
    search.add_argument("text", help="what to look for")
    search.add_argument(
        "--limit", type=positive_int, default=10, help="most matches printed (default 10)"
    )
    search.add_argument(
        "--entity", choices=ENTITY_CHOICES, help="only work items or only pull requests"
    )
    search.set_defaults(handler=run_search)


async def run_search(args: argparse.Namespace, settings: Settings) -> int:
    """`sluice search`: one match per line: score, key, title."""
    # Imported here: the Qdrant client takes most of a second to import.
    from app.vectors.embedders import EmbedderError, embedder_from_env
    from app.vectors.errors import VectorStoreError
    from app.vectors.service import open_vector_store, search_text

    text = args.text.strip()
    if not text:
        raise CommandError("the search text is empty: give some words to look for", exit_code=2)
    conn = await connect(resolve_database_url(settings), autocommit=True)
    async with conn:
        tenant = await tenant_by_name(conn, args.tenant)
    try:
        embedder = embedder_from_env()
        async with open_vector_store(settings, embedder) as store:
            hits = await search_text(store, embedder, tenant["id"], text, args.limit, args.entity)
    except (EmbedderError, VectorStoreError) as exc:
        raise CommandError(str(exc)) from exc
    if not hits:
        print(f"no results for {text!r} in {tenant['name']}")
        return 0
    width = max(len(h.key) for h in hits)
    for hit in hits:
        print(f"{hit.score:.3f}  {hit.key.ljust(width)}  {hit.title}")
    return 0
