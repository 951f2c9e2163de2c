"""A uvicorn server that ends live event streams as soon as its shutdown begins."""

from __future__ import annotations

import socket
from collections.abc import Callable

import uvicorn

from app.live.hub import EventHub


class LiveEventsServer(uvicorn.Server):
    """uvicorn's Server, ending the hub's streams when it starts shutting down.

    uvicorn waits for every open response to finish before it runs the lifespan's
    shutdown, and an event stream never finishes by itself: without this, a SIGTERM
    waits for every dashboard to close (or for `timeout_graceful_shutdown`, which then
    cancels the streams with a traceback each)."""

    def __init__(self, config: uvicorn.Config, hub_of: Callable[[], EventHub | None]) -> None:
        super().__init__(config)
        self.hub_of = hub_of

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        hub = self.hub_of()
        if hub is not None:
            hub.end_streams()
        await super().shutdown(sockets)
