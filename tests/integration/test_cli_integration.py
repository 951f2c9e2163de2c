"""`sluice integration add|test` and `sluice sync` through the real CLI, against the sandbox."""

from __future__ import annotations

import psycopg

from app.sandbox import SandboxDataset, SandboxServers
from tests.conftest import SluiceRunner

SECRET = {"SLUICE_SECRET_KEY": "s" * 40}


def add(run_sluice: SluiceRunner, url: str, *args: str) -> tuple[int, str, str]:
    result = run_sluice(
        "integration", "add", "--tenant", "Apple", *args, database_url=url, env=SECRET
    )
    return result.returncode, result.stdout, result.stderr


def test_add_and_test_integrations_against_the_sandbox(
    run_sluice: SluiceRunner, fresh_db_url: str
) -> None:
    with SandboxServers(SandboxDataset(issues=20, repos=1, pull_requests=2)) as sandbox:
        code, out, err = add(
            run_sluice,
            fresh_db_url,
            "--provider",
            "jira",
            "--base-url",
            sandbox.jira_url,
            "--token",
            "sandbox-token",
            "--username",
            "me@apple.com",
        )
        assert code == 0, err
        jira_id = out.strip().splitlines()[-1]
        assert jira_id.isdigit()
        ok = run_sluice("integration", "test", jira_id, database_url=fresh_db_url, env=SECRET)
        assert ok.returncode == 0, ok.stderr
        assert ok.stdout.startswith("OK: Connected to Jira")

        code, out, _ = add(
            run_sluice,
            fresh_db_url,
            "--provider",
            "github",
            "--base-url",
            sandbox.github_url,
            "--token",
            "wrong-token",
            "--base-search",
            "org:acme",
        )
        bad_token = run_sluice(
            "integration", "test", out.split()[-1], database_url=fresh_db_url, env=SECRET
        )
        assert bad_token.returncode == 1
        assert "GitHub rejected the credentials" in bad_token.stderr
        assert "wrong-token" not in bad_token.stderr + bad_token.stdout

    code, out, _ = add(
        run_sluice,
        fresh_db_url,
        "--provider",
        "jira",
        "--base-url",
        "http://127.0.0.1:9",
        "--token",
        "t",
        "--name",
        "nowhere",
    )
    unreachable = run_sluice(
        "integration", "test", out.split()[-1], database_url=fresh_db_url, env=SECRET
    )
    assert unreachable.returncode == 1
    assert "cannot reach nowhere (http://127.0.0.1:9)" in unreachable.stderr
    assert "Check the integration's URL" in unreachable.stderr

    with psycopg.connect(fresh_db_url) as conn:
        stored = conn.execute(
            "SELECT credentials FROM integrations WHERE id = %s", (int(jira_id),)
        ).fetchone()
        linked = conn.execute(
            "SELECT integration_id FROM etl_jobs j JOIN tenants t "
            "ON t.id = j.tenant_id WHERE t.name = 'Apple' AND provider = 'jira'"
        ).fetchone()
    assert stored is not None and b"sandbox-token" not in bytes(stored[0])
    assert linked == (int(jira_id),)


def test_bad_integration_input_is_refused_clearly(
    run_sluice: SluiceRunner, fresh_db_url: str
) -> None:
    code, _, err = add(
        run_sluice, fresh_db_url, "--provider", "jira", "--base-url", "ftp://jira", "--token", "t"
    )
    assert code == 2 and "must be an http:// or https:// URL" in err
    code, _, err = add(
        run_sluice, fresh_db_url, "--provider", "gitlab", "--base-url", "https://x", "--token", "t"
    )
    assert code == 2 and "invalid choice: 'gitlab'" in err
    code, _, _ = add(
        run_sluice,
        fresh_db_url,
        "--provider",
        "jira",
        "--base-url",
        "https://a.example",
        "--token",
        "t",
    )
    assert code == 0
    code, _, err = add(
        run_sluice,
        fresh_db_url,
        "--provider",
        "jira",
        "--base-url",
        "https://a.example",
        "--token",
        "t",
    )
    assert code == 2 and "already has an integration named" in err
    missing = run_sluice("integration", "test", "4242", database_url=fresh_db_url, env=SECRET)
    assert missing.returncode == 1 and "integration 4242 does not exist" in missing.stderr
    no_tenant = run_sluice("sync", "--tenant", "Nobody", database_url=fresh_db_url, env=SECRET)
    assert no_tenant.returncode == 1 and "no tenant named 'Nobody'" in no_tenant.stderr
    nothing = run_sluice("sync", "--tenant", "Google", database_url=fresh_db_url, env=SECRET)
    assert nothing.returncode == 1 and "no active integration" in nothing.stderr
