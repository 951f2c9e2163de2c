"""A schemathesis fuzz run of the JSON API from its own OpenAPI document.

Every operation of `/api/v1/openapi.json` is called with generated valid and invalid
parameters and bodies, as an admin with a bearer token, against the app served by uvicorn
on 127.0.0.1 over a populated database: no answer is a 5xx, and every answer has a
documented status, content type and a body that matches its documented schema. The
default run keeps to a few examples per operation, the same ones every time;
SLUICE_FUZZ_EXAMPLES asks for more, and SLUICE_FUZZ_RANDOM=1 for new ones on each run.
"""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from collections.abc import Iterator

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.web.api import document
from app.web.app import create_app
from tests.integration.test_web_harness import World, owner_rows, web_db_url, world

__all__ = ["web_db_url", "world"]

EXAMPLES = int(os.environ.get("SLUICE_FUZZ_EXAMPLES", "12"))
RANDOM = os.environ.get("SLUICE_FUZZ_RANDOM") == "1"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
    ignored_auth,
]
# A fuzzed DELETE /tokens/{id} or PATCH /users/{id} could revoke the fuzzing token itself:
# its id sits far past anything generated, and its user is a second admin.
FUZZ_TOKEN_ID = 7_300_000_000_001

schema = schemathesis.openapi.from_dict(document())
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])


@pytest.fixture(scope="module")
def fuzz_token(world: World) -> str:
    """A bearer token of a WEX admin that the fuzzed operations cannot reach by id."""
    from app.auth.tokens import new_api_token
    from app.passwords import hash_token

    token, prefix = new_api_token()
    [(admin_id,)] = owner_rows(
        world.url,
        "SELECT id FROM users WHERE tenant_id = %s AND role = 'admin' ORDER BY id LIMIT 1",
        (world.tenant_ids["WEX"],),
    )
    owner_rows(
        world.url,
        "INSERT INTO api_tokens (tenant_id, id, user_id, name, token_prefix, token_hash, role) "
        "OVERRIDING SYSTEM VALUE VALUES (%s, %s, %s, 'fuzz', %s, %s, 'admin')",
        (world.tenant_ids["WEX"], FUZZ_TOKEN_ID, admin_id, prefix, hash_token(token)),
    )
    return token


@pytest.fixture(scope="module")
def served_url(world: World) -> Iterator[str]:
    """The app served by uvicorn from a thread of its own (schemathesis calls are blocking)."""
    app = create_app(world.settings, database_url=world.url)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_config=None, lifespan="on", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    for _ in range(400):
        if server.started:
            break
        assert thread.is_alive(), "uvicorn did not start"
        threading.Event().wait(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not RANDOM,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_documented(
    case: schemathesis.Case, served_url: str, fuzz_token: str
) -> None:
    case.call_and_validate(
        base_url=served_url,
        headers={"Authorization": f"Bearer {fuzz_token}"},
        checks=CHECKS,
        timeout=30,
    )


def test_the_fuzz_token_is_out_of_reach(world: World, fuzz_token: str) -> None:
    assert FUZZ_TOKEN_ID > 2**32 and uuid.UUID(int=FUZZ_TOKEN_ID)  # never a small id
    [(revoked,)] = owner_rows(
        world.url, "SELECT revoked_at FROM api_tokens WHERE id = %s", (FUZZ_TOKEN_ID,)
    )
    assert revoked is None
