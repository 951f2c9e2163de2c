"""Keyset pagination: `?limit=&cursor=`, answered by `{"items": [...], "next_cursor": ...}`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializeAsAny,
    field_validator,
)

from app.web.routing import MAX_ID, NUL_MESSAGE

DEFAULT_LIMIT = 50
MAX_LIMIT = 500

T = TypeVar("T", bound=BaseModel)
_DATE_AND_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}")


def _date_time_text(value: object) -> object:
    """Only a date and time, as the OpenAPI document says: pydantic alone would also read
    "1714521600" (or 0.5) as seconds since 1970, and a bare date as its midnight."""
    if isinstance(value, datetime):
        return value
    problem = "give a date and time in ISO 8601, e.g. 2024-05-01T00:00:00Z"
    if not isinstance(value, str) or not _DATE_AND_TIME.match(value.strip()):
        raise ValueError(problem)
    try:  # parsed here, so that a strictly validated JSON body takes it too
        return datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(problem) from None


Timestamp = Annotated[datetime, BeforeValidator(_date_time_text)]
# A row id in a filter: past PostgreSQL's bigint it could only fail in the database.
RowId = Annotated[int, Field(ge=1, le=MAX_ID)]


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

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        """A filter with a NUL character is refused (pages use these models too)."""
        if isinstance(value, str) and "\x00" in value:
            raise ValueError(NUL_MESSAGE)
        return value

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
