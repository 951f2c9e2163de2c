"""Plain text from Atlassian Document Format (Jira Cloud's rich text)."""

from __future__ import annotations

from typing import Any

_BLOCKS = frozenset(
    {
        "paragraph",
        "heading",
        "blockquote",
        "codeBlock",
        "bulletList",
        "orderedList",
        "listItem",
        "panel",
        "rule",
        "table",
        "tableRow",
        "tableHeader",
        "tableCell",
        "mediaSingle",
        "mediaGroup",
        "expand",
        "nestedExpand",
        "taskList",
        "taskItem",
        "decisionList",
        "decisionItem",
        "layoutSection",
        "layoutColumn",
        "blockCard",
        "embedCard",
    }
)
_ATTRIBUTE_TEXT = {
    "mention": ("text",),
    "emoji": ("text", "shortName"),
    "status": ("text",),
    "inlineCard": ("url",),
    "blockCard": ("url",),
    "embedCard": ("url",),
}


class _BlockEnd:
    """Marks where a block node's content ends on the walk stack."""

    __slots__ = ()


_BLOCK_END = _BlockEnd()


def adf_to_text(document: dict[str, Any]) -> str:
    """Flatten an ADF document to text: blocks on their own lines, inline nodes joined."""
    parts: list[str] = []
    stack: list[object] = [document]
    while stack:
        node = stack.pop()
        if node is _BLOCK_END:
            if parts and not parts[-1].endswith("\n"):
                parts.append("\n")
            continue
        if type(node) is list:
            stack.extend(reversed(node))
            continue
        if type(node) is not dict:
            continue
        kind = node.get("type")
        if kind == "text":
            text = node.get("text")
            if type(text) is str:
                parts.append(text)
            continue
        if kind == "hardBreak":
            parts.append("\n")
            continue
        if type(kind) is str and kind in _ATTRIBUTE_TEXT:
            attrs = node.get("attrs")
            if type(attrs) is dict:
                for key in _ATTRIBUTE_TEXT[kind]:
                    value = attrs.get(key)
                    if type(value) is str and value:
                        parts.append(value)
                        break
        if type(kind) is str and kind in _BLOCKS:
            stack.append(_BLOCK_END)
        content = node.get("content")
        if type(content) is list:
            stack.extend(reversed(content))
    return "".join(parts).rstrip("\n")
