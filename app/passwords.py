"""Password and token hashing."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


def password_hasher() -> PasswordHasher:
    """argon2id with the library's recommended parameters."""
    return PasswordHasher()


def hash_password(password: str, hasher: PasswordHasher | None = None) -> str:
    """An argon2id hash of `password`."""
    return (hasher or password_hasher()).hash(password)


def verify_password(
    password_hash: str, password: str, hasher: PasswordHasher | None = None
) -> bool:
    """True when `password` matches the stored hash."""
    try:
        return (hasher or password_hasher()).verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def generate_password() -> str:
    """A random password for a new admin, shown once."""
    return secrets.token_urlsafe(15)


def hash_token(token: str) -> str:
    """SHA-256 of a high-entropy API or session token (lookup key; never store the token)."""
    return hashlib.sha256(token.encode()).hexdigest()
