"""Authentication and authorisation: users, sessions, API tokens, roles, CSRF, throttling."""
