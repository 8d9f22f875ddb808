"""From model scores to a customer's top-k list, with the rules a shop expects and a reason.

Scores of the personal model are scaled to [0, 1] per customer and blended with the customer's
*preferences* (their strong category/brand/tag affinities — a team's fan sees that team's
items) and, with a tiny weight, with what is popular in their group, which orders the items
the model has no opinion on (new customers get only that: popularity within their segment and
region). Items already bought are left out unless their category is re-bought regularly
(groceries, cosmetics …: measured from the data by :func:`rebuy_items`). Customers without
``personalization`` consent get the shop-wide bestsellers and nothing learned from their data
— the caller says who they are (:mod:`personae.privacy.consent` decides).

Where the shop's histories have an order worth using (``tune`` decides), the model's scores are
also blended with what people turned to next after the customer's latest items
(:func:`~personae.personalize.models.transitions`, scored from ``Customers.recent``).

Each item carries the reason of the largest part of its score: "because you bought X"
(the history item whose item-item weight contributed most; "liked X" when they rated it 4 of 5
or more), "matches your interest in X" (the affinity), or the group it is popular with; and the
item it cites (:attr:`Ranked.because`). Ratings (:mod:`personae.personalize.feedback`) weigh in:
what a customer disliked is never recommended to them nor cited.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from personae.personalize.feedback import Feedback
from personae.personalize.models import Recommender

#: weight of the popularity tie-breaker (orders items the model scores 0)
_POPULARITY_EPS = 1e-3


@dataclass(frozen=True)
class Catalogue:
    """The items, as the ranking needs them.

    Attributes:
        item_ids: product id per item code.
        names: display name per item (the id when unknown).
        category: category per item (``""`` when unknown).
        features: ``(items, features)`` 0/1 matrix: which preference values each item carries.
        feature_names: e.g. ``team:Lakers``, ``brand:Nike``, ``shoes`` (the affinity value).
    """

    item_ids: np.ndarray
    names: np.ndarray
    category: np.ndarray
    features: sp.csr_matrix
    feature_names: np.ndarray


def item_features(
    category: np.ndarray, brand: np.ndarray, tags: list[list[str]]
) -> tuple[sp.csr_matrix, np.ndarray]:
    """The 0/1 item × value matrix over categories, brands and tags (affinity values)."""
    values: dict[tuple[str, str], int] = {}
    rows: list[int] = []
    cols: list[int] = []
    for i, (c, b, ts) in enumerate(zip(category, brand, tags, strict=True)):
        for kind, v in [("category", c), ("brand", b), *(("tag", t) for t in ts or [])]:
            if v:
                rows.append(i)
                cols.append(values.setdefault((kind, str(v)), len(values)))
    names = np.empty(len(values), dtype=object)
    for (kind, v), j in values.items():
        names[j] = f"{kind}:{v}"
    m = sp.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(category), len(values))
    )
    m.sum_duplicates()
    m.data[:] = 1.0
    return m, names


def rebuy_items(
    purchases: sp.csr_matrix, category: np.ndarray, threshold: float, min_pairs: int = 20
) -> np.ndarray:
    """Items whose category is re-bought regularly: a boolean per item.

    A category counts as re-bought when, among customer-item pairs with a purchase in it, at
    least ``threshold`` were bought in two or more orders (and there are ``min_pairs`` pairs to
    judge by). ``purchases`` holds purchase-line counts per customer and item.
    """
    coo = purchases.tocoo()
    cats, code = np.unique(category.astype(str), return_inverse=True)
    pair_cat = code[coo.col]
    pairs = np.bincount(pair_cat, minlength=len(cats))
    repeat = np.bincount(pair_cat, weights=(coo.data >= 2).astype(float), minlength=len(cats))
    regular = (pairs >= min_pairs) & (repeat >= threshold * np.maximum(pairs, 1))
    regular &= cats != ""
    return np.asarray(regular[code], dtype=bool)


@dataclass(frozen=True)
class Customers:
    """The customers to rank for, row-aligned.

    Attributes:
        history: ``(n, items)`` confidence the model scores from (zero rows are fine).
        purchased: ``(n, items)`` purchase counts (what to leave out).
        personal: whether each customer allows personalization.
        preferences: ``(n, features)`` preference strength in [0, 1] per feature value.
        group: row of ``group_popularity`` per customer.
        rows: the customers' rows in the matrix the model was fitted on (for ALS), or None.
        feedback: their verdicts on the items they rated (:mod:`personae.personalize.feedback`),
            or None: disliked items are never recommended nor cited, liked ones are cited as
            liked. ``history`` should weigh them (the stars' weights of
            :func:`personae.personalize.models.star_weights`: a dislike negative, a like more
            than a purchase).
        repeat: ``(n, items)`` repurchase scores (:func:`~personae.personalize.models.repeat_scores`)
            where re-buying is common, or None; blended with the model's scaled scores with
            ``repeat_weight``.
        exclude: ``(n, items)`` further items they may not be offered (the offline protocol's
            "already seen"), or None.
        recent: ``(n, items)`` the recent part of each history (``history`` times
            :func:`~personae.personalize.models.recency_mask`), or None; scored through the
            ``transitions`` given to :func:`rank` and blended with the model's scaled scores
            with ``sequence_weight``.
    """

    history: sp.csr_matrix
    purchased: sp.csr_matrix
    personal: np.ndarray
    preferences: sp.csr_matrix
    group: np.ndarray
    rows: np.ndarray | None = None
    feedback: Feedback | None = None
    repeat: sp.csr_matrix | None = None
    repeat_weight: float = 0.0
    exclude: sp.csr_matrix | None = None
    recent: sp.csr_matrix | None = None
    sequence_weight: float = 0.0


@dataclass(frozen=True)
class Groups:
    """Popularity per group: ``popularity`` is ``(groups, items)`` in [0, 1]; ``labels`` is the
    reason shown for each group ("popular with Champions in North")."""

    popularity: np.ndarray
    labels: np.ndarray
    everyone: int = 0


@dataclass(frozen=True)
class Ranked:
    """Top-k per customer: item codes (``-1`` pads), blended scores and reason texts.

    ``because`` holds, per recommended item, the code of the history item its reason cites
    ("because you liked X"), ``-1`` when the reason cites none (an interest, popularity); None
    when reasons were not computed.
    """

    items: np.ndarray
    scores: np.ndarray
    reasons: np.ndarray
    because: np.ndarray | None = None


def rank(
    model: Recommender,
    who: Customers,
    catalogue: Catalogue,
    groups: Groups,
    rebuy: np.ndarray,
    *,
    k: int = 10,
    preference_weight: float = 0.3,
    allowed: np.ndarray | None = None,
    explain: bool = True,
    transitions: sp.csr_matrix | None = None,
) -> Ranked:
    """Rank the catalogue for each customer and keep the best ``k`` with reasons.

    Args:
        transitions: ``(items, items)`` what people turn to after each item
            (:func:`~personae.personalize.models.transitions`), scored from ``who.recent``
            and blended with ``who.sequence_weight``; None: the model alone.
        allowed: optional boolean per item restricting what may be recommended (e.g. one
            category for a browse-abandonment message).
        explain: compute the reasons (offline evaluation does not need them).
    """
    n, m = who.history.shape
    personal = who.personal.astype(bool)
    model_part = np.zeros((n, m), dtype=np.float32)
    if personal.any():
        idx = np.flatnonzero(personal)
        raw = model.score(who.history[idx], None if who.rows is None else who.rows[idx])
        part = _scaled(np.clip(raw, 0.0, None))
        if transitions is not None and who.recent is not None and who.sequence_weight:
            # what people turned to right after what this person did last, next to the model
            nxt = sp.csr_matrix(who.recent)[idx] @ transitions
            nxt = nxt.toarray() if sp.issparse(nxt) else nxt
            seq = _scaled(np.clip(np.asarray(nxt, dtype=np.float32), 0.0, None))
            part = _scaled(part + np.float32(who.sequence_weight) * seq)
        if who.repeat is not None and who.repeat_weight:
            # re-buys: frequency and recency of the customer's own purchases, next to the model
            rep = _scaled(np.asarray(sp.csr_matrix(who.repeat)[idx].toarray(), dtype=np.float32))
            part = _scaled(part + np.float32(who.repeat_weight) * rep)
        model_part[idx] = part
    pref = np.asarray((who.preferences @ catalogue.features.T).todense(), dtype=np.float32)
    pref = np.minimum(pref, 1.0)
    pref[~personal] = 0.0
    # without consent, nothing about the customer (not even their segment) steers the list
    group = np.where(personal, who.group, groups.everyone)
    pop = groups.popularity[group].astype(np.float32)
    w = preference_weight
    final = (1.0 - w) * model_part + w * pref + _POPULARITY_EPS * pop
    # leave out what was bought, unless it is something people buy again
    bought = who.purchased[np.flatnonzero(personal)].tocoo()
    rows = np.flatnonzero(personal)[bought.row]
    drop = ~rebuy[bought.col]
    final[rows[drop], bought.col[drop]] = -np.inf
    # never again what they disliked, re-bought category or not
    if who.feedback is not None:
        disliked = who.feedback.disliked[np.flatnonzero(personal)].tocoo()
        final[np.flatnonzero(personal)[disliked.row], disliked.col] = -np.inf
    if who.exclude is not None:
        ex = sp.csr_matrix(who.exclude).tocoo()
        final[ex.row, ex.col] = -np.inf
    if allowed is not None:
        final[:, ~allowed] = -np.inf
    kk = min(k, m)
    part = np.argpartition(-final, kk - 1, axis=1)[:, :kk]
    order = np.argsort(-np.take_along_axis(final, part, axis=1), axis=1, kind="stable")
    items = np.take_along_axis(part, order, axis=1)
    scores = np.take_along_axis(final, items, axis=1)
    items = np.where(np.isfinite(scores), items, -1)
    because = None
    if explain:
        reasons, because = _reasons(model, who, catalogue, groups, group, items, model_part, pref, w)
    else:
        reasons = np.full(items.shape, "", dtype=object)
    return Ranked(items, np.where(items >= 0, scores, 0.0).astype(np.float32), reasons, because)


def _scaled(a: np.ndarray) -> np.ndarray:
    """Each row divided by its largest value when positive (other rows unchanged).

    >>> _scaled(np.array([[1.0, 4.0], [0.0, 0.0]], dtype=np.float32)).tolist()
    [[0.25, 1.0], [0.0, 0.0]]
    """
    top = a.max(axis=1, keepdims=True) if a.shape[1] else np.zeros((a.shape[0], 1), a.dtype)
    return np.divide(a, top, out=np.array(a, dtype=np.float32), where=top > 0).astype(np.float32)


def _reasons(
    model: Recommender,
    who: Customers,
    catalogue: Catalogue,
    groups: Groups,
    group: np.ndarray,
    items: np.ndarray,
    model_part: np.ndarray,
    pref: np.ndarray,
    w: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Reason texts and the history item each cites (``-1``: none)."""
    n, k = items.shape
    safe = np.maximum(items, 0)
    m_score = (1.0 - w) * np.take_along_axis(model_part, safe, axis=1)
    p_score = w * np.take_along_axis(pref, safe, axis=1)
    reasons = np.empty((n, k), dtype=object)
    reasons[:] = groups.labels[group][:, None]
    by_model = (m_score > 0) & (m_score >= p_score)
    by_pref = (p_score > 0) & ~by_model
    cited = np.full((n, k), -1, dtype=np.int64)
    if by_model.any():
        because = _because_item(model, who, items)
        verbs = _verbs(who, because)
        for r, c in zip(*np.nonzero(by_model & (because >= 0)), strict=True):
            reasons[r, c] = f"because you {verbs[r, c]} {catalogue.names[because[r, c]]}"
            cited[r, c] = because[r, c]
    if by_pref.any():
        feats = _best_feature(who, catalogue, items)
        for r, c in zip(*np.nonzero(by_pref & (feats >= 0)), strict=True):
            value = str(catalogue.feature_names[feats[r, c]]).split(":", 1)[1]
            reasons[r, c] = f"matches your interest in {value}"
    reasons[items < 0] = ""
    cited[items < 0] = -1
    return reasons, cited


def _verbs(who: Customers, because: np.ndarray) -> np.ndarray:
    """What the customer did with each cited item: liked it, else bought, rated (a review of
    something bought elsewhere) or looked at it."""
    n, k = because.shape
    rows, cols = np.repeat(np.arange(n), k), np.maximum(because, 0).ravel()

    def has(m: sp.csr_matrix) -> np.ndarray:
        return np.asarray(m[rows, cols]).reshape(n, k) > 0

    verbs = np.full((n, k), "looked at", dtype=object)
    if who.feedback is not None:
        verbs[has(who.feedback.rated)] = "rated"
    verbs[has(who.purchased)] = "bought"
    if who.feedback is not None:
        verbs[has(who.feedback.liked)] = "liked"
    return verbs


def _because_item(model: Recommender, who: Customers, items: np.ndarray) -> np.ndarray:
    """For each recommended item, the history item contributing most (``-1``: none).

    Only what the customer did not dislike can be a reason: items with a negative weight in
    the profile, or disliked, are never cited (with a negative item-item weight, a disliked
    item's contribution can be positive, and it still must not be the reason).
    """
    n, k = items.shape
    h = who.history.tocsr()
    out = np.full((n, k), -1, dtype=np.int64)
    if h.nnz == 0:
        return out
    row = np.repeat(np.arange(n), np.diff(h.indptr))
    citable = h.data > 0
    if who.feedback is not None:
        citable &= ~(np.asarray(who.feedback.disliked[row, h.indices]).ravel() > 0)
    for c in range(k):
        target = items[row, c]
        contrib = h.data * model.similarity(h.indices, np.maximum(target, 0))
        contrib[(target < 0) | ~citable] = 0.0
        order = np.lexsort((-contrib, row))
        best = order[h.indptr[:-1][np.diff(h.indptr) > 0]]
        users = row[best]
        out[users, c] = np.where(contrib[best] > 0, h.indices[best], -1)
    return out


def _best_feature(who: Customers, catalogue: Catalogue, items: np.ndarray) -> np.ndarray:
    n, k = items.shape
    out = np.full((n, k), -1, dtype=np.int64)
    for c in range(k):
        f = catalogue.features[np.maximum(items[:, c], 0)]
        both = who.preferences.multiply(f).tocsr()
        has = np.diff(both.indptr) > 0
        if has.any():
            out[has, c] = np.asarray(both[has].argmax(axis=1)).ravel()
    return out


def group_popularity(
    purchased: sp.csr_matrix, levels: list[np.ndarray], names: list[list[str]], min_buyers: int = 20
) -> tuple[Groups, np.ndarray]:
    """Popularity within each customer's finest group that has enough buyers.

    Args:
        purchased: ``(customers, items)`` purchases of every customer.
        levels: finest first, an integer group code per customer at each level (``-1`` =
            unknown at that level); a last, shop-wide level ("popular right now") is added.
        names: the reason text of each group code at each level.
        min_buyers: a group needs this many buyers to speak for its members.

    Returns:
        ``(groups, group row of each customer)``.
    """
    n, _m = purchased.shape
    bought = (purchased > 0).astype(np.float32).tocsr()
    buyers = (np.diff(bought.indptr) > 0).astype(np.float32)
    everyone = (np.zeros(n, dtype=np.int64), ["popular right now"], True)
    pops: list[np.ndarray] = []
    labels: list[str] = []
    assigned = np.full(n, -1, dtype=np.int64)
    for codes, texts, always in [*((c, t, False) for c, t in zip(levels, names, strict=True)), everyone]:
        codes = np.asarray(codes, dtype=np.int64)
        known = codes >= 0
        if not known.any():
            continue
        g = len(texts)
        member = sp.csr_matrix(
            (np.ones(int(known.sum()), dtype=np.float32), (codes[known], np.flatnonzero(known))), shape=(g, n)
        )
        n_buyers = member @ buyers
        counts = np.asarray((member @ bought).todense(), dtype=np.float32)
        enough = np.ones(g, dtype=bool) if always else n_buyers >= min_buyers
        base = len(labels)
        top = counts.max(axis=1, keepdims=True)
        pops.extend(np.divide(counts, top, out=np.zeros_like(counts), where=top > 0))
        labels.extend(texts)
        take = (assigned < 0) & known & enough[np.maximum(codes, 0)]
        assigned[take] = base + codes[take]
    groups = Groups(np.vstack(pops).astype(np.float32), np.array(labels, dtype=object), len(labels) - 1)
    return groups, assigned


def history_preferences(
    purchased: sp.csr_matrix, features: sp.csr_matrix, min_strength: float = 0.5
) -> sp.csr_matrix:
    """Preference strengths learned from purchase counts alone (offline evaluation).

    The same shape as the ``affinities`` trait (see :mod:`personae.traits.affinities`) with
    purchase lines standing in for months: ``min(lines, 3) / 3 × (0.5 + 0.5 × share)``, kept
    from ``min_strength`` up. Evaluation uses it because the stored affinities were computed
    on the whole history, held-out period included.
    """
    lines = (purchased @ features).tocsr().astype(np.float32)
    total = np.asarray(purchased.sum(axis=1)).ravel()
    coo = lines.tocoo()
    share = coo.data / np.maximum(total[coo.row], 1.0)
    strength = np.minimum(coo.data, 3.0) / 3.0 * (0.5 + 0.5 * share)
    keep = strength >= min_strength
    return sp.csr_matrix(
        (strength[keep].astype(np.float32), (coo.row[keep], coo.col[keep])), shape=lines.shape
    )
