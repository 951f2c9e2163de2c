"""Roles and the authenticated principal of a request."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """What a user or token may do: viewer reads, operator controls jobs, admin configures."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        """Higher ranks include every right of the lower ones."""
        return _RANKS[self]

    def allows(self, required: Role) -> bool:
        """True when this role has at least the rights of `required`."""
        return self.rank >= required.rank


_RANKS = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}


def least(first: Role, second: Role) -> Role:
    """The weaker of two roles (a token never has more rights than its user)."""
    return first if first.rank <= second.rank else second


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user through a browser session, or an API token."""

    tenant_id: int
    tenant_name: str
    user_id: int
    email: str
    role: Role
    via: str  # "session" or "token"
    session_id: int | None = None
    token_id: int | None = None
    token_name: str | None = None

    @property
    def actor(self) -> str:
        """How logs, runs and settings name this caller."""
        if self.via == "token":
            return f"token:{self.token_name} ({self.email})"
        return self.email

    def allows(self, required: Role) -> bool:
        """True when the caller has at least the `required` role."""
        return self.role.allows(required)
