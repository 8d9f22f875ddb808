"""Descriptive cluster names from what sets a cluster apart from the rest.

A name is built from the cluster's distinguishing features — standardised differences of
means (Cohen's d) and of shares of a level (Cohen's h), strongest first, demographics and
taste included — up to three phrases with |effect| ≥ :data:`MIN_EFFECT` (a "medium" effect):

* behaviour, value, channel and attitude phrases are adjectives: "lapsed", "store-first";
* gender is the noun ("women", "men"; otherwise "customers"); a region or country is an
  adjective ("North", "US");
* an age band and a taste follow: "aged 25-34", "who love Drama" (or, alone, "Drama lovers").

So a cluster far above the rest on recency and the store share, and below on e-mail
engagement, is "Lapsed store-first email-silent customers"; one of women aged 25-34 who
watch drama is "Women aged 25-34 who love Drama". A cluster whose differences are all small
(0.2 ≤ |effect| < 0.5) gets its two strongest with "(slight)"; "Typical customers" only
when nothing differs by 0.2 or more.

Names are unique: a name already taken grows by the cluster's next phrases (small effects
included); if the two clusters still read the same, the name adds the feature on which they
differ most ("… more frequent"), and only clusters identical on every feature get "#2".
Users rename clusters freely (``personae clusters rename``); the generated name is kept
next to theirs.

>>> name_from([("recency", "recency", 1.4), ("channel_mix:share_store", "channel_mix", 0.9)])
'Lapsed store-first customers'
>>> name_from([("gender=female", "gender", 1.5), ("age_band=25-34", "age_band", 0.9),
...            ("taste:Drama", "taste", 0.7)])
'Women aged 25-34 who love Drama'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

#: Smallest |effect size| that names a cluster plainly, and the smallest that names it at all.
MIN_EFFECT = 0.5
MIN_SLIGHT = 0.2
MAX_PHRASES = 3
#: Most tastes one name lists ("Drama and Comedy lovers").
MAX_TASTES = 2

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
    "sentiment": ("positive", "negative"),
    "sentiment_90d": ("positive", "negative"),
    "complaints_90d": ("complaining", None),
}
#: Comparatives for telling two otherwise same-named clusters apart ("… (more frequent)").
COMPARATIVES: dict[str, tuple[str, str]] = {
    "recency": ("less recent", "more recent"),
    "frequency": ("more frequent", "less frequent"),
    "monetary": ("higher-spending", "lower-spending"),
    "aov": ("bigger baskets", "smaller baskets"),
    "tenure": ("longer-standing", "newer"),
    "clv": ("higher-value", "lower-value"),
    "age": ("older", "younger"),
}
WOMEN = {"f", "female", "w", "woman", "women"}
MEN = {"m", "male", "man", "men"}
#: Where a phrase goes: before the noun, the noun, or after a comma.
ADJ, NOUN, TAIL = "adj", "noun", "tail"


def phrase(column: str, feature: str, effect: float) -> tuple[str, str] | None:
    """The phrase for one distinguishing column and where it goes, or ``None``."""
    if feature == "channel_mix":
        channel = column.split("share_", 1)[-1]
        return (f"{channel}-first", ADJ) if effect > 0 else None
    if feature == "taste":
        category = column.split(":", 1)[-1].replace("|", "/")
        return (f"{category} lovers", TAIL) if effect > 0 and category else None
    if "=" in column:  # a level of a categorical feature: only "more of it" is descriptive
        level = column.split("=", 1)[1]
        if effect <= 0 or level.lower() in ("unknown", "other", ""):
            return None
        if feature == "gender":
            key = level.strip().lower()
            return ("women" if key in WOMEN else "men" if key in MEN else level.replace("_", "-"), NOUN)
        if feature == "age_band":
            return (level, TAIL)
        return (f"{level}-income" if feature == "income_band" else level, ADJ)
    up, down = PHRASES.get(feature, (None, None))
    text = up if effect > 0 else down
    return (text, ADJ) if text else None


Effects = Iterable[tuple[str, str, float]]


def same_words(name: str) -> tuple[str, ...]:
    """What two names must differ in: their words, in any order ("Recent high-value
    customers" and "High-value recent customers" say the same)."""
    return tuple(sorted(name.lower().replace(",", " ").replace("(", " ").replace(")", " ").split()))


def _phrases(effects: Effects, floor: float) -> list[tuple[str, str]]:
    """Distinct phrases of the effects with |effect| ≥ ``floor``, strongest first (one noun)."""
    ranked = sorted((e for e in effects if abs(e[2]) >= floor), key=lambda e: (-abs(e[2]), e[0]))
    out: list[tuple[str, str]] = []
    for column, feature, effect in ranked:
        p = phrase(column, feature, effect)
        if p is None or p[0] in {q[0] for q in out}:
            continue
        if p[1] == NOUN and any(q[1] == NOUN for q in out):
            continue  # one noun
        if feature == "taste" and sum(q[0].endswith(" lovers") for q in out) >= MAX_TASTES:
            continue
        out.append(p)
    return out


def compose(phrases: Sequence[tuple[str, str]], slight: bool = False) -> str:
    """``[("lapsed", adj), ("women", noun), ("25-34", tail), ("Drama lovers", tail)]`` →
    "Lapsed women aged 25-34 who love Drama".

    Tastes join into one ("who love Drama and Comedy"); with neither adjective nor noun the
    taste leads ("Drama lovers aged 25-34"). Names keep to the characters segment names use
    (no commas: ``--segments A,B`` lists are split on them).
    """
    if not phrases:
        return "Typical customers"
    adjectives = [p for p, slot in phrases if slot == ADJ]
    noun = next((p for p, slot in phrases if slot == NOUN), None)
    tastes = [p.removesuffix(" lovers") for p, slot in phrases if slot == TAIL and p.endswith(" lovers")]
    ages = [f"aged {p}" for p, slot in phrases if slot == TAIL and not p.endswith(" lovers")]
    if adjectives or noun or not tastes:
        words = [*adjectives, noun or "customers", *ages]
        if tastes:
            words += ["who love", " and ".join(tastes)]
    else:
        words = [f"{' and '.join(tastes)} lovers", *ages]
    text = " ".join(words).replace(",", " ").replace("–", "-") + (" (slight)" if slight else "")
    text = " ".join(text.split())
    return text[0].upper() + text[1:]


def name_from(effects: Effects, taken: Sequence[str] = ()) -> str:
    """A name from ``(column, feature, effect)`` triples, distinct from the ``taken`` names
    when more phrases can make it so (:func:`name_clusters` also settles remaining clashes)."""
    effects = list(effects)
    lowered = {same_words(t) for t in taken}
    strong = _phrases(effects, MIN_EFFECT)
    if not strong:
        weak = _phrases(effects, MIN_SLIGHT)
        return compose(weak[:2], slight=bool(weak))
    every = _phrases(effects, MIN_SLIGHT)
    candidates = [strong[:MAX_PHRASES]]
    candidates += [every[:n] for n in range(MAX_PHRASES + 1, len(every) + 1)]
    for phrases in candidates:
        if same_words(compose(phrases)) not in lowered:
            return compose(phrases)
    return compose(candidates[0])


def name_clusters(
    effects: Mapping[int, Sequence[tuple[str, str, float]]], sizes: Mapping[int, int]
) -> dict[int, str]:
    """Distinct names for every cluster (largest first keeps the shortest name).

    A clash left after :func:`name_from` is settled by the feature on which the two clusters
    differ most ("… more frequent"); only clusters alike on every feature get "#2".
    """
    names: dict[int, str] = {}
    for c in sorted(effects, key=lambda c: (-sizes.get(c, 0), c)):
        name = name_from(effects[c], taken=list(names.values()))
        clash = next((o for o, n in names.items() if same_words(n) == same_words(name)), None)
        if clash is not None:
            name = _apart(name, effects[c], effects[clash], list(names.values()))
        names[c] = name
    return dict(sorted(names.items()))


def _apart(
    name: str,
    mine: Sequence[tuple[str, str, float]],
    theirs: Sequence[tuple[str, str, float]],
    taken: list[str],
) -> str:
    other = {column: effect for column, _, effect in theirs}
    gaps = sorted(
        ((effect - other.get(column, 0.0), column, feature) for column, feature, effect in mine),
        key=lambda g: (-abs(g[0]), g[1]),
    )
    lowered = {same_words(t) for t in taken}
    for diff, column, feature in gaps:
        if abs(diff) < 1e-9:
            break
        words = _comparative(column, feature, diff)
        if words and same_words(f"{name} ({words})") not in lowered:
            return f"{name} ({words})"
    i = 2
    while same_words(f"{name} #{i}") in lowered:
        i += 1
    return f"{name} #{i}"


def _comparative(column: str, feature: str, diff: float) -> str | None:
    if feature in COMPARATIVES:
        more, less = COMPARATIVES[feature]
        return more if diff > 0 else less
    p = phrase(column, feature, 1.0)
    if p is None:
        return None
    return f"more {p[0]}" if diff > 0 else f"fewer {p[0]}" if p[1] in (NOUN, TAIL) else f"less {p[0]}"
