"""Errors that a CLI command reports as one clear line instead of a traceback."""

from __future__ import annotations

from app.config import ConfigError
from app.crypto import CredentialError
from app.db import DatabaseUnavailableError
from app.embedded_pg import EmbeddedDatabaseError
from app.integrations.base import IntegrationError
from app.reprocess import ReprocessError
from app.sync import SyncError
from migrations.runner import MigrationError


class CommandError(Exception):
    """A command cannot do what was asked; the message says what to do instead."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


CLI_ERRORS: tuple[type[Exception], ...] = (
    ConfigError,
    CredentialError,
    DatabaseUnavailableError,
    EmbeddedDatabaseError,
    MigrationError,
    IntegrationError,
    SyncError,
    ReprocessError,
)
