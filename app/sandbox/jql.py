"""A parser for the subset of JQL that Sluice sends (clauses, AND/OR/NOT, ORDER BY)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<op>!=|>=|<=|!~|=|>|<|~)
      | (?P<punct>[(),])
      | (?P<word>[^\s(),=!<>~"']+)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "in", "is", "empty", "null", "order", "by", "asc", "desc"}


class JqlError(ValueError):
    """A query that Jira would reject with 400 and this message."""


@dataclass(frozen=True, slots=True)
class Token:
    """One lexical token of a query, with its position (1-based character)."""

    kind: str
    text: str
    position: int

    @property
    def keyword(self) -> str | None:
        """Return the lower-cased keyword this bare word spells, if it is one."""
        if self.kind == "word" and self.text.lower() in _KEYWORDS:
            return self.text.lower()
        return None


@dataclass(frozen=True, slots=True)
class Clause:
    """field operator operand, e.g. project in (A, B); values are unquoted."""

    field: str
    operator: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Junction:
    """AND or OR over two or more parts."""

    operator: str
    parts: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Negation:
    """NOT over one part."""

    part: Node


Node = Clause | Junction | Negation


@dataclass(frozen=True, slots=True)
class OrderItem:
    """One ORDER BY field with its direction."""

    field: str
    descending: bool


@dataclass(frozen=True, slots=True)
class JqlQuery:
    """A parsed query: an optional condition and the ORDER BY list."""

    where: Node | None
    order: tuple[OrderItem, ...]


def tokenize(text: str) -> list[Token]:
    """Split a query into tokens, or raise JqlError at the first character that fits none."""
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.lastgroup is None:
            start = position + len(text[position:]) - len(text[position:].lstrip())
            raise JqlError(
                f"Error in the JQL Query: The character '{text[start]}' is a reserved "
                f"JQL character. (line 1, character {start + 1})"
            )
        kind = match.lastgroup
        raw = match.group(kind)
        start = match.start(kind)
        if kind == "string":
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        tokens.append(Token(kind, raw, start + 1))
        position = match.end()
    return tokens


class _Parser:
    """Recursive-descent parser over a token list."""

    def __init__(self, tokens: list[Token], length: int) -> None:
        """Start at the first token."""
        self.tokens = tokens
        self.at = 0
        self.length = length

    def peek(self) -> Token | None:
        """Return the current token without consuming it."""
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> Token:
        """Consume and return the current token, or fail at the end of the query."""
        token = self.peek()
        if token is None:
            raise JqlError(
                "Error in the JQL Query: Expecting a field name, operator or value but "
                f"reached the end of the query. (line 1, character {self.length + 1})"
            )
        self.at += 1
        return token

    def query(self) -> JqlQuery:
        """Parse: [condition] [ORDER BY items]."""
        where: Node | None = None
        token = self.peek()
        if token is not None and token.keyword != "order":
            where = self.disjunction()
        order: tuple[OrderItem, ...] = ()
        token = self.peek()
        if token is not None and token.keyword == "order":
            self.take()
            by = self.take()
            if by.keyword != "by":
                raise _unexpected("'by'", by)
            order = self.order_items()
        token = self.peek()
        if token is not None:
            raise _unexpected("either 'OR' or 'AND'", token)
        return JqlQuery(where, order)

    def order_items(self) -> tuple[OrderItem, ...]:
        """Parse field [ASC|DESC] {, field [ASC|DESC]}."""
        items: list[OrderItem] = []
        while True:
            field = self.take()
            if field.kind not in ("word", "string") or field.keyword is not None:
                raise _unexpected("a field name", field)
            descending = False
            token = self.peek()
            if token is not None and token.keyword in ("asc", "desc"):
                descending = self.take().keyword == "desc"
            items.append(OrderItem(field.text.lower(), descending))
            token = self.peek()
            if token is None or token.text != ",":
                return tuple(items)
            self.take()

    def disjunction(self) -> Node:
        """Parse conjunction {OR conjunction}."""
        parts = [self.conjunction()]
        while (token := self.peek()) is not None and token.keyword == "or":
            self.take()
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else Junction("or", tuple(parts))

    def conjunction(self) -> Node:
        """Parse unary {AND unary}."""
        parts = [self.unary()]
        while (token := self.peek()) is not None and token.keyword == "and":
            self.take()
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else Junction("and", tuple(parts))

    def unary(self) -> Node:
        """Parse NOT unary, a parenthesised condition, or a clause."""
        token = self.take()
        if token.keyword == "not":
            return Negation(self.unary())
        if token.text == "(" and token.kind == "punct":
            inner = self.disjunction()
            closing = self.take()
            if closing.text != ")":
                raise _unexpected("')'", closing)
            return inner
        if token.kind not in ("word", "string") or token.keyword is not None:
            raise _unexpected("a field name", token)
        return self.clause(token.text)

    def clause(self, field: str) -> Clause:
        """Parse the operator and operand that follow a field name."""
        token = self.take()
        operator = token.text.lower()
        if token.keyword == "not":
            following = self.take()
            if following.keyword != "in":
                raise _unexpected("'in'", following)
            operator = "not in"
        elif token.keyword == "is":
            operator = "is"
            if (after := self.peek()) is not None and after.keyword == "not":
                self.take()
                operator = "is not"
        elif token.kind != "op" and token.keyword != "in":
            raise _unexpected("an operator", token)
        if operator in ("in", "not in"):
            return Clause(field.lower(), operator, self.value_list())
        value = self.take()
        if operator in ("is", "is not"):
            if value.keyword not in ("empty", "null"):
                raise _unexpected("EMPTY or NULL", value)
            return Clause(field.lower(), operator, ())
        if value.kind not in ("word", "string") or value.keyword in ("and", "or", "order"):
            raise _unexpected("a value", value)
        return Clause(field.lower(), operator, (value.text,))

    def value_list(self) -> tuple[str, ...]:
        """Parse ( value {, value} )."""
        opening = self.take()
        if opening.text != "(":
            raise _unexpected("'('", opening)
        values: list[str] = []
        while True:
            value = self.take()
            if value.kind not in ("word", "string"):
                raise _unexpected("a value", value)
            values.append(value.text)
            separator = self.take()
            if separator.text == ")":
                return tuple(values)
            if separator.text != ",":
                raise _unexpected("',' or ')'", separator)


def _unexpected(expected: str, token: Token) -> JqlError:
    """Return the error Jira gives for an unexpected token."""
    return JqlError(
        f"Error in the JQL Query: Expecting {expected} but got '{token.text}'. "
        f"(line 1, character {token.position})"
    )


def parse_jql(text: str) -> JqlQuery:
    """Parse a JQL query, raising JqlError with a Jira-style message when it is not valid."""
    return _Parser(tokenize(text), len(text)).query()
