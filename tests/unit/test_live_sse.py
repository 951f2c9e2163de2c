"""The server-sent-event wire format and the per-event frame cache."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from app.events import event_payload
from app.live.model import LiveEvent, parse_payload, refresh_event
from app.live.sse import encode_comment, encode_event, event_frame


def log_event(message: str = "page 1 stored") -> LiveEvent:
    payload = event_payload(1, "log", message=message)
    return LiveEvent(3, "e-3", 1, "log", parse_payload(payload), payload)


def test_an_event_has_id_event_and_data_lines_and_ends_with_a_blank_line() -> None:
    assert encode_event('{"a":1}', event="progress", event_id="e-7") == (
        b'id: e-7\nevent: progress\ndata: {"a":1}\n\n'
    )


def test_multi_line_data_becomes_one_data_line_per_line() -> None:
    html = '<div id="job-1">\r\n  <b>running</b>\r</div>'
    assert encode_event(html, event="job") == (
        b'event: job\ndata: <div id="job-1">\ndata:   <b>running</b>\ndata: </div>\n\n'
    )


def test_empty_data_sends_no_data_line_so_nothing_is_dispatched() -> None:
    assert encode_event("", retry_ms=3000) == b"retry: 3000\n\n"
    assert encode_event("", event_id="e-9") == b"id: e-9\n\n"


def test_comments_keep_the_stream_alive() -> None:
    assert encode_comment("keep-alive") == b": keep-alive\n\n"


@pytest.mark.parametrize("field", ["event_id", "event"])
def test_a_field_with_a_line_break_is_refused(field: str) -> None:
    with pytest.raises(ValueError, match="line break"):
        encode_event("x", **{field: "a\nb"})  # type: ignore[arg-type]


def test_the_frame_is_the_json_payload_without_a_renderer() -> None:
    event = log_event()
    assert event_frame(event) == (
        b'id: e-3\nevent: log\ndata: {"tenant_id":1,"kind":"log","message":"page 1 stored"}\n\n'
    )


def test_a_renderer_replaces_the_json_and_runs_once_per_event() -> None:
    calls: list[str] = []

    def render(event: LiveEvent) -> str | None:
        calls.append(event.kind)
        return f"<li>{event.data['message']}</li>" if event.kind == "log" else None

    event = log_event()
    for _ in range(3):
        assert (
            event_frame(event, render) == b"id: e-3\nevent: log\ndata: <li>page 1 stored</li>\n\n"
        )
    assert calls == ["log"]
    assert b'"kind":"log"' in event_frame(event)  # another renderer, its own frame


def test_an_event_the_renderer_skips_only_moves_the_resume_point() -> None:
    assert event_frame(log_event(), lambda _event: None) == b"id: e-3\n\n"


def test_a_refresh_the_renderer_skips_still_goes_out_as_json() -> None:
    refresh = refresh_event("e", 8, 1, "overflow")
    assert event_frame(refresh, lambda _event: None) == (
        b'id: e-8\nevent: refresh\ndata: {"tenant_id":1,"kind":"refresh","reason":"overflow"}\n\n'
    )


def test_a_failing_renderer_is_logged_and_the_event_skipped() -> None:
    def render(event: LiveEvent) -> str | None:
        raise KeyError("job")

    with capture_logs() as logs:
        assert event_frame(log_event(), render) == b"id: e-3\n\n"
    assert [(entry["event"], entry["log_level"]) for entry in logs] == [
        ("rendering a live event failed", "error")
    ]
