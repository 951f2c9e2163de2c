"""The web process: JSON API under /api/v1, login, health, metrics (Starlette)."""
