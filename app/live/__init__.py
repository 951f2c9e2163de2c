"""Live events for the dashboard: one LISTEN connection fanned out to SSE clients by tenant."""

from app.live.hub import EventHub, HubFullError, HubStats
from app.live.model import REFRESH, LiveEvent
from app.live.sse import EventStreamResponse, encode_comment, encode_event, sse_endpoint
from app.live.subscription import Subscription

__all__ = [
    "REFRESH",
    "EventHub",
    "EventStreamResponse",
    "HubFullError",
    "HubStats",
    "LiveEvent",
    "Subscription",
    "encode_comment",
    "encode_event",
    "sse_endpoint",
]
