"""Descriptive cluster names from the features that set a cluster apart.

A name is up to three phrases — one per distinguishing feature, strongest effect first —
followed by "customers": a cluster far above the rest on recency and on the store share of
orders, and below on e-mail engagement, becomes "Lapsed store-first email-silent customers".
Only effects of at least :data:`MIN_EFFECT` (a "medium" standardised difference) name a
cluster; a cluster with none is "Typical customers". Users rename clusters freely
(``personae clusters rename``); the generated name is kept next to theirs.

>>> name_from([("recency", "recency", 1.4), ("channel_mix:share_store", "channel_mix", 0.9)])
'Lapsed store-first customers'
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

#: Smallest |effect size| that may name a cluster.
MIN_EFFECT = 0.5
MAX_PHRASES = 3

#: (phrase when above the rest, phrase when below), by feature.
PHRASES: dict[str, tuple[str | None, str | None]] = {
    "recency": ("lapsed", "recent"),
    "frequency": ("frequent", "one-time"),
    "monetary": ("high-spending", "low-spending"),
    "aov": ("big-basket", "small-basket"),
    "tenure": ("long-standing", "new"),
    "clv": ("high-value", "low-value"),
    "p_alive": ("active", "fading"),
    "returns": ("high-return", None),
    "discount": ("discount-driven", "full-price"),
    "engagement": ("engaged", "quiet"),
    "email_open_rate": ("email-responsive", "email-silent"),
    "n_channels": ("omnichannel", None),
    "channel_focus": ("single-channel", "omnichannel"),
    "nps": ("happy", "unhappy"),
    "csat": ("satisfied", "dissatisfied"),
    "age": ("older", "young"),
}


def phrase(column: str, feature: str, effect: float) -> str | None:
    """The phrase for one distinguishing column, or ``None`` when it has none."""
    if feature == "channel_mix":
        channel = column.split("share_", 1)[-1]
        return f"{channel}-first" if effect > 0 else None
    if "=" in column:  # a level of a categorical feature: only "more of it" is descriptive
        level = column.split("=", 1)[1]
        if effect <= 0 or level in ("unknown", "other") or feature == "gender":
            return None
        return f"{level}-income" if feature == "income_band" else level
    up, down = PHRASES.get(feature, (None, None))
    return up if effect > 0 else down


def name_from(effects: Iterable[tuple[str, str, float]], taken: Sequence[str] = ()) -> str:
    """A name from ``(column, feature, effect)`` triples, distinct from the ``taken`` names."""
    ranked = sorted((e for e in effects if abs(e[2]) >= MIN_EFFECT), key=lambda e: -abs(e[2]))
    phrases: list[str] = []
    for column, feature, effect in ranked:
        p = phrase(column, feature, effect)
        if p and p not in phrases:
            phrases.append(p)
    lowered = {t.lower() for t in taken}
    for n in range(MAX_PHRASES, len(phrases) + 1):  # more phrases before a number
        name = _compose(phrases[:n])
        if name.lower() not in lowered:
            return name
    base = _compose(phrases[:MAX_PHRASES])
    i = 2
    while f"{base} #{i}".lower() in lowered:
        i += 1
    return base if base.lower() not in lowered else f"{base} #{i}"


def _compose(phrases: Sequence[str]) -> str:
    text = " ".join([*phrases, "customers"]) if phrases else "Typical customers"
    return text[0].upper() + text[1:]
