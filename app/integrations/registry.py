"""The providers Sluice knows. Adding one (azure_devops, gitlab) is a module and a line here."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from app.integrations.base import IntegrationConfig, IntegrationError, Provider
from app.integrations.github import GitHubProvider
from app.integrations.jira import JiraProvider
from app.logging import without_secret

ProviderFactory = Callable[[IntegrationConfig, httpx.AsyncClient], Provider]

PROVIDERS: dict[str, ProviderFactory] = {
    "jira": JiraProvider,
    "github": GitHubProvider,
}


# The entities a sync extracts for each provider, in order (others follow from these).
SYNC_ENTITIES: dict[str, tuple[str, ...]] = {
    "jira": JiraProvider.entities,
    "github": GitHubProvider.entities,
}


def provider_for(integration: IntegrationConfig, http: httpx.AsyncClient) -> Provider:
    """The provider client for one integration."""
    factory = PROVIDERS.get(integration.provider)
    if factory is None:
        raise IntegrationError(
            f"unsupported provider {integration.provider!r}: use one of {', '.join(PROVIDERS)}"
        )
    return factory(integration, http)


async def check_connection(
    integration: IntegrationConfig, http: httpx.AsyncClient
) -> tuple[bool, str]:
    """Whether the source accepts the integration's URL and token, and what it answered.

    The message never holds the token, even when a source echoes it back."""
    try:
        message = await provider_for(integration, http).validate_connection()
        ok = True
    except IntegrationError as exc:
        message, ok = str(exc), False
    return ok, without_secret(message, integration.token)
