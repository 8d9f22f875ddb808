"""Segment definitions: a name, a rule and a description — and checking a set of them together.

Definitions are plain data (stored, versioned, by :mod:`personae.app.segments.library`). A set of
definitions is checked as a whole because rules refer to each other: every ``in_segment``
must name a known segment, and the references must not form a cycle.

YAML files (``personae segments add --file``) and the template library use one format::

    segments:
      - name: Cart abandoners
        rule: events("add_to_cart", within="7d") >= 1 and orders(within="7d") == 0
        description: Added to cart in the last week, no order since.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import datetime
from typing import Any

import yaml

from personae.errors import InputError, RuleError
from personae.segments.check import check_rule
from personae.segments.dependencies import dependency_order
from personae.segments.expr import CheckedRule
from personae.segments.language import Call, Literal, parse_rule

#: Longest segment name.
MAX_NAME_LENGTH = 80
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _\-:'.&/+()#]*$")
#: Prefixes of built-in segment families; defined segments may not use them.
RESERVED_PREFIXES = ("lifecycle:", "value:", "cluster:")


@dataclass(frozen=True)
class SegmentDefinition:
    """One segment as the user defined it (or as personae builds it in).

    Attributes:
        name: unique, case-sensitive; what ``in_segment`` and the CLI use.
        rule: the rule text.
        description: what it is for, for people.
        version: 1 for the first definition of the name, +1 per edit; 0 for built-ins.
        builtin: derived from traits and always present.
        source: where it came from (``cli``, a file, ``template:…``, ``builtin``).
        extra: other keys of a template (``approach``, ``example_of``…).
    """

    name: str
    rule: str
    description: str = ""
    version: int = 0
    builtin: bool = False
    source: str = ""
    created_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "rule": self.rule,
            "description": self.description,
            "version": self.version,
            "builtin": self.builtin,
            "source": self.source,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            **self.extra,
        }


def validate_name(name: str, builtin_names: Iterable[str] = ()) -> str:
    """The name, stripped, if a defined segment may use it; else :class:`InputError`.

    Example:
        >>> validate_name("  VIP shoppers ")
        'VIP shoppers'
        >>> validate_name("Champions", builtin_names=["Champions"])
        Traceback (most recent call last):
            ...
        personae.errors.InputError: 'Champions' is a built-in segment name (choose another name)
    """
    name = name.strip()
    if not name:
        raise InputError("a segment needs a name")
    if len(name) > MAX_NAME_LENGTH:
        raise InputError(f"segment name is {len(name)} characters long; the limit is {MAX_NAME_LENGTH}")
    if not _NAME.match(name):
        raise InputError(
            f"segment name {name!r}: use letters, digits, spaces and _ - : ' . & / + ( ) #, "
            "starting with a letter or digit"
        )
    if name in set(builtin_names) or name.startswith(RESERVED_PREFIXES):
        raise InputError(f"{name!r} is a built-in segment name", hint="choose another name")
    return name


def parse_definitions(text: str, source: str) -> list[SegmentDefinition]:
    """Definitions from YAML text: ``segments: [{name, rule, description}, …]`` or a bare list."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError(f"{source}: not valid YAML: {exc}") from None
    items = data.get("segments") if isinstance(data, dict) else data
    if not isinstance(items, list) or not items:
        raise InputError(
            f"{source}: expected a list of segments under `segments:`",
            hint="each item has name, rule and optionally description",
        )
    out = []
    for i, item in enumerate(items, 1):
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("name"), str)
            or not isinstance(item.get("rule"), str)
        ):
            raise InputError(f"{source}: segment #{i} needs a `name` and a `rule` (both text)")
        extra = {k: v for k, v in item.items() if k not in ("name", "rule", "description")}
        out.append(
            SegmentDefinition(
                item["name"].strip(),
                item["rule"].strip(),
                str(item.get("description") or "").strip(),
                source=source,
                extra=extra,
            )
        )
    names = [d.name for d in out]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InputError(f"{source}: segment(s) defined twice: {', '.join(duplicates)}")
    return out


def referenced_segments(rule: str) -> set[str]:
    """The names a rule passes to ``in_segment``, read from its syntax alone.

    Unlike :func:`check_rule` this does not fail on an unknown trait, so it also answers for a
    stored rule that no longer checks (``personae segments remove`` must still see who uses
    a segment). A rule that does not even parse refers to nothing.

    Example:
        >>> sorted(referenced_segments('in_segment("Champions") and not in_segment("staff")'))
        ['Champions', 'staff']
        >>> referenced_segments('in_segment("Champions") and no_such_trait > 1')
        {'Champions'}
        >>> referenced_segments('in_segment("Champions" and')
        set()
    """
    try:
        tree = parse_rule(rule)
    except RuleError:
        return set()
    found: set[str] = set()
    stack: list[Any] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, Call):
            if node.name == "in_segment":
                found |= {
                    a.value.value
                    for a in node.args
                    if a.keyword in (None, "name")
                    and isinstance(a.value, Literal)
                    and isinstance(a.value.value, str)
                }
            stack += [a.value for a in node.args]
        elif is_dataclass(node):
            for f in fields(node):
                value = getattr(node, f.name)
                stack += value if isinstance(value, tuple) else [value]
    return found


def named_rule_error(name: str, exc: RuleError) -> RuleError:
    """``exc`` with the segment's name in front of its message (position and hints kept)."""
    return RuleError(
        f"segment {name!r}: {exc.message}",
        rule=exc.rule,
        position=exc.position,
        suggestions=exc.suggestions,
        hint=exc.hint,
    )


def check_definitions(
    definitions: Mapping[str, SegmentDefinition], *, strict: bool = True
) -> tuple[dict[str, CheckedRule], dict[str, RuleError]]:
    """Check every definition against the others; return them in dependency order.

    Args:
        definitions: every segment by name (built-in and defined).
        strict: raise the first error; otherwise skip bad definitions (and the ones that
            depend on them) and return their errors — a build keeps going.

    Returns:
        ``(checked rules in dependency order, errors by name)``.
    """
    names = set(definitions)
    checked: dict[str, CheckedRule] = {}
    errors: dict[str, RuleError] = {}
    for name, d in definitions.items():
        try:
            checked[name] = check_rule(d.rule, segments=names, self_name=name)
        except RuleError as exc:
            if strict:
                raise named_rule_error(name, exc) from None
            errors[name] = exc
    graph = {n: r.references for n, r in checked.items()}
    order = dependency_order(graph)
    changed = True
    while changed:  # drop rules that use a failed one
        changed = False
        for n in order:
            if n in checked and any(ref in errors for ref in checked[n].references):
                errors[n] = RuleError(
                    f"uses a segment whose rule is invalid: "
                    f"{', '.join(sorted(r for r in checked[n].references if r in errors))}"
                )
                del checked[n]
                changed = True
    return {n: checked[n] for n in order if n in checked}, errors
