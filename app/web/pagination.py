"""Keyset pagination: `?limit=&cursor=`, answered by `{"items": [...], "next_cursor": ...}`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny

DEFAULT_LIMIT = 50
MAX_LIMIT = 500

T = TypeVar("T", bound=BaseModel)


class PageQuery(BaseModel):
    """The paging parameters every list accepts."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(
        DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"items per page (1-{MAX_LIMIT})"
    )
    cursor: str | None = Field(
        None,
        pattern=r"^[0-9]{1,18}$",
        description="the `next_cursor` of the previous page (opaque)",
    )

    def after(self) -> int | None:
        """The key the next page starts after (None: the first page)."""
        return int(self.cursor) if self.cursor is not None else None

    def page_params(self) -> dict[str, Any]:
        """The SQL parameters: one row more than the page, to know whether another follows."""
        return {"cursor": self.after(), "limit": self.limit + 1}


class Page(BaseModel, Generic[T]):
    """One page of a list."""

    items: list[SerializeAsAny[T]]
    next_cursor: str | None = Field(
        description="pass as `cursor` for the next page; null on the last page"
    )


def page_of(
    rows: Sequence[dict[str, Any]],
    query: PageQuery,
    model: type[T],
    key: str = "id",
) -> Page[T]:
    """A page of `model` items from rows fetched with `page_params` (limit + 1 at most)."""
    items = [model.model_validate(dict(row)) for row in rows[: query.limit]]
    more = len(rows) > query.limit
    return Page[T](items=items, next_cursor=str(rows[query.limit - 1][key]) if more else None)
