"""Settings from the environment."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from app.config import ConfigError, load_settings


def test_secret_key_is_generated_once_with_private_mode(tmp_path: Path) -> None:
    env = {"SLUICE_HOME": str(tmp_path / "home")}
    first = load_settings(env)
    second = load_settings(env)
    key_file = tmp_path / "home" / "secret_key"
    assert first.secret_key == second.secret_key == key_file.read_text().strip()
    assert len(first.secret_key) >= 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first.embedded and first.database_url is None
    assert first.qdrant_path == (tmp_path / "home" / "qdrant").resolve()


def test_environment_values_win(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "SLUICE_HOME": str(tmp_path),
            "DATABASE_URL": "postgresql://u@h/db",
            "SLUICE_SECRET_KEY": "k" * 40,
            "SLUICE_LOG_FORMAT": "JSON",
            "QDRANT_URL": "http://127.0.0.1:6333",
        }
    )
    assert settings.database_url == "postgresql://u@h/db" and not settings.embedded
    assert settings.secret_key == "k" * 40
    assert settings.log_format == "json"
    assert settings.qdrant_url == "http://127.0.0.1:6333"
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SLUICE_LOG_FORMAT": "xml"}, "SLUICE_LOG_FORMAT='xml' is not one of"),
        ({"SLUICE_LOG_LEVEL": "loud"}, "SLUICE_LOG_LEVEL='LOUD' is not one of"),
        ({"SLUICE_SECRET_KEY": "short"}, "at least 32 characters"),
    ],
)
def test_bad_values_are_refused_clearly(tmp_path: Path, env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings({"SLUICE_HOME": str(tmp_path), **env})
