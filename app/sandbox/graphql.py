"""A small GraphQL engine: parse queries (fields, arguments, variables, fragments) and run them."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

_TOKEN = re.compile(
    r"""(?P<skip>[\s,\ufeff]+|\#[^\n]*)
      | (?P<block>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\")
      | (?P<string>"(?:[^"\\\n]|\\.)*")
      | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
      | (?P<name>[_A-Za-z][_0-9A-Za-z]*)
      | (?P<spread>\.\.\.)
      | (?P<punct>[!$():=@\[\]{}|&])""",
    re.VERBOSE,
)


class GraphError(Exception):
    """A GraphQL error that stops the whole query (GitHub answers with errors only)."""

    def __init__(self, message: str, kind: str = "INVALID", path: tuple[str | int, ...] = ()):
        """Keep the message, GitHub's error type and the field path."""
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.path = path

    def to_api(self) -> dict[str, Any]:
        """Render the error as GitHub does."""
        rendered: dict[str, Any] = {"type": self.kind, "message": self.message}
        if self.path:
            rendered["path"] = list(self.path)
        return rendered


@dataclass(frozen=True, slots=True)
class Variable:
    """A $variable reference inside an argument value."""

    name: str


@dataclass(frozen=True, slots=True)
class Field:
    """A selected field with alias, arguments and sub-selections."""

    name: str
    alias: str | None
    arguments: dict[str, Any]
    selections: tuple[Selection, ...]

    @property
    def key(self) -> str:
        """Return the response key (alias or name)."""
        return self.alias or self.name


@dataclass(frozen=True, slots=True)
class FragmentSpread:
    """A ...Name reference to a named fragment."""

    name: str


@dataclass(frozen=True, slots=True)
class InlineFragment:
    """A ... on Type { } block (the type condition is not checked)."""

    selections: tuple[Selection, ...]


Selection = Field | FragmentSpread | InlineFragment


@dataclass(slots=True)
class Document:
    """The operations and fragments of a parsed request."""

    operations: list[tuple[str | None, dict[str, Any], tuple[Selection, ...]]] = field(
        default_factory=list
    )
    fragments: dict[str, tuple[Selection, ...]] = field(default_factory=dict)


class _Parser:
    """Recursive-descent parser over GraphQL tokens."""

    def __init__(self, text: str) -> None:
        """Tokenize the whole query up front."""
        self.tokens: list[tuple[str, str]] = []
        position = 0
        while position < len(text):
            match = _TOKEN.match(text, position)
            if match is None or match.lastgroup is None:
                raise GraphError(f'Parse error on "{text[position]}" at offset {position}')
            if match.lastgroup != "skip":
                self.tokens.append((match.lastgroup, match.group()))
            position = match.end()
        self.at = 0

    def peek(self) -> tuple[str, str] | None:
        """Return the current token."""
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, text: str | None = None) -> tuple[str, str]:
        """Consume a token, optionally requiring its text."""
        token = self.peek()
        if token is None:
            raise GraphError("Parse error on end of query (expected more input)")
        if text is not None and token[1] != text:
            raise GraphError(f'Parse error on "{token[1]}" (expected "{text}")')
        self.at += 1
        return token

    def name(self) -> str:
        """Consume a name."""
        kind, text = self.take()
        if kind != "name":
            raise GraphError(f'Parse error on "{text}" (expected a name)')
        return text

    def document(self) -> Document:
        """Parse operations and fragment definitions."""
        document = Document()
        while (token := self.peek()) is not None:
            if token[1] == "{":
                document.operations.append((None, {}, self.selection_set()))
            elif token[1] in ("query", "mutation", "subscription"):
                self.take()
                name = self.name() if (t := self.peek()) and t[0] == "name" else None
                defaults = self.variable_definitions()
                self.directives()
                document.operations.append((name, defaults, self.selection_set()))
            elif token[1] == "fragment":
                self.take()
                fragment = self.name()
                self.take("on")
                self.name()
                self.directives()
                document.fragments[fragment] = self.selection_set()
            else:
                raise GraphError(f'Parse error on "{token[1]}" (expected a definition)')
        if not document.operations:
            raise GraphError("The query contains no operation")
        return document

    def variable_definitions(self) -> dict[str, Any]:
        """Parse ($name: Type = default, ...) and return the defaults."""
        defaults: dict[str, Any] = {}
        if (token := self.peek()) is None or token[1] != "(":
            return defaults
        self.take("(")
        while (token := self.peek()) is not None and token[1] != ")":
            self.take("$")
            name = self.name()
            self.take(":")
            self.type_reference()
            if (token := self.peek()) is not None and token[1] == "=":
                self.take()
                defaults[name] = self.value()
            self.directives()
        self.take(")")
        return defaults

    def type_reference(self) -> None:
        """Skip a type like [String!]!."""
        if (token := self.peek()) is not None and token[1] == "[":
            self.take()
            self.type_reference()
            self.take("]")
        else:
            self.name()
        if (token := self.peek()) is not None and token[1] == "!":
            self.take()

    def directives(self) -> None:
        """Skip @directive(args) annotations."""
        while (token := self.peek()) is not None and token[1] == "@":
            self.take()
            self.name()
            self.arguments()

    def selection_set(self) -> tuple[Selection, ...]:
        """Parse { selection ... }."""
        self.take("{")
        selections: list[Selection] = []
        while (token := self.peek()) is not None and token[1] != "}":
            selections.append(self.selection())
        self.take("}")
        if not selections:
            raise GraphError('Parse error on "}" (a selection set cannot be empty)')
        return tuple(selections)

    def selection(self) -> Selection:
        """Parse a field, a fragment spread or an inline fragment."""
        token = self.peek()
        if token is not None and token[0] == "spread":
            self.take()
            if (after := self.peek()) is not None and after[1] == "on":
                self.take()
                self.name()
                self.directives()
                return InlineFragment(self.selection_set())
            if after is not None and after[1] in ("{", "@"):
                self.directives()
                return InlineFragment(self.selection_set())
            spread = FragmentSpread(self.name())
            self.directives()
            return spread
        first = self.name()
        alias: str | None = None
        if (token := self.peek()) is not None and token[1] == ":":
            self.take()
            alias, first = first, self.name()
        arguments = self.arguments()
        self.directives()
        selections: tuple[Selection, ...] = ()
        if (token := self.peek()) is not None and token[1] == "{":
            selections = self.selection_set()
        return Field(first, alias, arguments, selections)

    def arguments(self) -> dict[str, Any]:
        """Parse (name: value, ...)."""
        if (token := self.peek()) is None or token[1] != "(":
            return {}
        self.take("(")
        arguments: dict[str, Any] = {}
        while (token := self.peek()) is not None and token[1] != ")":
            name = self.name()
            self.take(":")
            arguments[name] = self.value()
        self.take(")")
        return arguments

    def value(self) -> Any:
        """Parse a value: variable, number, string, boolean, null, enum, list or object."""
        kind, text = self.take()
        if text == "$":
            return Variable(self.name())
        if kind == "number":
            return float(text) if any(c in text for c in ".eE") else int(text)
        if kind == "string":
            return json.loads(text)
        if kind == "block":
            return text[3:-3].strip()
        if text == "[":
            items = []
            while (token := self.peek()) is not None and token[1] != "]":
                items.append(self.value())
            self.take("]")
            return items
        if text == "{":
            entries = {}
            while (token := self.peek()) is not None and token[1] != "}":
                key = self.name()
                self.take(":")
                entries[key] = self.value()
            self.take("}")
            return entries
        if kind == "name":
            return {"true": True, "false": False, "null": None}.get(text, text)
        raise GraphError(f'Parse error on "{text}" (expected a value)')


def parse_document(text: str) -> Document:
    """Parse a GraphQL request body's query, or raise GraphError."""
    return _Parser(text).document()


def resolve_value(value: Any, variables: Mapping[str, Any]) -> Any:
    """Replace variable references in an argument value by their values."""
    if isinstance(value, Variable):
        return variables.get(value.name)
    if isinstance(value, list):
        return [resolve_value(item, variables) for item in value]
    if isinstance(value, dict):
        return {key: resolve_value(item, variables) for key, item in value.items()}
    return value


class Lazy:
    """A field whose value is computed from its arguments when it is selected."""

    __slots__ = ("compute",)

    def __init__(self, compute: Callable[[dict[str, Any]], Any]) -> None:
        """Wrap the function of the arguments."""
        self.compute = compute


class GraphObject:
    """An object of a named GraphQL type: plain values and Lazy fields."""

    __slots__ = ("typename", "values")

    def __init__(self, typename: str, values: Mapping[str, Any]) -> None:
        """Name the type and hold its fields."""
        self.typename = typename
        self.values = values


@dataclass(slots=True)
class Missing:
    """A nullable field that resolved to nothing, with the error GitHub reports for it."""

    message: str
    kind: str = "NOT_FOUND"


@dataclass(slots=True)
class Execution:
    """The state of running one operation: variables, fragments and field errors."""

    variables: Mapping[str, Any]
    fragments: dict[str, tuple[Selection, ...]]
    errors: list[dict[str, Any]] = field(default_factory=list)

    def fields(self, selections: tuple[Selection, ...]) -> list[Field]:
        """Flatten fragments into the list of selected fields."""
        flat: list[Field] = []
        for selection in selections:
            if isinstance(selection, Field):
                flat.append(selection)
            elif isinstance(selection, InlineFragment):
                flat.extend(self.fields(selection.selections))
            else:
                fragment = self.fragments.get(selection.name)
                if fragment is None:
                    raise GraphError(f"Fragment {selection.name} was used, but not defined")
                flat.extend(self.fields(fragment))
        return flat

    def select(
        self, source: Any, selections: tuple[Selection, ...], path: tuple[str | int, ...]
    ) -> dict[str, Any]:
        """Resolve the selected fields of an object."""
        typename = (
            source.typename if isinstance(source, GraphObject) else path[-1] if path else "Query"
        )
        values = source.values if isinstance(source, GraphObject) else source
        result: dict[str, Any] = {}
        for selected in self.fields(selections):
            here = (*path, selected.key)
            if selected.name == "__typename":
                result[selected.key] = typename
                continue
            if selected.name not in values:
                raise GraphError(
                    f"Field '{selected.name}' doesn't exist on type '{typename}'",
                    "undefinedField",
                    here,
                )
            value = values[selected.name]
            if isinstance(value, Lazy):
                arguments = {
                    key: resolve_value(item, self.variables)
                    for key, item in selected.arguments.items()
                }
                value = value.compute(arguments)
            result[selected.key] = self.complete(value, selected, here)
        return result

    def complete(self, value: Any, selected: Field, path: tuple[str | int, ...]) -> Any:
        """Shape a resolved value by the field's sub-selection."""
        if isinstance(value, Missing):
            self.errors.append({"type": value.kind, "path": list(path), "message": value.message})
            return None
        if value is None:
            return None
        if isinstance(value, list):
            return [self.complete(item, selected, (*path, n)) for n, item in enumerate(value)]
        if isinstance(value, GraphObject | dict):
            if not selected.selections:
                raise GraphError(
                    f"Field must have selections (field '{selected.name}' returns an object)",
                    "selectionMismatch",
                    path,
                )
            return self.select(value, selected.selections, path)
        if selected.selections:
            raise GraphError(
                f"Selections can't be made on scalars (field '{selected.name}')",
                "selectionMismatch",
                path,
            )
        return value


def choose_operation(
    document: Document, operation_name: str | None
) -> tuple[dict[str, Any], tuple[Selection, ...]]:
    """Return the defaults and selections of the operation to run."""
    if operation_name:
        for name, defaults, selections in document.operations:
            if name == operation_name:
                return defaults, selections
        raise GraphError(f'No operation named "{operation_name}"')
    if len(document.operations) > 1:
        raise GraphError("An operation name is required when the document has several")
    _, defaults, selections = document.operations[0]
    return defaults, selections


def requested_nodes(
    execution: Execution, selections: tuple[Selection, ...], multiplier: int = 1
) -> tuple[int, int]:
    """Estimate (requests, nodes) of a query the way GitHub's cost formula does."""
    requests = nodes = 0
    for selected in execution.fields(selections):
        size = 0
        for bound in ("first", "last"):
            if bound in selected.arguments:
                raw = resolve_value(selected.arguments[bound], execution.variables)
                size = raw if isinstance(raw, int) else 0
        inner = multiplier
        if size:
            requests += multiplier
            nodes += multiplier * size
            inner = multiplier * size
        more_requests, more_nodes = requested_nodes(execution, selected.selections, inner)
        requests += more_requests
        nodes += more_nodes
    return requests, nodes
