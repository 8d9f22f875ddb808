"""The segment rule language: tokens, a recursive-descent parser and the syntax tree.

Rules are parsed once into small frozen dataclasses; nothing is ever ``eval``-ed and no SQL is
built from the text. The grammar (also in docs/segments.md)::

    rule       = or_expr ;
    or_expr    = and_expr { "or" and_expr } ;
    and_expr   = not_expr { "and" not_expr } ;
    not_expr   = "not" not_expr | predicate ;
    predicate  = operand [ compare_op operand
                         | [ "not" ] "between" operand "and" operand
                         | [ "not" ] "in" operand
                         | "is" [ "not" ] "null" ] ;
    operand    = literal | list | call | name | "(" or_expr ")" ;
    call       = name "(" [ argument { "," argument } ] ")" ;
    argument   = [ name "=" ] operand ;
    list       = "[" [ literal { "," literal } ] "]" ;
    literal    = string | number | "true" | "false" | "null" ;
    compare_op = "==" | "!=" | "<" | "<=" | ">" | ">=" ;

Keywords are case-insensitive; names are not. A name may have dots (``context.campaign.source``):
only an event property in a ``where`` condition can (a nested key). Strings use double or single quotes with
backslash escapes. Every node keeps its character offset so errors can point at it.

>>> parse_rule('recency_days <= 30 and frequency >= 3').operands[0]
Comparison(op='<=', left=Name(name='recency_days', pos=0), right=Literal(value=30, pos=16), pos=13)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from personae.errors import RuleError

#: Longest rule accepted, in characters.
MAX_RULE_LENGTH = 4000
#: Deepest nesting of parentheses, ``not`` and calls.
MAX_DEPTH = 25
#: Most items in one list literal.
MAX_LIST_ITEMS = 1000
_MAX_INT = 2**63 - 1

KEYWORDS = frozenset({"and", "or", "not", "in", "between", "is", "null", "true", "false"})
COMPARE_OPS = ("==", "!=", "<=", ">=", "<", ">")

_TOKEN = re.compile(
    r"(?P<space>\s+)"
    r"|(?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)"
    r"|(?P<op>==|!=|<=|>=|<>|=>|=<|&&|\|\||[<>=!&|])"
    r"|(?P<punct>[()\[\],\-])"
)
_EQUALS = "use `==` to compare (a single `=` only names a function argument)"
_MISTAKES = {
    "<>": "use `!=`",
    "=>": "use `>=`",
    "=<": "use `<=`",
    "&&": "use `and`",
    "&": "use `and`",
    "||": "use `or`",
    "|": "use `or`",
    "!": "use `not`",
}
_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "'": "'"}


# -- syntax tree --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Literal:
    value: str | int | float | bool | None
    pos: int


@dataclass(frozen=True)
class ListLiteral:
    items: tuple[Literal, ...]
    pos: int


@dataclass(frozen=True)
class Name:
    name: str
    pos: int


@dataclass(frozen=True)
class Argument:
    keyword: str | None
    value: Node
    pos: int


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Argument, ...]
    pos: int


@dataclass(frozen=True)
class Comparison:
    op: str
    left: Node
    right: Node
    pos: int


@dataclass(frozen=True)
class Between:
    operand: Node
    low: Node
    high: Node
    negated: bool
    pos: int


@dataclass(frozen=True)
class Membership:
    item: Node
    container: Node
    negated: bool
    pos: int


@dataclass(frozen=True)
class NullCheck:
    operand: Node
    negated: bool
    pos: int


@dataclass(frozen=True)
class Not:
    operand: Node
    pos: int


@dataclass(frozen=True)
class BoolOp:
    op: str  # "and" | "or"
    operands: tuple[Node, ...]
    pos: int


Node = Literal | ListLiteral | Name | Call | Comparison | Between | Membership | NullCheck | Not | BoolOp


# -- tokens -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Token:
    kind: str  # name, keyword, string, number, op, punct, end
    text: str
    pos: int
    value: Any = None


def caret(rule: str, position: int | None) -> str:
    """The rule's line with a caret under ``position`` (two lines, indented), for error output.

    Example:
        >>> print(caret("recency_days <= 30 and frequnecy >= 3", 23))
          recency_days <= 30 and frequnecy >= 3
                                 ^
    """
    if position is None:
        return ""
    position = max(0, min(position, len(rule)))
    start = rule.rfind("\n", 0, position) + 1
    end = rule.find("\n", position)
    line = rule[start:] if end < 0 else rule[start:end]
    return f"  {line}\n  {' ' * (position - start)}^"


def column(rule: str, position: int) -> int:
    """1-based column of ``position`` (on its line), as shown to users."""
    return position - (rule.rfind("\n", 0, position) + 1) + 1


def tokenize(rule: str) -> list[Token]:
    """Split a rule into tokens; raise :class:`RuleError` at the first character that is not one."""
    tokens: list[Token] = []
    i = 0
    while i < len(rule):
        ch = rule[i]
        if ch in "\"'":
            tokens.append(_string(rule, i))
            i += len(tokens[-1].text)
            continue
        m = _TOKEN.match(rule, i)
        if not m:
            raise _error(rule, i, f"unexpected character `{ch}` at column {column(rule, i)}")
        kind, text = m.lastgroup or "", m.group()
        if kind == "op" and text in _MISTAKES:
            raise _error(rule, i, f"`{text}` at column {column(rule, i)}: {_MISTAKES[text]}")
        if kind == "name" and text.lower() in KEYWORDS:
            tokens.append(Token("keyword", text.lower(), i))
        elif kind == "number":
            tokens.append(Token("number", text, i, _number(rule, i, text)))
        elif kind != "space":
            tokens.append(Token(kind, text, i))
        i = m.end()
    tokens.append(Token("end", "", len(rule)))
    return tokens


def _string(rule: str, start: int) -> Token:
    quote, out, i = rule[start], [], start + 1
    while i < len(rule):
        ch = rule[i]
        if ch == "\\" and i + 1 < len(rule):
            nxt = rule[i + 1]
            if nxt not in _ESCAPES:
                raise _error(rule, i, f"unknown escape `\\{nxt}` in a string at column {column(rule, i)}")
            out.append(_ESCAPES[nxt])
            i += 2
            continue
        if ch == quote:
            return Token("string", rule[start : i + 1], start, "".join(out))
        out.append(ch)
        i += 1
    raise _error(
        rule, start, f"unterminated string starting at column {column(rule, start)}: close it with {quote}"
    )


def _number(rule: str, pos: int, text: str) -> int | float:
    if re.fullmatch(r"\d+", text):
        value = int(text)
        if value > _MAX_INT:
            raise _error(rule, pos, f"number {text} at column {column(rule, pos)} is too large")
        return value
    number = float(text)
    if number != number or number in (float("inf"), float("-inf")):
        raise _error(rule, pos, f"number {text} at column {column(rule, pos)} is too large")
    return number


def _error(rule: str, pos: int, message: str, suggestions: list[str] | None = None) -> RuleError:
    return RuleError(message, rule=rule, position=pos, suggestions=suggestions)


def describe(token: Token) -> str:
    if token.kind == "end":
        return "the end of the rule"
    return f"`{token.text}`"


# -- parser -------------------------------------------------------------------------------------
def parse_rule(rule: str) -> Node:
    """Parse a rule into its syntax tree, or raise :class:`RuleError` pointing at the problem.

    Only the syntax is read here: names are not looked up (see
    :func:`personae.segments.check.check_rule`).

    Example:
        >>> parse_rule("age between 25 and 34")  # doctest: +NORMALIZE_WHITESPACE
        Between(operand=Name(name='age', pos=0), low=Literal(value=25, pos=12),
                high=Literal(value=34, pos=19), negated=False, pos=4)
        >>> parse_rule("recency_days <> 30")
        Traceback (most recent call last):
            ...
        personae.errors.RuleError: `<>` at column 14: use `!=`
    """
    if len(rule) > MAX_RULE_LENGTH:
        raise RuleError(
            f"rule is {len(rule):,} characters long; the limit is {MAX_RULE_LENGTH:,}",
            rule=rule[:200],
            position=None,
            hint="split it into segments combined with in_segment()",
        )
    if not rule.strip():
        raise RuleError(
            "the rule is empty", rule=rule, position=0, hint="write a condition, e.g. recency_days <= 30"
        )
    return _Parser(rule).parse()


class _Parser:
    def __init__(self, rule: str) -> None:
        self.rule = rule
        self.tokens = tokenize(rule)
        self.i = 0
        self.depth = 0

    # helpers
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def at(self, kind: str, text: str | None = None) -> bool:
        return self.tok.kind == kind and (text is None or self.tok.text == text)

    def expect(self, kind: str, text: str, what: str) -> Token:
        if not self.at(kind, text):
            raise self.fail(
                f"expected {what} at column {column(self.rule, self.tok.pos)}, found {describe(self.tok)}"
            )
        return self.advance()

    def fail(self, message: str, pos: int | None = None) -> RuleError:
        return _error(self.rule, self.tok.pos if pos is None else pos, message)

    def enter(self, pos: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(
                f"the rule nests deeper than {MAX_DEPTH} levels at column {column(self.rule, pos)}", pos
            )

    # grammar
    def parse(self) -> Node:
        node = self.or_expr()
        if not self.at("end"):
            raise self.fail(
                f"unexpected {describe(self.tok)} at column {column(self.rule, self.tok.pos)}: "
                "expected `and`, `or` or the end of the rule"
            )
        return node

    def or_expr(self) -> Node:
        return self._chain("or", self.and_expr)

    def and_expr(self) -> Node:
        return self._chain("and", self.not_expr)

    def _chain(self, op: str, part: Any) -> Node:
        first = part()
        items = [first]
        while self.at("keyword", op):
            self.advance()
            items.append(part())
        return first if len(items) == 1 else BoolOp(op, tuple(items), _pos(first))

    def not_expr(self) -> Node:
        if self.at("keyword", "not"):
            tok = self.advance()
            self.enter(tok.pos)
            node = Not(self.not_expr(), tok.pos)
            self.depth -= 1
            return node
        return self.predicate()

    def predicate(self) -> Node:
        left = self.operand()
        tok = self.tok
        if tok.kind == "op" and tok.text == "=":
            raise self.fail(f"`=` at column {column(self.rule, tok.pos)}: {_EQUALS}")
        if tok.kind == "op" and tok.text in COMPARE_OPS:
            self.advance()
            node: Node = Comparison(tok.text, left, self.operand(), tok.pos)
            if self.tok.kind == "op" and self.tok.text in COMPARE_OPS:
                raise self.fail(
                    f"comparisons cannot be chained (column {column(self.rule, self.tok.pos)}): "
                    "join them with `and`, or use `between`"
                )
            return node
        negated = False
        if tok.kind == "keyword" and tok.text == "not" and self.tokens[self.i + 1].text in ("in", "between"):
            negated = True
            self.advance()
        if self.at("keyword", "between"):
            self.advance()
            low = self.operand()
            self.expect("keyword", "and", "`and` (between LOW and HIGH)")
            return Between(left, low, self.operand(), negated, tok.pos)
        if self.at("keyword", "in"):
            self.advance()
            return Membership(left, self.operand(), negated, tok.pos)
        if self.at("keyword", "is"):
            self.advance()
            is_not = False
            if self.at("keyword", "not"):
                self.advance()
                is_not = True
            self.expect("keyword", "null", "`null` after `is` (write `is null` or `is not null`)")
            return NullCheck(left, is_not, tok.pos)
        return left

    def operand(self) -> Node:
        tok = self.tok
        if tok.kind in ("string", "number"):
            self.advance()
            return Literal(tok.value, tok.pos)
        if tok.kind == "punct" and tok.text == "-":
            self.advance()
            if not self.at("number"):
                raise self.fail(
                    f"expected a number after `-` at column {column(self.rule, tok.pos)}", tok.pos
                )
            return Literal(-self.advance().value, tok.pos)
        if tok.kind == "keyword" and tok.text in ("true", "false", "null"):
            self.advance()
            return Literal({"true": True, "false": False, "null": None}[tok.text], tok.pos)
        if tok.kind == "punct" and tok.text == "[":
            return self.list_literal()
        if tok.kind == "punct" and tok.text == "(":
            self.advance()
            self.enter(tok.pos)
            node = self.or_expr()
            self.depth -= 1
            self.expect("punct", ")", "`)` to close the `(` at column " + str(column(self.rule, tok.pos)))
            return node
        if tok.kind == "name":
            self.advance()
            if self.at("punct", "("):
                return self.call(tok)
            return Name(tok.text, tok.pos)
        raise self.fail(
            f"expected a value (a name, number, string, list or `(`) at column "
            f"{column(self.rule, tok.pos)}, found {describe(tok)}"
        )

    def call(self, name: Token) -> Call:
        self.enter(name.pos)
        self.advance()  # (
        args: list[Argument] = []
        while not self.at("punct", ")"):
            if args:
                self.expect("punct", ",", f"`,` or `)` in the call of {name.text}")
            start = self.tok
            keyword = None
            if (
                start.kind == "name"
                and self.tokens[self.i + 1].kind == "op"
                and self.tokens[self.i + 1].text == "="
            ):
                keyword = start.text
                self.i += 2
            elif start.kind == "name" and self.tokens[self.i + 1].text == "==":
                raise self.fail(
                    f"use `=` to give the argument `{start.text}` of {name.text} "
                    f"(column {column(self.rule, start.pos)})",
                    start.pos,
                )
            args.append(Argument(keyword, self.operand(), start.pos))
        self.advance()  # )
        self.depth -= 1
        return Call(name.text, tuple(args), name.pos)

    def list_literal(self) -> ListLiteral:
        open_ = self.advance()
        items: list[Literal] = []
        while not self.at("punct", "]"):
            if items:
                self.expect("punct", ",", "`,` or `]` in the list")
            item = self.operand()
            if not isinstance(item, Literal):
                raise _error(
                    self.rule,
                    _pos(item),
                    "a list holds only strings, numbers or true/false "
                    f"(column {column(self.rule, _pos(item))})",
                )
            items.append(item)
            if len(items) > MAX_LIST_ITEMS:
                raise self.fail(
                    f"the list at column {column(self.rule, open_.pos)} has more than {MAX_LIST_ITEMS} items",
                    open_.pos,
                )
        self.advance()
        return ListLiteral(tuple(items), open_.pos)


def _pos(node: Node) -> int:
    return node.pos
