"""Fitted lifetime-value parameters said with their meaning, for people rather than optimizers.

``personae build``, ``personae clv fit`` and the report print a model's parameters through
:func:`model_in_words`: each rounded, beside the population mean it implies (how often a
typical customer buys while active, the chance to leave after a purchase, a typical order's
spend), so "a 0.79, b 2.43" reads as "~25% chance of leaving after each purchase" and a runaway
fit (a and b in the hundreds of thousands) says what it means. ``--json`` keeps the raw numbers.
"""

from __future__ import annotations

from typing import Any


def _g(v: float) -> str:
    """A parameter rounded for reading: 0.24, 4.41, 42.37, 819,465; tiny ones 0.0064.

    >>> [_g(v) for v in (0.2431, 4.4123, 42.371, 819465.2, 0.00641)]
    ['0.24', '4.41', '42.37', '819,465', '0.0064']
    """
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.2f}" if abs(v) >= 0.01 or v == 0 else f"{v:.2g}"


def _about(v: float) -> str:
    """A duration or amount said roughly: ~18, ~1.5, ~1,200 (two significant digits).

    >>> [_about(v) for v in (18.14, 1.46, 1234.0, 0.042)]
    ['~18', '~1.5', '~1,200', '~0.042']
    """
    rounded = float(f"{v:.2g}")
    return f"~{rounded:,.0f}" if rounded >= 10 else f"~{rounded:g}"


def model_in_words(params: dict[str, Any], time_unit: str = "D") -> tuple[str, set[str]]:
    """The fitted BTYD parameters in ``params`` said with what they mean, and the keys said.

    The means are the population's: a purchase rate λ ~ Gamma(r, α) has mean r/α, so a typical
    customer buys every α/r days while active; a dropout chance p ~ Beta(a, b) has mean
    a/(a + b); a Pareto/NBD drop-out rate μ ~ Gamma(s, β) has mean s/β, one drop-out per β/s
    days; Gamma-Gamma spend has mean pγ/(q − 1).

    >>> for part in model_in_words({"r": 0.243, "alpha": 4.41, "a": 0.793, "b": 2.43})[0].split("; "):
    ...     print(part)
    purchase rate: r 0.24, α 4.41 → a typical customer buys every ~18 days while active
    dropout: a 0.79, b 2.43 → ~25% chance of leaving after each purchase
    >>> bgbb = {"alpha": 1.204, "beta": 0.75, "gamma": 0.657, "delta": 2.783}
    >>> for part in model_in_words(bgbb)[0].split("; "):
    ...     print(part)
    purchase chance: α 1.20, β 0.75 → ~62% per opportunity while active
    dropout: γ 0.66, δ 2.78 → ~19% chance of leaving at each opportunity
    >>> model_in_words({"customers": 3})
    ('', set())
    """
    unit = "week" if time_unit.upper() == "W" else "day"
    num = {k: float(v) for k, v in params.items() if isinstance(v, int | float) and not isinstance(v, bool)}
    parts: list[str] = []
    said: set[str] = set()
    if {"r", "alpha"} <= num.keys() and num["alpha"] > 0 and num["r"] > 0:
        r, alpha = num["r"], num["alpha"]
        parts.append(
            f"purchase rate: r {_g(r)}, α {_g(alpha)} → a typical customer buys every "
            f"{_about(alpha / r)} {unit}s while active"
        )
        said |= {"r", "alpha"}
    if {"a", "b"} <= num.keys() and num["a"] + num["b"] > 0:
        a, b = num["a"], num["b"]
        text = (
            f"dropout: a {_g(a)}, b {_g(b)} → {_percent(a / (a + b))} chance of leaving after each purchase"
        )
        if a + b > 1e4:
            text += " (a and b this large: every customer drops out alike, the data cannot tell them apart)"
        parts.append(text)
        said |= {"a", "b"}
    if {"s", "beta"} <= num.keys() and num["beta"] > 0 and num["s"] > 0:
        s, beta = num["s"], num["beta"]
        parts.append(
            f"dropout: s {_g(s)}, β {_g(beta)} → a typical customer leaves at a rate of one per "
            f"{_about(beta / s)} {unit}s"
        )
        said |= {"s", "beta"}
    if {"alpha", "beta", "gamma", "delta"} <= num.keys() and "r" not in num:  # BG/BB, per opportunity
        al, be, ga, de = num["alpha"], num["beta"], num["gamma"], num["delta"]
        if al + be > 0 and ga + de > 0:
            parts.append(
                f"purchase chance: α {_g(al)}, β {_g(be)} → {_percent(al / (al + be))} "
                "per opportunity while active"
            )
            parts.append(
                f"dropout: γ {_g(ga)}, δ {_g(de)} → {_percent(ga / (ga + de))} "
                "chance of leaving at each opportunity"
            )
            said |= {"alpha", "beta", "gamma", "delta"}
    if {"gg_p", "gg_q", "gg_gamma"} <= num.keys() and num["gg_q"] > 1:
        p, q, gamma = num["gg_p"], num["gg_q"], num["gg_gamma"]
        parts.append(
            f"spend per order: p {_g(p)}, q {_g(q)}, γ {_g(gamma)} → {_about(p * gamma / (q - 1))} "
            "for a typical order"
        )
        said |= {"gg_p", "gg_q", "gg_gamma"}
    return "; ".join(parts), said


def _percent(share: float) -> str:
    """A chance said roughly: ~25%, ~1.2%, <0.1%.

    >>> [_percent(v) for v in (0.2461, 0.0123, 0.0004)]
    ['~25%', '~1.2%', '<0.1%']
    """
    if share < 0.001:
        return "<0.1%"
    return f"~{share * 100:.0f}%" if share >= 0.1 else f"~{float(f'{share * 100:.2g}'):g}%"
