"""Process configuration read once from the environment."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name


class ConfigError(Exception):
    """A setting in the environment is missing or malformed."""


@dataclass(frozen=True)
class Settings:
    """Everything a Sluice process reads from its environment."""

    database_url: str | None
    home: Path
    secret_key: str
    log_format: str  # "auto", "json" or "console"
    log_level: str
    qdrant_url: str | None
    qdrant_api_key: str | None
    qdrant_path: Path

    @property
    def embedded(self) -> bool:
        """True when no DATABASE_URL is given and the embedded PostgreSQL is used."""
        return self.database_url is None


LOG_FORMATS = ("auto", "json", "console")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read the settings from `env` (default: os.environ), creating SLUICE_HOME if needed."""
    env = dict(os.environ) if env is None else env
    home = Path(env.get("SLUICE_HOME") or ".sluice").expanduser().resolve()
    log_format = env.get("SLUICE_LOG_FORMAT", "auto").lower()
    if log_format not in LOG_FORMATS:
        raise ConfigError(
            f"SLUICE_LOG_FORMAT={log_format!r} is not one of {', '.join(LOG_FORMATS)}"
        )
    log_level = env.get("SLUICE_LOG_LEVEL", "INFO").upper()
    if log_level not in LOG_LEVELS:
        raise ConfigError(f"SLUICE_LOG_LEVEL={log_level!r} is not one of {', '.join(LOG_LEVELS)}")
    database_url = env.get("DATABASE_URL") or None
    secret_key = env.get("SLUICE_SECRET_KEY") or _secret_key_from_home(home)
    if len(secret_key) < 32:
        raise ConfigError("SLUICE_SECRET_KEY must be at least 32 characters long")
    return Settings(
        database_url=database_url,
        home=home,
        secret_key=secret_key,
        log_format=log_format,
        log_level=log_level,
        qdrant_url=env.get("QDRANT_URL") or None,
        qdrant_api_key=env.get("QDRANT_API_KEY") or None,
        qdrant_path=home / "qdrant",
    )


def _secret_key_from_home(home: Path) -> str:
    """Return the key kept in SLUICE_HOME, generating it (mode 0600) on first use."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / SECRET_KEY_FILE
    if not path.exists():
        # Write a complete file under a private name, then link it into place: a process
        # racing this one either wins the link or reads the winner's complete key.
        tmp = home / f".{SECRET_KEY_FILE}.{os.getpid()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()
