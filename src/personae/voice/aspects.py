"""Several themes per text, each with its own sentiment (aspect-based sentiment).

"Love the staff, hate the wait" is positive about the staff and negative about the wait: one
score for the whole text (about 0) and one theme would say neither. So a text is cut into
clauses — sentences, and the parts around "but", "however", "although", ";" and commas — each
clause is put in its theme with the same :class:`~personae.voice.themes.ThemeModel`, a clause
that names no theme joins the clause before it (or after it, when it comes first: "Sadly, the
zip broke" keeps its "sadly"), and each theme of the text gets the sentiment of its own clauses.

* Texts whose clauses all fall in one theme (most short texts) keep the whole text's sentiment:
  nothing is scored twice, so the cost is only paid where a text really has several themes.
* The text's main theme (the ``theme`` of ``voice_texts``, from the whole text) is always among
  its themes, with the whole text's sentiment when no clause of its own carries it.
* ``weight`` is each theme's share of the text: the loadings of its clauses over those of all
  the text's clauses (1.0 for a text with one theme).

Pure functions: the sentiment scorer is passed in (``score``: texts → scores in −1…1).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from personae.voice.themes import ThemeModel

#: Where a text splits into clauses: sentence ends, semicolons, line breaks, commas, and the
#: contrast words (kept out of the clauses they join).
_SPLIT = re.compile(
    r"(?:(?<=[.!?])\s+|[;\n\r]+|\s*,\s*|\s+-\s+|\s*\b(?:but|however|although|though|whereas|except"
    r"|yet|otherwise|while)\b[\s,]*)",
    re.IGNORECASE,
)

#: Columns of :func:`text_themes` (besides the text's row number ``row``).
COLUMNS = ("row", "theme_id", "weight", "sentiment_score")


def split_clauses(text: str) -> list[str]:
    """The clauses of ``text`` (empty pieces dropped).

    >>> split_clauses("Love the staff, hate the wait.")
    ['Love the staff', 'hate the wait.']
    >>> split_clauses("The fabric is soft but it runs small; returned it")
    ['The fabric is soft', 'it runs small', 'returned it']
    """
    parts = [p.strip(" ,") for p in _SPLIT.split(str(text))]
    return [p for p in parts if p and any(c.isalpha() for c in p)]


def _merge(clauses: list[str], themes: list[int]) -> list[tuple[str, int]]:
    """Clauses without a theme join their neighbour (the one before, or after when first)."""
    out: list[list[Any]] = []
    pending: list[str] = []
    for c, t in zip(clauses, themes, strict=True):
        if t < 0:
            if out:
                out[-1][0] += ", " + c
            else:
                pending.append(c)
            continue
        text = ", ".join([*pending, c])
        pending = []
        if out and out[-1][1] == t:  # next to a clause of the same theme: one clause
            out[-1][0] += ", " + text
        else:
            out.append([text, t])
    return [(str(c), int(t)) for c, t in out]


def text_themes(
    texts: Sequence[str] | pd.Series,
    model: ThemeModel,
    main_theme: np.ndarray,
    text_score: np.ndarray,
    score: Callable[[list[str]], np.ndarray],
) -> pd.DataFrame:
    """One row per (text, theme): ``row`` (position in ``texts``), ``theme_id``, ``weight`` and
    ``sentiment_score`` of that theme in that text.

    Args:
        texts: the texts (scored ones; callers leave the others out).
        model: the fitted theme model.
        main_theme: each text's theme from the whole text (−1 for none).
        text_score: each text's sentiment from the whole text.
        score: the sentiment scorer, called once on every clause that needs its own score.

    >>> import numpy as np
    >>> class Two:  # a stand-in model: "staff" is theme 0, "wait" theme 1
    ...     min_weight = 0.05
    ...     def loadings(self, xs):
    ...         return np.array([[float("staff" in x), float("wait" in x)] for x in xs])
    >>> words = {"love": 0.6, "hate": -0.6}
    >>> scorer = lambda xs: np.array([sum(v for w, v in words.items() if w in x) for x in xs])
    >>> text_themes(["love the staff, hate the wait"], Two(), np.array([0]), np.array([0.0]), scorer)
       row  theme_id  weight  sentiment_score
    0    0         0     0.5              0.6
    1    0         1     0.5             -0.6
    """
    series = pd.Series(texts, dtype=object).fillna("").astype(str).reset_index(drop=True)
    pieces: list[tuple[int, str]] = [(i, c) for i, t in enumerate(series) for c in split_clauses(t)]
    rows: list[tuple[int, int, float, float]] = []
    if pieces:
        W = model.loadings([c for _, c in pieces])
        best = W.argmax(axis=1)
        strength = W[np.arange(len(best)), best]
        best = np.where(strength >= model.min_weight, best, -1)
    by_text: dict[int, list[tuple[str, int, float]]] = {}
    for k, (i, c) in enumerate(pieces):
        by_text.setdefault(i, []).append((c, int(best[k]), float(strength[k])))
    to_score: list[str] = []
    pending: list[tuple[int, int, float, int]] = []  # row, theme, weight, index into to_score
    for i in range(len(series)):
        main = int(main_theme[i])
        clauses = by_text.get(i, [])
        themes = {t for _, t, _ in clauses if t >= 0}
        if len(themes) <= 1:
            only = main if main >= 0 else (next(iter(themes)) if themes else -1)
            if only >= 0:
                rows.append((i, only, 1.0, float(text_score[i])))
                if themes and only not in themes:  # the clause theme differs from the whole text's
                    rows[-1] = (i, only, 0.5, float(text_score[i]))
                    rows.append((i, next(iter(themes)), 0.5, float(text_score[i])))
            continue
        mass: dict[int, float] = {}
        for _, t, w in clauses:
            if t >= 0:
                mass[t] = mass.get(t, 0.0) + w
        total = sum(mass.values()) or 1.0
        merged = _merge([c for c, _, _ in clauses], [t for _, t, _ in clauses])
        for t in sorted(mass, key=lambda t: (-mass[t], t)):
            own = "; ".join(c for c, tt in merged if tt == t)
            pending.append((i, t, mass[t] / total, len(to_score)))
            to_score.append(own)
        if main >= 0 and main not in mass:
            rows.append((i, main, 0.0, float(text_score[i])))
    scores = score(to_score) if to_score else np.empty(0)
    for i, t, w, k in pending:
        rows.append((i, t, w, float(scores[k])))
    out = pd.DataFrame(rows, columns=list(COLUMNS))
    out["weight"] = out["weight"].round(4)
    out["sentiment_score"] = out["sentiment_score"].round(4)
    return out.sort_values(["row", "weight", "theme_id"], ascending=[True, False, True]).reset_index(
        drop=True
    )
