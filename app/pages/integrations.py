"""The integrations page: a card per integration, admin forms, and the connection test.

Tokens are write-only: a card says whether one is stored, a form never fills one back in,
and an empty token field on an edit keeps the stored token.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from app.auth.roles import Role
from app.db import Connection
from app.integrations.registry import PROVIDERS
from app.integrations.store import (
    IntegrationInputError,
    IntegrationNameTakenError,
    check_integration_changes,
    check_new_integration,
    update_integration,
)
from app.pages.fields import FormState, path_choice, shown, submitted, validated
from app.pages.guard import PageCall, page
from app.pages.render import is_htmx
from app.sqlstore import query
from app.web.api_integrations import (
    IntegrationCreate,
    IntegrationPatch,
    run_connection_test,
    store_integration,
)
from app.web.problems import not_found

CREATE_FIELDS = ("provider", "name", "base_url", "username", "token", "base_search")
EDIT_FIELDS = ("name", "base_url", "username", "token", "base_search")
ACTIVE = {"activate": (True, "activated"), "deactivate": (False, "deactivated")}


async def integration_cards(conn: Connection, integration_id: int | None = None) -> list[Any]:
    """The tenant's integrations (or one) with their latest run; never their credentials."""
    cur = await conn.execute(query("integration_cards"), {"id": integration_id})
    return [dict(row) for row in await cur.fetchall()]


async def _card(conn: Connection, integration_id: int) -> dict[str, Any]:
    cards = await integration_cards(conn, integration_id)
    if not cards:
        raise not_found("integration", integration_id)
    return dict(cards[0])


def edit_form(card: dict[str, Any]) -> FormState:
    """The edit form of an integration, filled with its stored values (never the token)."""
    return FormState(
        {key: card[key] or "" for key in ("name", "base_url", "username", "base_search")}
    )


def _page_context(
    cards: list[Any],
    add_form: FormState | None = None,
    add_notice: str = "",
    **for_card: dict[int, Any],
) -> dict[str, Any]:
    """The page's context: the cards, the add form, per-card `edits`, `tests`, `notices`."""
    return {
        "cards": cards,
        "add_form": add_form or FormState({"provider": "jira"}),
        "add_notice": add_notice,
        "edits": {card["id"]: edit_form(card) for card in cards} | for_card.get("edits", {}),
        "tests": for_card.get("tests", {}),
        "notices": for_card.get("notices", {}),
    }


@page()
async def integrations_page(call: PageCall) -> Response:
    """GET /integrations: every integration as a card."""
    async with call.tenant() as conn:
        cards = await integration_cards(conn)
    return call.page("integrations.html", **_page_context(cards))


def _create_problems(
    fields: dict[str, str | None],
) -> tuple[IntegrationCreate | None, dict[str, str]]:
    """The new integration's values, or a message for each refused field (all at once)."""
    present = {key: value for key, value in fields.items() if value is not None}
    body, errors = validated(IntegrationCreate, present)
    try:
        check_new_integration(fields["provider"] or "", fields["base_url"], fields["token"])
    except IntegrationInputError as exc:
        errors = {**exc.problems, **errors}
    if fields["provider"] not in PROVIDERS:
        errors["provider"] = "choose Jira or GitHub (custom integrations are added by the API)"
    return (None if errors else body), errors


@page(Role.ADMIN)
async def integration_create(call: PageCall) -> Response:
    """POST /integrations: add a Jira or GitHub integration."""
    fields = submitted(call.form, CREATE_FIELDS)
    body, errors = _create_problems(fields)
    status, new_id = 422, 0
    async with call.tenant() as conn:
        if body is not None:
            try:
                new_id = await store_integration(
                    conn, call.state.services.cipher, call.user.tenant_id, body
                )
                status = 200
            except IntegrationNameTakenError as exc:
                status, errors = 409, exc.problems
        cards = await integration_cards(conn)
    if status == 200:
        if not is_htmx(call.request):
            return call.after_action("/integrations")
        added = next(card["name"] for card in cards if card["id"] == new_id)
        context = _page_context(cards, add_notice=f"Added the integration {added}")
    else:
        context = _page_context(cards, FormState(shown(fields, ["token"]), errors))
    if is_htmx(call.request):
        return call.fragment("_integrations.html", status, **context)
    return call.page("integrations.html", status, **context)


def _edit_problems(provider: str, fields: dict[str, str | None]) -> dict[str, str]:
    """A message for each refused field of an edit (all at once)."""
    _, errors = validated(IntegrationPatch, {k: v for k, v in fields.items() if v is not None})
    try:
        check_integration_changes(provider, _changes(fields), fields["token"])
    except IntegrationInputError as exc:
        errors = {**exc.problems, **errors}
    if not fields["name"]:
        errors["name"] = "a name is required"
    return errors


def _changes(fields: dict[str, str | None]) -> dict[str, Any]:
    """The edit as stored: an empty username or base search clears it."""
    return {key: fields[key] for key in ("name", "base_url", "username", "base_search")}


async def _card_answer(
    call: PageCall,
    card: dict[str, Any],
    status: int = 200,
    *,
    edit: FormState | None = None,
    test: Any = None,
    notice: str = "",
) -> Response:
    """The card for htmx; otherwise the page with it (or back to the page after a change)."""
    if is_htmx(call.request):
        return call.fragment(
            "_integration_card.html",
            status,
            card=card,
            edit=edit or edit_form(card),
            test=test,
            notice=notice,
        )
    if status < 400 and test is None:
        return call.after_action("/integrations")
    async with call.tenant() as conn:
        cards = await integration_cards(conn)
    ident = card["id"]
    context = _page_context(
        cards,
        edits={ident: edit} if edit else {},
        tests={ident: test} if test else {},
        notices={ident: notice} if notice else {},
    )
    return call.page("integrations.html", status, **context)


@page(Role.ADMIN)
async def integration_edit(call: PageCall) -> Response:
    """POST /integrations/{integration_id}/edit: change it; an empty token keeps the stored one."""
    integration_id = call.path_id("integration_id")
    fields = submitted(call.form, EDIT_FIELDS)
    async with call.tenant() as conn:
        card = await _card(conn, integration_id)
        errors = _edit_problems(card["provider"], fields)
        status = 422
        if not errors:
            try:
                await update_integration(
                    conn,
                    call.state.services.cipher,
                    integration_id,
                    provider=card["provider"],
                    changes=_changes(fields),
                    token=fields["token"],
                )
            except IntegrationNameTakenError as exc:
                status, errors = 409, exc.problems
        if not errors:
            card = await _card(conn, integration_id)
            return await _card_answer(call, card, notice=f"Saved {card['name']}")
    edit = FormState(shown(fields, ["token"]), errors)
    return await _card_answer(call, card, status, edit=edit)


@page(Role.ADMIN)
async def integration_active(call: PageCall) -> Response:
    """POST /integrations/{integration_id}/activate|deactivate."""
    integration_id = call.path_id("integration_id")
    active, done = path_choice(call.request.path_params, "action", ACTIVE)
    async with call.tenant() as conn:
        card = await _card(conn, integration_id)
        await update_integration(
            conn,
            call.state.services.cipher,
            integration_id,
            provider=card["provider"],
            changes={"active": active},
            token=None,
        )
        card = await _card(conn, integration_id)
    return await _card_answer(call, card, notice=f"{card['name']} {done}")


@page(Role.OPERATOR)
async def integration_test(call: PageCall) -> Response:
    """POST /integrations/{integration_id}/test: check the stored URL and token at the source."""
    integration_id = call.path_id("integration_id")
    result = await run_connection_test(call.tenant, call.state.services, integration_id)
    if is_htmx(call.request):
        return call.fragment("_integration_test.html", test=result)
    async with call.tenant() as conn:
        card = await _card(conn, integration_id)
    return await _card_answer(call, card, test=result)


ROUTES = [
    Route("/integrations", integrations_page, methods=["GET"], name="integrations"),
    Route("/integrations", integration_create, methods=["POST"], name="integration_create"),
    Route(
        "/integrations/{integration_id:int}/edit",
        integration_edit,
        methods=["POST"],
        name="integration_edit",
    ),
    Route(
        "/integrations/{integration_id:int}/test",
        integration_test,
        methods=["POST"],
        name="integration_test",
    ),
    Route(
        "/integrations/{integration_id:int}/{action}",
        integration_active,
        methods=["POST"],
        name="integration_active",
    ),
]
