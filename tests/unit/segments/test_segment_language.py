"""The rule grammar: what parses into which tree, and every kind of syntax error."""

from __future__ import annotations

import pytest

from personae.errors import RuleError
from personae.segments import language as s
from personae.segments.language import MAX_DEPTH, MAX_LIST_ITEMS, MAX_RULE_LENGTH, caret, parse_rule, tokenize

EXAMPLES = [
    "recency_days <= 30 and frequency >= 3",
    'events("add_to_cart", within="7d") >= 1 and orders(within="7d") == 0',
    'events("product_view", category="shoes", within="14d") >= 2 '
    'and orders(category="shoes", within="14d") == 0',
    'region in ["North", "South"] and age between 25 and 34',
    '"outdoor" in interests',
    'orders(channel="web", within="365d") >= 1 and orders(channel="store", within="365d") == 0',
    "frequency == 1 and days_since_first_order <= 30",
    'days_until_birthday <= 14 and consent("email")',
    'in_segment("Champions") and not in_segment("staff")',
    'affinity("team:Lakers") >= 0.5',
    'value_tier == "top10" and p_alive < 0.5',
    'spend(category="shoes", within="90d") > 100',
]


@pytest.mark.parametrize("rule", EXAMPLES)
def test_every_example_parses(rule: str) -> None:
    assert parse_rule(rule) is not None


def test_and_binds_tighter_than_or() -> None:
    tree = parse_rule("a == 1 or b == 2 and c == 3")
    assert isinstance(tree, s.BoolOp) and tree.op == "or"
    assert isinstance(tree.operands[1], s.BoolOp) and tree.operands[1].op == "and"


def test_parentheses_and_not() -> None:
    tree = parse_rule("not (a == 1 or b == 2)")
    assert isinstance(tree, s.Not) and isinstance(tree.operand, s.BoolOp)


def test_between_consumes_its_and() -> None:
    tree = parse_rule("age between 25 and 34 and region == 'x'")
    assert isinstance(tree, s.BoolOp) and tree.op == "and" and len(tree.operands) == 2
    assert isinstance(tree.operands[0], s.Between)


def test_negated_forms() -> None:
    assert parse_rule("a not in [1]").negated  # type: ignore[union-attr]
    assert parse_rule("a not between 1 and 2").negated  # type: ignore[union-attr]
    assert parse_rule("a is not null").negated  # type: ignore[union-attr]
    assert not parse_rule("a is null").negated  # type: ignore[union-attr]


def test_keywords_are_case_insensitive_names_are_not() -> None:
    tree = parse_rule("Frequency >= 1 AND NOT x IS NULL")
    assert isinstance(tree, s.BoolOp)
    assert tree.operands[0].left == s.Name("Frequency", 0)  # type: ignore[union-attr]


def test_literals() -> None:
    tree = parse_rule('x in ["a\\"b", \'c\', -2, 3.5, 1e3, true, false]')
    assert [i.value for i in tree.container.items] == ['a"b', "c", -2, 3.5, 1000.0, True, False]  # type: ignore[union-attr]


def test_call_arguments_positional_and_named() -> None:
    tree = parse_rule('events("add_to_cart", within="7d") >= 1')
    call = tree.left  # type: ignore[union-attr]
    assert isinstance(call, s.Call) and call.name == "events"
    assert [(a.keyword, a.value.value) for a in call.args] == [(None, "add_to_cart"), ("within", "7d")]  # type: ignore[union-attr]


def test_positions_point_at_the_source() -> None:
    rule = "recency_days <= 30 and frequency >= 3"
    tree = parse_rule(rule)
    second = tree.operands[1]  # type: ignore[union-attr]
    assert rule[second.left.pos :].startswith("frequency")
    assert rule[second.pos :].startswith(">=")


def test_tokenize_keeps_offsets() -> None:
    toks = tokenize('a >= "x y"')
    assert [(t.kind, t.pos) for t in toks] == [("name", 0), ("op", 2), ("string", 5), ("end", 10)]


@pytest.mark.parametrize(
    ("rule", "message", "position"),
    [
        ("", "the rule is empty", 0),
        ("   ", "the rule is empty", 0),
        ("age = 3", "use `==` to compare", 4),
        ("a && b", "use `and`", 2),
        ("a || b", "use `or`", 2),
        ("a <> 1", "use `!=`", 2),
        ("!a", "use `not`", 0),
        ('x == "abc', "unterminated string", 5),
        ('x == "a\\qb"', "unknown escape", 7),
        ("x == 1 $", "unexpected character `$`", 7),
        ("x ==", "expected a value", 4),
        ("(x == 1", "expected `)`", 7),
        ("x == 1)", "unexpected `)`", 6),
        ("1 < 2 < 3", "cannot be chained", 6),
        ("age between 1 or 2", "expected `and`", 14),
        ("x is 1", "expected `null`", 5),
        ("x in [1, y]", "a list holds only", 9),
        ("x in [1 2]", "expected `,` or `]`", 8),
        ("f(a == 1)", "use `=` to give the argument", 2),
        ("f(1 2)", "expected `,` or `)`", 4),
        ("- x", "expected a number after `-`", 0),
        ("x == 99999999999999999999", "too large", 5),
        ("x == 1 y", "expected `and`, `or` or the end", 7),
    ],
)
def test_syntax_errors_point_at_the_problem(rule: str, message: str, position: int) -> None:
    with pytest.raises(RuleError) as err:
        parse_rule(rule)
    assert message in str(err.value)
    assert err.value.position == position
    assert err.value.rule == rule


def test_length_limit() -> None:
    with pytest.raises(RuleError, match="limit is 4,000"):
        parse_rule("a == 1 or " * (MAX_RULE_LENGTH // 10) + "a == 1")


def test_nesting_limit_is_an_error_not_a_crash() -> None:
    deep = "(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1)
    with pytest.raises(RuleError, match="nests deeper"):
        parse_rule(deep)
    nots = "not " * (MAX_DEPTH + 1) + "a"
    with pytest.raises(RuleError, match="nests deeper"):
        parse_rule(nots)
    assert parse_rule("(" * (MAX_DEPTH - 1) + "a" + ")" * (MAX_DEPTH - 1))


def test_list_length_limit() -> None:
    items = ", ".join("1" for _ in range(MAX_LIST_ITEMS + 1))
    with pytest.raises(RuleError, match="more than 1000 items"):
        parse_rule(f"x in [{items}]")


def test_caret_points_at_the_column() -> None:
    assert caret("recncy_days <= 30", 0) == "  recncy_days <= 30\n  ^"
    assert caret("a == 1\nand b", 10) == "  and b\n     ^"
    assert caret("abc", None) == ""
