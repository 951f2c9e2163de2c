"""Links between work items and pull requests: Jira dev-status first, issue keys in PR text second."""

from __future__ import annotations

import re
from collections.abc import Collection

from app.transform.errors import Failed, Ok, RecordError, TransformResult, expected
from app.transform.records import PullRequestRecord, WorkItemPrLinkRecord

SOURCE_DEV_STATUS = "dev_status"
SOURCE_PATTERN = "pattern"

# A key is bounded by anything but a letter or digit: "feature/CORE-12_fix" names CORE-12,
# "XCORE-12" and "CORE-12a" name nothing.
_ISSUE_KEY = re.compile(r"(?<![^\W_])([A-Z][A-Z0-9]+)-([0-9]+)(?![^\W_])")


def keys_in_text(text: str | None, known_project_keys: Collection[str]) -> list[str]:
    """Return the issue keys of known projects in a text, each once, in order of appearance."""
    if not text or not known_project_keys:
        return []
    found: list[str] = []
    for match in _ISSUE_KEY.finditer(text):
        if match.group(1) in known_project_keys:
            key = match.group(0)
            if key not in found:
                found.append(key)
    return found


def pattern_links_in(
    repository_full_name: str,
    pr_number: int,
    texts: tuple[str | None, ...],
    known_project_keys: Collection[str],
) -> tuple[WorkItemPrLinkRecord, ...]:
    """Return a pattern link for every known issue key in the texts (each key once)."""
    keys: list[str] = []
    for text in texts:
        for key in keys_in_text(text, known_project_keys):
            if key not in keys:
                keys.append(key)
    return tuple(
        WorkItemPrLinkRecord(key, repository_full_name, pr_number, SOURCE_PATTERN) for key in keys
    )


def pattern_links(
    pull_request: PullRequestRecord, known_project_keys: Collection[str]
) -> tuple[WorkItemPrLinkRecord, ...]:
    """Return the pattern links of a pull request: keys in its title, then head branch, then body."""
    return pattern_links_in(
        pull_request.repository_full_name,
        pull_request.number,
        (pull_request.title, pull_request.head_branch, pull_request.body),
        known_project_keys,
    )


def dev_status_links(
    issue_key: str, payload: object
) -> TransformResult[tuple[WorkItemPrLinkRecord, ...]]:
    """Return the links of an issue's dev-status pull requests; malformed entries are skipped."""
    label = issue_key if type(issue_key) is str and issue_key else "<unidentified>"
    if label != issue_key:
        return Failed((expected(label, "issue_key", "the issue key", issue_key),))
    if type(payload) is not dict:
        return Failed((expected(label, "dev-status", "an object", payload),))
    detail = payload.get("detail")
    if type(detail) is not list:
        if detail is None:
            return Ok(())
        return Failed((expected(label, "detail", "a list", detail),))
    skipped: list[RecordError] = []
    reported = payload.get("errors")
    if type(reported) is list:
        for position, error in enumerate(reported):
            skipped.append(
                RecordError(
                    label, f"errors[{position}]", f"Jira reported a dev-status error: {error}"
                )
            )
    links: list[WorkItemPrLinkRecord] = []
    seen: set[tuple[str, int]] = set()
    for position, entry in enumerate(detail):
        if type(entry) is not dict:
            skipped.append(expected(label, f"detail[{position}]", "an object", entry))
            continue
        pulls = entry.get("pullRequests")
        if pulls is None:
            continue
        if type(pulls) is not list:
            skipped.append(expected(label, f"detail[{position}].pullRequests", "a list", pulls))
            continue
        for number, pull in enumerate(pulls):
            path = f"detail[{position}].pullRequests[{number}]"
            link = _dev_status_link(label, path, pull, skipped)
            if link is not None:
                seen_key = (link.repository_full_name.lower(), link.pr_number)
                if seen_key not in seen:
                    seen.add(seen_key)
                    links.append(link)
    return Ok(tuple(links), tuple(skipped))


def transform_jira_dev_status(
    issue_key: str, raw: object
) -> TransformResult[tuple[WorkItemPrLinkRecord, ...]]:
    """Transform one issue's dev-status response into work item/PR links."""
    return dev_status_links(issue_key, raw)


def _dev_status_link(
    issue_key: str, path: str, pull: object, skipped: list[RecordError]
) -> WorkItemPrLinkRecord | None:
    """Read one dev-status pull request; report and skip it when repo or number is missing."""
    if type(pull) is not dict:
        skipped.append(expected(issue_key, path, "a pull request object", pull))
        return None
    url = pull.get("url")
    pull_segments = _url_segments(url) if type(url) is str else []
    repository = _repository_name(pull, pull_segments)
    if repository is None:
        skipped.append(
            expected(
                issue_key,
                f"{path}.repositoryUrl",
                "a repository URL or an owner/name repositoryName",
                pull.get("repositoryUrl"),
            )
        )
        return None
    number = _pull_number(pull.get("id"), pull_segments)
    if number is None:
        skipped.append(
            expected(issue_key, f"{path}.id", 'a pull request id like "#12"', pull.get("id"))
        )
        return None
    return WorkItemPrLinkRecord(issue_key, repository, number, SOURCE_DEV_STATUS)


def _url_segments(url: str) -> list[str]:
    """Return the path segments of a URL (query and fragment dropped)."""
    rest = url.partition("://")[2] or url
    path = rest.partition("/")[2].partition("?")[0].partition("#")[0]
    return [segment for segment in path.split("/") if segment]


def _repository_name(pull: dict[str, object], pull_segments: list[str]) -> str | None:
    """Return owner/name from repositoryUrl, else repositoryName, else the pull request URL."""
    repository_url = pull.get("repositoryUrl")
    if type(repository_url) is str:
        segments = _url_segments(repository_url)
        if len(segments) >= 2:
            return f"{segments[0]}/{segments[1].removesuffix('.git')}"
    name = pull.get("repositoryName")
    if type(name) is str and name.count("/") == 1 and all(name.split("/")):
        return name
    if "pull" in pull_segments:
        at = pull_segments.index("pull")
        if at >= 2:
            return f"{pull_segments[at - 2]}/{pull_segments[at - 1]}"
    return None


def _pull_number(value: object, pull_segments: list[str]) -> int | None:
    """Return the pull request number from an id like "#12", else from a /pull/12 URL."""
    if type(value) is str:
        digits = value.removeprefix("#")
        if digits.isascii() and digits.isdigit() and len(digits) <= 9:
            return int(digits)
    elif type(value) is int and 0 < value <= 2_147_483_647:
        return value
    if "pull" in pull_segments:
        at = pull_segments.index("pull")
        if at + 1 < len(pull_segments):
            digits = pull_segments[at + 1]
            if digits.isascii() and digits.isdigit() and len(digits) <= 9:
                return int(digits)
    return None
