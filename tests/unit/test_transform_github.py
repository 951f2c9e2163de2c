"""GitHub transformers: repositories and pull requests with reviews, commits and comments."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from app.transform import (
    Failed,
    Ok,
    PrCommentRecord,
    PullRequestRecords,
    RepositoryRecord,
    TransformResult,
    parse_timestamp,
    transform_github_pull_request,
    transform_github_repository,
)
from tests.unit.test_transform_payloads import dataset, pull_request_node, repository_payload


def ok_pull(result: TransformResult[PullRequestRecords]) -> PullRequestRecords:
    """Unwrap a transformed pull request, failing the test with the error otherwise."""
    assert isinstance(result, Ok), result
    return result.value


def literal_pull(**overrides: Any) -> dict[str, Any]:
    """A small pull request node."""
    node: dict[str, Any] = {
        "id": "PR_kwDO1",
        "number": 12,
        "title": "CORE-7 Fix login",
        "state": "OPEN",
        "repository": {"nameWithOwner": "acme/core-api"},
    }
    node.update(overrides)
    return node


def test_sandbox_repository() -> None:
    raw = repository_payload(0)
    result = transform_github_repository(raw)
    assert isinstance(result, Ok)
    assert result.value == RepositoryRecord(
        external_id=str(raw["id"]),
        name="core-api",
        full_name="acme/core-api",
        owner="acme",
        description=raw["description"],
        url="https://github.com/acme/core-api",
        is_private=raw["private"],
        archived=False,
        default_branch="main",
        language=raw["language"],
        repo_created_at=parse_timestamp(raw["created_at"]),
        repo_updated_at=parse_timestamp(raw["updated_at"]),
        pushed_at=parse_timestamp(raw["pushed_at"]),
    )


def test_repository_with_nulls_and_a_bad_field() -> None:
    bare = transform_github_repository(
        {"id": 1, "name": "x", "full_name": "o/x", "owner": None, "description": None}
    )
    assert isinstance(bare, Ok)
    assert bare.value.owner is None and bare.value.is_private is False
    assert bare.value.repo_created_at is None
    bad = transform_github_repository({"id": 1, "name": "x", "full_name": "o/x", "private": "yes"})
    assert isinstance(bad, Failed)
    assert bad.error_details() == {
        "field": "private",
        "record": "o/x",
        "error": 'expected true or false, found "yes"',
    }


def test_sandbox_pull_request_with_nested_records() -> None:
    pull = next(
        dataset().pull(g)
        for g in range(dataset().pull_request_count)
        if dataset().pull(g).state == "MERGED"
        and dataset().pull(g).thread_count >= 2
        and dataset().pull(g).comment_count >= 1
    )
    raw = pull_request_node(pull)
    result = transform_github_pull_request(raw, pull.repository)
    assert isinstance(result, Ok) and result.skipped == ()
    record, reviews, commits, comments = result.value
    assert record.external_id == pull.node_id
    assert (record.repository_full_name, record.number) == (pull.repository, pull.number)
    assert record.state == "MERGED"
    assert record.title == pull.title and record.body == pull.body
    assert record.author == pull.author.login
    assert (record.head_branch, record.base_branch) == (pull.head, pull.base)
    assert record.merged_at == datetime.fromtimestamp(pull.merged or 0, UTC)
    assert (record.additions, record.deletions, record.changed_files) == (
        pull.additions,
        pull.deletions,
        pull.changed_files,
    )
    assert record.commit_count == pull.commit_count == len(commits)
    assert record.review_count == pull.review_count == len(reviews)
    assert record.comment_count == pull.comment_count
    assert record.review_thread_count == pull.thread_count
    assert record.first_review_at == min(r.submitted_at for r in reviews if r.submitted_at)
    assert [c.external_id for c in commits] == [n["commit"]["oid"] for n in raw["commits"]["nodes"]]
    assert commits[0].message == pull.title
    assert commits[0].author_email is not None and commits[0].author_email.endswith("@example.com")
    assert reviews[-1].state == "APPROVED"
    issue_comments = [c for c in comments if c.comment_type == "issue"]
    review_comments = [c for c in comments if c.comment_type == "review"]
    assert len(issue_comments) == pull.comment_count
    thread_nodes = raw["reviewThreads"]["nodes"]
    assert len(review_comments) == sum(len(t["comments"]["nodes"]) for t in thread_nodes)
    first_thread = thread_nodes[0]
    assert review_comments[0].path == first_thread["path"]
    assert review_comments[0].line == first_thread["line"]
    assert all(c.pr_external_id == pull.node_id for c in comments)


def test_repository_name_comes_from_the_node_unless_given() -> None:
    from_node = ok_pull(transform_github_pull_request(literal_pull()))
    assert from_node.pull_request.repository_full_name == "acme/core-api"
    given = ok_pull(transform_github_pull_request(literal_pull(), "acme/other"))
    assert given.pull_request.repository_full_name == "acme/other"
    missing = transform_github_pull_request(literal_pull(repository=None))
    assert isinstance(missing, Failed)
    assert missing.error.field == "repository.nameWithOwner"


def test_minimal_pull_request_has_zero_counts() -> None:
    records = ok_pull(transform_github_pull_request(literal_pull()))
    record = records.pull_request
    assert record.state == "OPEN"
    assert (record.commit_count, record.review_count, record.comment_count) == (0, 0, 0)
    assert record.review_thread_count == 0 and record.first_review_at is None
    assert record.author is None and record.body is None and record.merged_at is None
    assert records.reviews == records.commits == records.comments == ()


def test_total_count_wins_over_the_nodes_it_holds() -> None:
    commits = [{"commit": {"oid": f"{n:040x}"}} for n in range(3)]
    raw = literal_pull(
        commits={"totalCount": 250, "nodes": commits},
        reviews={"nodes": [{"id": "R1", "submittedAt": "2024-01-02T00:00:00Z"}]},
        comments={"edges": [{"node": {"id": "C1", "body": "hi"}}]},
    )
    records = ok_pull(transform_github_pull_request(raw))
    assert records.pull_request.commit_count == 250
    assert len(records.commits) == 3
    assert records.pull_request.review_count == 1
    assert records.pull_request.comment_count == 1
    assert records.comments[0].body == "hi"


def test_reviews_give_the_earliest_submission_and_pending_ones_are_kept() -> None:
    raw = literal_pull(
        reviews={
            "nodes": [
                {"id": "R1", "state": "COMMENTED", "submittedAt": "2024-01-05T10:00:00Z"},
                {"id": "R2", "state": "PENDING", "submittedAt": None, "author": None},
                {"id": "R3", "state": "APPROVED", "submittedAt": "2024-01-04T09:30:00Z"},
            ]
        }
    )
    records = ok_pull(transform_github_pull_request(raw))
    assert records.pull_request.first_review_at == datetime(2024, 1, 4, 9, 30, tzinfo=UTC)
    assert [r.state for r in records.reviews] == ["COMMENTED", "PENDING", "APPROVED"]
    assert records.reviews[1].author is None


def test_duplicate_nodes_from_overlapping_pages_are_dropped() -> None:
    commit = {"commit": {"oid": "a" * 40, "message": "one"}}
    raw = literal_pull(commits={"totalCount": 1, "nodes": [commit, commit]})
    records = ok_pull(transform_github_pull_request(raw))
    assert [c.external_id for c in records.commits] == ["a" * 40]


def test_review_thread_comments_carry_path_and_line() -> None:
    raw = literal_pull(
        reviewThreads={
            "totalCount": 2,
            "nodes": [
                {
                    "id": "T1",
                    "path": "src/app.py",
                    "line": None,
                    "originalLine": 41,
                    "comments": {
                        "nodes": [{"id": "RC1", "body": "nit", "author": {"login": "zoe-a"}}]
                    },
                },
                {
                    "id": "T2",
                    "path": "src/db.py",
                    "line": 7,
                    "comments": [{"id": "RC2", "body": "why?", "path": "src/other.py", "line": 9}],
                },
            ],
        }
    )
    records = ok_pull(transform_github_pull_request(raw))
    assert records.comments == (
        PrCommentRecord("RC1", "PR_kwDO1", "review", "zoe-a", "nit", "src/app.py", 41, None, None),
        PrCommentRecord("RC2", "PR_kwDO1", "review", None, "why?", "src/other.py", 9, None, None),
    )
    assert records.pull_request.review_thread_count == 2


def test_malformed_nested_nodes_are_skipped_and_reported() -> None:
    raw = literal_pull(
        reviews={"nodes": [{"id": "R1"}, {"id": "R2", "submittedAt": "soon"}, "R3"]},
        commits={"nodes": [{"commit": {"oid": None}}, {"commit": {"oid": "b" * 40}}]},
        reviewThreads={"nodes": [{"id": "T1", "comments": 5}]},
    )
    result = transform_github_pull_request(raw)
    assert isinstance(result, Ok)
    assert [r.external_id for r in result.value.reviews] == ["R1"]
    assert [c.external_id for c in result.value.commits] == ["b" * 40]
    assert [(e.external_id, e.field, e.message) for e in result.skipped] == [
        (
            "PR_kwDO1",
            "reviews.nodes[1].submittedAt",
            'expected an ISO 8601 timestamp, found "soon"',
        ),
        ("PR_kwDO1", "reviews.nodes[2]", 'expected a review object, found "R3"'),
        ("PR_kwDO1", "commits.nodes[0].commit.oid", "expected non-empty text, found null"),
        ("PR_kwDO1", "reviewThreads.nodes[0].comments", "expected a connection object, found 5"),
    ]


@pytest.mark.parametrize(
    ("overrides", "field", "error"),
    [
        ({"number": None}, "number", "expected a 32-bit integer, found null"),
        ({"number": "12"}, "number", 'expected a 32-bit integer, found "12"'),
        ({"number": 2**40}, "number", "expected a 32-bit integer, found 1099511627776"),
        ({"state": 3}, "state", "expected non-empty text, found 3"),
        (
            {"createdAt": "2024-01-05"},
            "createdAt",
            'expected an ISO 8601 timestamp, found "2024-01-05"',
        ),
        ({"commits": "many"}, "commits", 'expected a connection object, found "many"'),
        (
            {"commits": {"totalCount": "3"}},
            "commits.totalCount",
            'expected a 32-bit integer, found "3"',
        ),
        ({"author": "octocat"}, "author", 'expected an object, found "octocat"'),
        ({"additions": 1.5}, "additions", "expected a 32-bit integer, found 1.5"),
    ],
)
def test_malformed_pull_request_fails_precisely(
    overrides: dict[str, Any], field: str, error: str
) -> None:
    result = transform_github_pull_request(literal_pull(**overrides))
    assert isinstance(result, Failed)
    assert result.error_details() == {"field": field, "record": "PR_kwDO1", "error": error}


def test_unicode_and_long_bodies_are_kept() -> None:
    body = "Emoji in titles 🚀🔥 — 日本語 " * 40_000
    records = ok_pull(transform_github_pull_request(literal_pull(body=body, title="Ümit's fix")))
    assert records.pull_request.body == body
    assert records.pull_request.title == "Ümit's fix"
