"""Work item / pull request links: issue keys in PR text and Jira dev-status."""

from __future__ import annotations

from typing import Any

import pytest

from app.transform import (
    Failed,
    Ok,
    WorkItemPrLinkRecord,
    dev_status_links,
    keys_in_text,
    pattern_links,
    transform_github_pull_request,
    transform_jira_dev_status,
)
from app.transform.links import pattern_links_in
from tests.unit.test_transform_payloads import (
    dataset,
    dev_status_payload,
    issue_with_dev_status,
    pull_request_node,
)

KNOWN = frozenset({"CORE", "WEB", "DATA", "OPS", "A1"})


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("CORE-12 Fix login", ["CORE-12"]),
        ("Fixes CORE-12, WEB-3 and CORE-12 again", ["CORE-12", "WEB-3"]),
        ("feature/CORE-12-login-flow", ["CORE-12"]),
        ("feature/CORE-12_login", ["CORE-12"]),
        ("(DATA-7)[OPS-8]{WEB-9}", ["DATA-7", "OPS-8", "WEB-9"]),
        ("A1-5 and A1B-5", ["A1-5"]),
        ("XCORE-1 CORE-1a core-1 Core-1 CORE- CORE-x", []),
        ("LEGACY-19 chore: nothing known", []),
        ("éCORE-4 ünd CORE-5ü", []),
        ("WEB-2\nAlso relates to CORE-1.", ["WEB-2", "CORE-1"]),
        ("", []),
    ],
)
def test_keys_in_text(text: str, keys: list[str]) -> None:
    assert keys_in_text(text, KNOWN) == keys


def test_keys_in_text_needs_known_projects() -> None:
    assert keys_in_text("CORE-1", frozenset()) == []
    assert keys_in_text(None, KNOWN) == []


def test_pattern_links_search_title_then_branch_then_body() -> None:
    links = pattern_links_in(
        "acme/web-app",
        42,
        ("WEB-2 tidy", "feature/CORE-9-and-WEB-2", "Relates to DATA-1 and WEB-2"),
        KNOWN,
    )
    assert links == (
        WorkItemPrLinkRecord("WEB-2", "acme/web-app", 42, "pattern"),
        WorkItemPrLinkRecord("CORE-9", "acme/web-app", 42, "pattern"),
        WorkItemPrLinkRecord("DATA-1", "acme/web-app", 42, "pattern"),
    )


def test_sandbox_pull_requests_link_the_keys_they_name() -> None:
    known = frozenset(project.key for project in dataset().projects())
    checked = 0
    for index in range(40):
        pull = dataset().pull(index)
        result = transform_github_pull_request(pull_request_node(pull))
        assert isinstance(result, Ok)
        links = pattern_links(result.value.pull_request, known)
        assert [link.work_item_key for link in links] == list(pull.issue_keys)
        assert all(
            (link.repository_full_name, link.pr_number, link.source)
            == (pull.repository, pull.number, "pattern")
            for link in links
        )
        checked += len(links)
    assert checked > 30


def test_sandbox_dev_status_links() -> None:
    index = issue_with_dev_status()
    key = dataset().key_of(index)
    result = transform_jira_dev_status(key, dev_status_payload(index))
    assert isinstance(result, Ok) and result.skipped == ()
    expected = tuple(
        WorkItemPrLinkRecord(key, pull.repository, pull.number, "dev_status")
        for pull in dataset().dev_status(index)
    )
    assert result.value == expected and len(expected) >= 1


def dev_pull(**fields: Any) -> dict[str, Any]:
    """A dev-status pull request entry."""
    return {"name": "x", "status": "OPEN", "lastUpdate": "2024-01-05T10:00:00.000+0000"} | fields


def test_dev_status_repository_and_number_sources() -> None:
    payload = {
        "errors": [],
        "detail": [
            {
                "pullRequests": [
                    dev_pull(id="#12", repositoryUrl="https://github.com/acme/core-api"),
                    dev_pull(id="#3", repositoryName="acme/web-app"),
                    dev_pull(url="https://github.com/acme/ops-tooling/pull/77?tab=files"),
                    dev_pull(id="#12", repositoryUrl="https://github.com/ACME/core-api.git"),
                    dev_pull(id=5, repositoryUrl="https://ghe.example.com/team/svc/"),
                ],
                "branches": [],
                "_instance": {"type": "github"},
            },
            {"pullRequests": []},
            {"repositories": []},
        ],
    }
    result = dev_status_links("CORE-1", payload)
    assert isinstance(result, Ok) and result.skipped == ()
    assert [(link.repository_full_name, link.pr_number) for link in result.value] == [
        ("acme/core-api", 12),
        ("acme/web-app", 3),
        ("acme/ops-tooling", 77),
        ("team/svc", 5),
    ]
    assert {link.source for link in result.value} == {"dev_status"}
    assert {link.work_item_key for link in result.value} == {"CORE-1"}


def test_dev_status_skips_and_reports_malformed_entries() -> None:
    payload = {
        "errors": [{"error": "GitHub is unreachable", "id": "github"}],
        "detail": [
            "nonsense",
            {"pullRequests": {"id": "#1"}},
            {
                "pullRequests": [
                    dev_pull(id="#1", repositoryName="core-api"),
                    dev_pull(id="one", repositoryUrl="https://github.com/acme/core-api"),
                    7,
                    dev_pull(id="#2", repositoryUrl="https://github.com/acme/core-api"),
                ]
            },
        ],
    }
    result = dev_status_links("CORE-1", payload)
    assert isinstance(result, Ok)
    assert result.value == (WorkItemPrLinkRecord("CORE-1", "acme/core-api", 2, "dev_status"),)
    assert [(e.external_id, e.field) for e in result.skipped] == [
        ("CORE-1", "errors[0]"),
        ("CORE-1", "detail[0]"),
        ("CORE-1", "detail[1].pullRequests"),
        ("CORE-1", "detail[2].pullRequests[0].repositoryUrl"),
        ("CORE-1", "detail[2].pullRequests[1].id"),
        ("CORE-1", "detail[2].pullRequests[2]"),
    ]
    assert result.skipped[4].message == 'expected a pull request id like "#12", found "one"'
    assert "GitHub is unreachable" in result.skipped[0].message


def test_dev_status_without_detail_and_not_an_object() -> None:
    empty = dev_status_links("CORE-1", {"errors": [], "detail": []})
    assert isinstance(empty, Ok) and empty.value == ()
    absent = dev_status_links("CORE-1", {})
    assert isinstance(absent, Ok) and absent.value == ()
    wrong = dev_status_links("CORE-1", [1])
    assert isinstance(wrong, Failed)
    assert wrong.error_details() == {
        "field": "dev-status",
        "record": "CORE-1",
        "error": "expected an object, found a list of 1 items",
    }
    bad_detail = dev_status_links("CORE-1", {"detail": "x"})
    assert isinstance(bad_detail, Failed) and bad_detail.error.field == "detail"
