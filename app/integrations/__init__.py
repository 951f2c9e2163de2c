"""Source systems (Jira, GitHub, …): a registry of providers that extract raw pages."""
