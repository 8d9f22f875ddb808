"""The pattern dialect of ``matches(x, "…")``: small, the same on every engine, and safe.

Regular expressions differ between the engines a rule runs on (RE2 in DuckDB, Java's in
Spark, Python's in the real-time evaluator): ``\\w`` is Unicode in Python and ASCII in the
others, ``.`` and ``$`` treat line ends differently, Java reads ``[a&&b]`` as an intersection.
And a backtracking engine (Python's, Java's) can take exponential time on a pattern like
``(a+)+b``: a rule must not be able to stall the service. So ``matches`` accepts a small
dialect, translates it to one portable spelling for the SQL engines, and the real-time
evaluator runs it on its own matcher, linear in the text (no backtracking).

The dialect:

* characters match themselves; ``\\`` before a punctuation character makes it literal;
* ``.`` any character (line ends too); ``\\d`` a digit 0-9, ``\\w`` an ASCII letter, digit or
  ``_``, ``\\s`` an ASCII space, tab or line end; ``[abc]``, ``[a-z0-9]``, ``[^…]`` classes;
* ``*``, ``+``, ``?``, ``{m}``, ``{m,}``, ``{m,n}`` (up to 100) after a character, ``.`` or class;
* ``^`` at the start and ``$`` at the end of an alternative anchor it to the text's start/end;
* ``a|b``: either alternative. No groups, back-references, look-arounds or flags.

The test is a search (the pattern may match anywhere unless anchored), case-sensitive
(compare ``lower(x)`` for the other), at most :data:`MAX_PATTERN` characters.

>>> p = compile_pattern(r"^94\\d{3}$")
>>> p.search("94110"), p.search("941100"), p.search("x94110")
(True, False, False)
>>> p.sql
'(?:\\\\A94[0-9]{3}\\\\z)'
>>> compile_pattern("(a+)+b")
Traceback (most recent call last):
    ...
ValueError: `(` at 1: groups are not in the pattern dialect; write the alternatives with `|`, or combine \
conditions with `or`
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

Fail = Callable[[int, str], ValueError]

#: Longest pattern accepted, in characters.
MAX_PATTERN = 200
#: Largest repeat count in ``{m,n}``.
MAX_REPEAT = 100
_SPECIAL = set("\\.[](){}*+?^$|")
_SPACE = " \t\n\r\f\x0b"
_DIGIT = (("0", "9"),)
_WORD = (("A", "Z"), ("a", "z"), ("0", "9"), ("_", "_"))


@dataclass(frozen=True)
class CharSet:
    """A set of characters: ranges (inclusive), possibly negated; ``any`` matches everything."""

    ranges: tuple[tuple[str, str], ...]
    negated: bool = False
    any: bool = False

    def __contains__(self, ch: str) -> bool:
        if self.any:
            return True
        inside = any(lo <= ch <= hi for lo, hi in self.ranges)
        return inside != self.negated

    def sql(self) -> str:
        if self.any:
            return r"[\s\S]"
        if len(self.ranges) == 1 and not self.negated and self.ranges[0][0] == self.ranges[0][1]:
            return _literal(self.ranges[0][0])
        body = "".join(
            _literal(lo) if lo == hi else f"{_literal(lo)}-{_literal(hi)}" for lo, hi in self.ranges
        )
        return f"[{'^' if self.negated else ''}{body}]"


@dataclass(frozen=True)
class Item:
    chars: CharSet
    low: int
    high: int | None  # None: unbounded

    def sql(self) -> str:
        q = {(1, 1): "", (0, None): "*", (1, None): "+", (0, 1): "?"}.get((self.low, self.high))
        if q is None:
            q = f"{{{self.low},}}" if self.high is None else f"{{{self.low},{self.high}}}"
            if self.high == self.low:
                q = f"{{{self.low}}}"
        return self.chars.sql() + q


@dataclass(frozen=True)
class Alternative:
    items: tuple[Item, ...]
    start: bool  # anchored at the text's start
    end: bool

    def sql(self) -> str:
        return (
            ("\\A" if self.start else "") + "".join(i.sql() for i in self.items) + ("\\z" if self.end else "")
        )


@dataclass(frozen=True)
class Pattern:
    """A checked pattern: ``sql`` for the SQL engines, :meth:`search` for Python."""

    text: str
    alternatives: tuple[Alternative, ...]

    @property
    def sql(self) -> str:
        return "(?:" + "|".join(a.sql() for a in self.alternatives) + ")"

    def search(self, text: str) -> bool:
        """Whether the pattern matches somewhere in ``text`` — in time linear in its length."""
        return any(_search(a, text) for a in self.alternatives)


def _literal(ch: str) -> str:
    """``ch`` spelled so that RE2, Java and Python all read it as itself (also inside ``[…]``)."""
    if ch.isascii() and not ch.isalnum() and ch != "_" and ch.isprintable() and ch != " ":
        return "\\" + ch
    if ch == "\n":
        return "\\n"
    if ch == "\t":
        return "\\t"
    if ord(ch) < 32 or ord(ch) == 127:
        return f"\\x{ord(ch):02x}"
    return ch


@lru_cache(maxsize=1024)
def compile_pattern(text: str) -> Pattern:
    """Check and compile a pattern of the dialect; ``ValueError`` with the position otherwise."""
    if len(text) > MAX_PATTERN:
        raise ValueError(f"the pattern is {len(text)} characters long; the limit is {MAX_PATTERN}")
    if not text:
        raise ValueError("the pattern is empty")
    alternatives: list[Alternative] = []
    items: list[Item] = []
    start = end = False
    i = 0

    def fail(at: int, message: str) -> ValueError:
        return ValueError(f"`{text[at]}` at {at + 1}: {message}" if at < len(text) else message)

    while i <= len(text):
        if i == len(text) or text[i] == "|":
            if not items and not start and not end:
                raise fail(i, "an alternative is empty")
            alternatives.append(Alternative(tuple(items), start, end))
            items, start, end = [], False, False
            i += 1
            continue
        ch = text[i]
        if end:
            raise fail(i, "`$` can only end an alternative")
        if ch == "^":
            if items or start:
                raise fail(i, "`^` can only begin an alternative (write `\\^` for the character)")
            start = True
            i += 1
            continue
        if ch == "$":
            nxt = text[i + 1] if i + 1 < len(text) else "|"
            if nxt != "|":
                raise fail(i, "`$` can only end an alternative (write `\\$` for the character)")
            end = True
            i += 1
            continue
        if ch in "()":
            raise fail(
                i,
                "groups are not in the pattern dialect; write the alternatives with `|`, "
                "or combine conditions with `or`",
            )
        if ch in "*+?{":
            if not items or items[-1].low != 1 or items[-1].high != 1 or _quantified(text, i - 1):
                raise fail(i, "a repeat must follow a character, `.` or a class (and only one repeat)")
            low, high, i = _repeat(text, i, fail)
            items[-1] = Item(items[-1].chars, low, high)
            continue
        if ch in "]}":
            raise fail(i, f"write `\\{ch}` for the character")
        chars, i = _atom(text, i, fail)
        items.append(Item(chars, 1, 1))
    return Pattern(text, tuple(alternatives))


def _quantified(text: str, at: int) -> bool:
    """Whether the character before ``at + 1`` closed a repeat (``a**``, ``a{2}?``)."""
    return at >= 0 and text[at] in "*+?}" and (at == 0 or text[at - 1] != "\\")


def _repeat(text: str, i: int, fail: Fail) -> tuple[int, int | None, int]:
    ch = text[i]
    if ch == "*":
        return 0, None, i + 1
    if ch == "+":
        return 1, None, i + 1
    if ch == "?":
        return 0, 1, i + 1
    close = text.find("}", i)
    body = text[i + 1 : close] if close > 0 else ""
    low_text, comma, high_text = body.partition(",")
    if close < 0 or not low_text.isdigit() or (high_text and not high_text.isdigit()):
        raise fail(i, "write a repeat as {m}, {m,} or {m,n}")
    low = int(low_text)
    high = None if comma and not high_text else int(high_text) if high_text else low
    if low > MAX_REPEAT or (high is not None and (high > MAX_REPEAT or high < low)):
        raise fail(i, f"repeats go from 0 to {MAX_REPEAT}, the smaller first")
    if high == 0:
        raise fail(i, "a repeat of at most 0 matches nothing")
    return low, high, close + 1


def _escape(text: str, i: int, fail: Fail) -> tuple[tuple[tuple[str, str], ...], bool, int]:
    """The ranges of ``\\x`` at ``i`` (``\\d`` …), whether it is negated, and the next index."""
    if i + 1 >= len(text):
        raise fail(i, "a pattern cannot end with `\\`")
    nxt = text[i + 1]
    classes = {"d": _DIGIT, "w": _WORD, "s": tuple((c, c) for c in _SPACE)}
    if nxt.lower() in classes:
        return classes[nxt.lower()], nxt.isupper(), i + 2
    if nxt.isascii() and not nxt.isalnum() and nxt.isprintable():
        return ((nxt, nxt),), False, i + 2
    raise fail(i, f"`\\{nxt}` is not in the pattern dialect (\\d, \\w, \\s or `\\` before punctuation)")


def _atom(text: str, i: int, fail: Fail) -> tuple[CharSet, int]:
    ch = text[i]
    if ch == ".":
        return CharSet((), any=True), i + 1
    if ch == "\\":
        found, negated, i = _escape(text, i, fail)
        return CharSet(found, negated), i
    if ch != "[":
        return CharSet(((ch, ch),)), i + 1
    i += 1
    negated = i < len(text) and text[i] == "^"
    i += negated
    ranges: list[tuple[str, str]] = []
    while i < len(text) and (text[i] != "]" or not ranges):
        c = text[i]
        if c == "[":
            raise fail(i, "write `\\[` for the character inside a class")
        if c == "\\":
            found, neg, i = _escape(text, i, fail)
            if neg:
                raise fail(i - 2, "\\D, \\W and \\S cannot be inside a class")
            ranges.extend(found)
            continue
        if c == "]":
            raise fail(i, "the class is empty (write `\\]` for the character)")
        if i + 2 < len(text) and text[i + 1] == "-" and text[i + 2] != "]":
            hi = text[i + 2]
            if hi == "\\" or hi < c:
                raise fail(i, "a range goes from a smaller character to a larger one, e.g. a-z")
            ranges.append((c, hi))
            i += 3
            continue
        ranges.append((c, c))
        i += 1
    if i >= len(text):
        raise ValueError(f"the class opened with `[` is not closed with `]` in {text!r}")
    return CharSet(tuple(ranges), negated), i + 1


def _search(alt: Alternative, text: str) -> bool:
    """Simulate the alternative as an automaton: states are (item, repeats so far) pairs, each
    character moves every state at once, so the time is len(text) × the number of states."""
    items = alt.items

    def close(states: set[tuple[int, int]]) -> set[tuple[int, int]]:
        # skip items whose repeats are satisfied (an item may have matched enough already)
        out: set[tuple[int, int]] = set()
        todo = list(states)
        while todo:
            k, n = todo.pop()
            if (k, n) in out:
                continue
            out.add((k, n))
            if k < len(items) and n >= items[k].low:
                todo.append((k + 1, 0))
        return out

    def accepted(states: set[tuple[int, int]]) -> bool:
        return (len(items), 0) in states

    begin = close({(0, 0)})
    states = set(begin)
    if accepted(states) and not alt.end:
        return True
    for ch in text:
        if accepted(states) and not alt.end:
            return True
        moved: set[tuple[int, int]] = set()
        for k, n in states:
            if k < len(items):
                item = items[k]
                if (item.high is None or n < item.high) and ch in item.chars:
                    moved.add((k, min(n + 1, item.low) if item.high is None else n + 1))
        states = close(moved)
        if not alt.start:
            states |= begin
        if not states:
            return False
    return accepted(states)
