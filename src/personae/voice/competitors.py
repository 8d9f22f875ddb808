"""Which competitor a text names, from a configurable list (``voice.competitors``).

Whole words, any case: "amazon" matches "Amazon's prices" but not "amazonian". Names of several
words ("Marks and Spencer") match with any spacing. The first name found is returned, spelled
as in the settings, so counts group cleanly.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd


def competitor_pattern(names: Sequence[str]) -> re.Pattern[str] | None:
    """One case-insensitive pattern for every name (longest first), or ``None`` for no names."""
    cleaned = sorted({n.strip() for n in names if n.strip()}, key=lambda n: (-len(n), n))
    if not cleaned:
        return None
    alts = "|".join(r"\s+".join(re.escape(part) for part in n.split()) for n in cleaned)
    return re.compile(rf"(?<![\w])({alts})(?![\w])", re.IGNORECASE)


def competitor_mentions(texts: Sequence[str] | pd.Series, names: Sequence[str]) -> np.ndarray:
    """The competitor each text names (``None`` when none), each distinct text searched once."""
    series = pd.Series(texts, dtype=object).fillna("")
    pattern = competitor_pattern(names)
    if pattern is None or series.empty:
        return np.full(len(series), None, dtype=object)
    canonical = {re.sub(r"\s+", " ", n.strip()).lower(): n.strip() for n in names if n.strip()}
    codes, uniques = pd.factorize(series, sort=False)
    found = np.empty(len(uniques), dtype=object)
    for i, text in enumerate(uniques):
        m = pattern.search(text)
        found[i] = None if m is None else canonical.get(re.sub(r"\s+", " ", m.group(1)).lower())
    return found[codes]
