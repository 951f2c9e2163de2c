"""The fixed vocabulary of the sandbox: projects, issue types, statuses, people, words."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Project:
    """A Jira project of the sandbox."""

    id: str
    key: str
    name: str


@dataclass(frozen=True, slots=True)
class IssueType:
    """A Jira issue type with its hierarchy level (Epic 1, standard 0, Sub-task -1)."""

    id: str
    name: str
    hierarchy_level: int

    @property
    def subtask(self) -> bool:
        """Say whether this is a sub-task type."""
        return self.hierarchy_level < 0

    def to_api(self) -> dict[str, Any]:
        """Render the issue type as Jira returns it inside an issue."""
        return {
            "id": self.id,
            "name": self.name,
            "subtask": self.subtask,
            "hierarchyLevel": self.hierarchy_level,
        }


@dataclass(frozen=True, slots=True)
class Status:
    """A Jira status with its status category key (new, indeterminate, done)."""

    id: str
    name: str
    category: str

    def to_api(self) -> dict[str, Any]:
        """Render the status as Jira returns it inside an issue."""
        category_id, category_name, color = STATUS_CATEGORIES[self.category]
        return {
            "id": self.id,
            "name": self.name,
            "untranslatedName": self.name,
            "statusCategory": {
                "id": category_id,
                "key": self.category,
                "colorName": color,
                "name": category_name,
            },
        }


@dataclass(frozen=True, slots=True)
class Person:
    """Someone who appears both as a Jira user and as a GitHub login."""

    index: int
    display_name: str
    email: str
    login: str
    account_id: str

    def to_jira(self) -> dict[str, Any]:
        """Render the person as a Jira user reference."""
        return {
            "accountId": self.account_id,
            "displayName": self.display_name,
            "emailAddress": self.email,
            "active": True,
            "accountType": "atlassian",
        }


STATUS_CATEGORIES: dict[str, tuple[int, str, str]] = {
    "new": (2, "To Do", "blue-gray"),
    "indeterminate": (4, "In Progress", "yellow"),
    "done": (3, "Done", "green"),
}

BACKLOG = Status("10000", "Backlog", "new")
TO_DO = Status("10001", "To Do", "new")
IN_PROGRESS = Status("3", "In Progress", "indeterminate")
CODE_REVIEW = Status("10002", "Code Review", "indeterminate")
QA = Status("10003", "QA", "indeterminate")
BLOCKED = Status("10005", "Blocked", "indeterminate")
DONE = Status("10004", "Done", "done")
CLOSED = Status("6", "Closed", "done")

STATUSES: tuple[Status, ...] = (BACKLOG, TO_DO, IN_PROGRESS, CODE_REVIEW, QA, BLOCKED, DONE, CLOSED)

EPIC = IssueType("10000", "Epic", 1)
STORY = IssueType("10001", "Story", 0)
TASK = IssueType("10002", "Task", 0)
BUG = IssueType("10003", "Bug", 0)
SUBTASK = IssueType("10004", "Sub-task", -1)

ISSUE_TYPES: tuple[IssueType, ...] = (EPIC, STORY, TASK, BUG, SUBTASK)

PROJECTS: tuple[Project, ...] = (
    Project("10000", "CORE", "Core Platform"),
    Project("10001", "WEB", "Web Application"),
    Project("10002", "DATA", "Data Pipeline"),
    Project("10003", "OPS", "Operations"),
    Project("10004", "MOB", "Mobile"),
    Project("10005", "SEC", "Security"),
    Project("10006", "API", "Public API"),
    Project("10007", "ML", "Machine Learning"),
)

PRIORITIES: tuple[tuple[str, str], ...] = (
    ("1", "Highest"),
    ("2", "High"),
    ("3", "Medium"),
    ("4", "Low"),
    ("5", "Lowest"),
)

_NAMES: tuple[tuple[str, str, str], ...] = (
    ("Alice Martin", "alice.martin", "alice-m"),
    ("Bjørn Østergaard", "bjorn.ostergaard", "bjornost"),
    ("Chloé Dubois", "chloe.dubois", "chloed"),
    ("Dmitri Ivanov", "dmitri.ivanov", "divanov"),
    ("Emeka Okafor", "emeka.okafor", "emeka-o"),
    ("Fatima Zahra Benali", "fatima.benali", "fzbenali"),
    ("Gustavo Pereira", "gustavo.pereira", "gpereira"),
    ("Hana Suzuki", "hana.suzuki", "hsuzuki"),
    ("Ingrid Johansson", "ingrid.johansson", "ingridj"),
    ("José Álvarez", "jose.alvarez", "jalvarez"),
    ("Kwame Mensah", "kwame.mensah", "kmensah"),
    ("李雷", "li.lei", "lilei"),
    ("Mariana Costa", "mariana.costa", "mcosta"),
    ("Nikolai Petrov", "nikolai.petrov", "npetrov"),
    ("Olivia Brown", "olivia.brown", "obrown"),
    ("Priya Raman", "priya.raman", "praman"),
    ("Quentin Lefèvre", "quentin.lefevre", "qlefevre"),
    ("Rania Haddad", "rania.haddad", "rhaddad"),
    ("Søren Kierkegaard-Nielsen", "soren.nielsen", "snielsen"),
    ("Tomás Ó Briain", "tomas.obriain", "tobriain"),
    ("Ümit Yılmaz", "umit.yilmaz", "uyilmaz"),
    ("Valentina Rossi", "valentina.rossi", "vrossi"),
    ("Wei Chen", "wei.chen", "weichen"),
    ("Zoë Ångström", "zoe.angstrom", "zoe-a"),
)

PEOPLE: tuple[Person, ...] = tuple(
    Person(index, name, f"{local}@example.com", login, f"5b10ac8d82e05b22cc7d{index:04x}")
    for index, (name, local, login) in enumerate(_NAMES)
)

LABELS: tuple[str, ...] = (
    "backend",
    "frontend",
    "tech-debt",
    "customer",
    "security",
    "performance",
    "flaky",
    "ux",
)

VERBS: tuple[str, ...] = (
    "Fix",
    "Add",
    "Refactor",
    "Remove",
    "Speed up",
    "Document",
    "Migrate",
    "Harden",
    "Support",
    "Rework",
)

OBJECTS: tuple[str, ...] = (
    "login flow",
    "billing export",
    "search index",
    "retry policy",
    "user settings page",
    "webhook delivery",
    "CSV import",
    "audit log",
    "dashboard filters",
    "rate limiter",
    "session cache",
    "email templates",
    "permissions check",
    "nightly backup",
    "GraphQL schema",
    "onboarding wizard",
)

QUALIFIERS: tuple[str, ...] = (
    "for large tenants",
    "on Safari",
    "after timeout",
    "with unicode names",
    "in the EU region",
    "behind the feature flag",
    "when the queue is empty",
    "for archived projects",
)

PHRASES: tuple[str, ...] = (
    "Steps to reproduce are in the linked ticket.",
    "Customer reported this through support; impact is moderate.",
    "This blocks the next release train.",
    "Les données sont correctes côté serveur, mais l'affichage est faux.",
    "Die Zeitzone wird beim Export ignoriert.",
    "日本語のファイル名でアップロードが失敗します。",
    "Emoji in titles 🚀🔥 break the CSV export.",
    "We should measure before and after the change.",
    "Acceptance: the p95 latency stays under 200 ms.",
    "Ελέγξτε την κωδικοποίηση των χαρακτήρων.",
    "Needs a migration and a feature flag.",
    "See the runbook section on rollbacks.",
)

REPOSITORY_NAMES: tuple[str, ...] = (
    "core-api",
    "web-app",
    "data-pipeline",
    "ops-tooling",
    "mobile-app",
    "shared-libs",
)

LANGUAGES: tuple[str, ...] = ("Python", "TypeScript", "Go", "Kotlin", "Rust", "Java", "HCL")
