"""YAML documents that remember where each value was written.

Errors must name the file and line, so a document is composed into PyYAML's
node tree first and every path (``("subscriptions", 2, "auth")``) is mapped to
the line of its key or item. Duplicate keys, which PyYAML would silently
resolve to the last one, are reported: a typo must not pass silently.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from router.errors import ConfigIssue

__all__ = ["Loc", "YamlDocument", "format_path", "read_yaml", "real_path"]

Loc = tuple[str | int, ...]

# libyaml's parser when present: the same nodes and marks, several times faster.
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def format_path(loc: Iterable[str | int]) -> str:
    """``("subscriptions", 2, "auth")`` -> ``subscriptions[2].auth``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.match(part):
            out += f".{part}" if out else part
        else:
            out += f"[{part!r}]"
    return out


def real_path(data: Any, loc: Sequence[str | int]) -> Loc:
    """Drop the parts of a pydantic error location that are not keys of the document.

    Pydantic puts union tags and validator names into locations
    (``auth.oauth2_client_credentials.token_url``); users wrote ``auth.token_url``.
    A missing key is kept when it is the last part: it names what is missing.
    """
    out: list[str | int] = []
    node: Any = data
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        if isinstance(node, Mapping):
            if part in node:
                node = node[part]
            elif not last:
                continue
            else:
                node = None
        elif isinstance(node, list) and isinstance(part, int):
            node = node[part] if 0 <= part < len(node) else None
        elif node is not None and isinstance(part, str) and not last:
            continue
        else:
            node = None
        out.append(part)
    return tuple(out)


@dataclass(slots=True)
class YamlDocument:
    """One parsed file: its data, the line of each path, and problems found while parsing."""

    file: str
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)
    issues: list[ConfigIssue] = field(default_factory=list)

    def line_of(self, loc: Sequence[str | int]) -> int | None:
        """The line of ``loc``, or of its nearest ancestor that was written."""
        path = tuple(loc)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), None)

    def issue(self, loc: Sequence[str | int], message: str) -> ConfigIssue:
        return ConfigIssue(self.file, self.line_of(loc), format_path(loc), message)

    def validation_issues(self, exc: ValidationError, data: Any, base: Loc = ()) -> list[ConfigIssue]:
        """Pydantic's errors for ``data`` (found at ``base``) as issues, in plain words, once each.

        Inputs are never quoted, so a secret cannot leak through an error.
        """
        issues: dict[tuple[str, str], ConfigIssue] = {}
        for err in exc.errors(include_input=False, include_url=False):
            if err["type"] == "extra_forbidden":
                message = "unknown key"
            elif err["type"] == "missing":
                message = "required"
            else:
                message = err["msg"].removeprefix("Value error, ")
            issue = self.issue((*base, *real_path(data, err["loc"])), message)
            # A value failing every member of a union is reported once per member.
            issues.setdefault((issue.path, issue.message), issue)
        return list(issues.values())


def read_yaml(path: Path, display: str | None = None) -> YamlDocument:
    """Parse one YAML file; syntax errors and duplicate keys become issues, never exceptions."""
    name = display if display is not None else str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return YamlDocument(name, None, issues=[ConfigIssue(name, None, "", f"cannot read: {reason}")])
    loader = _Loader(text)
    doc = YamlDocument(name, None)
    try:
        node = loader.get_single_node()
        if node is not None:
            doc.data = loader.construct_document(node)
            doc.lines[()] = node.start_mark.line + 1
            _map_lines(loader, node, (), doc)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        return YamlDocument(name, None, issues=[ConfigIssue(name, line, "", f"invalid YAML: {problem}")])
    except yaml.YAMLError as exc:
        return YamlDocument(name, None, issues=[ConfigIssue(name, None, "", f"invalid YAML: {exc}")])
    finally:
        loader.dispose()
    return doc


def _map_lines(loader: Any, node: yaml.Node, loc: Loc, doc: YamlDocument) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[object] = set()
        for key_node, value_node in node.value:
            # Keys as the data holds them (``1:`` is the int 1), so data paths find their lines.
            key = loader.construct_object(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str | int) or isinstance(key, bool):
                key = str(key_node.value)
            child = (*loc, key)
            if key in seen:
                doc.issues.append(
                    ConfigIssue(doc.file, key_node.start_mark.line + 1, format_path(child), "duplicate key")
                )
                continue
            seen.add(key)
            doc.lines[child] = key_node.start_mark.line + 1
            _map_lines(loader, value_node, child, doc)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*loc, index)
            doc.lines[child] = item.start_mark.line + 1
            _map_lines(loader, item, child, doc)
