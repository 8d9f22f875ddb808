"""Identity resolution: identifiers seen together belong to one customer.

Identifiers are strings ``"kind:value"`` (``customer_id:C1``, ``email:ann@example.com``,
``anonymous_id:abc``…). Every record that carries two or more identifiers links them. The
connected components of that graph are the unified customers (union-find; computed here
with SciPy's connected components, which is the same partition, vectorised).

Deterministic: the surviving customer id of a component is the smallest ``customer_id`` in
it (string order), whatever order the links arrived in. Components without any customer id
are prospects and keep their smallest identifier.

Pure: arrays in, data frames out. Blocked identifiers are removed *before* linking, so a
placeholder like ``unknown@example.com`` never joins two people.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

CUSTOMER_PREFIX = "customer_id:"


@dataclass(frozen=True)
class Resolution:
    """The result of resolving a set of links.

    Attributes:
        mapping: ``identifier -> customer_id`` for every identifier whose customer differs
            from its own value (the identity map the store joins against).
        merges: one row per customer id folded into another: ``customer_id`` (survivor),
            ``merged_customer_id``, ``identifiers`` (what linked them), ``rule``.
    """

    mapping: pd.DataFrame
    merges: pd.DataFrame


def identifier_kind(identifier: str) -> str:
    return identifier.split(":", 1)[0]


def resolve(
    a: np.ndarray | pd.Series, b: np.ndarray | pd.Series, *, nodes: np.ndarray | pd.Series | None = None
) -> Resolution:
    """Resolve undirected links ``a[i] — b[i]`` into customers.

    Args:
        a, b: identifiers linked pairwise (same length; blocked ones already removed).
        nodes: extra identifiers with no links (ignored: they map to themselves).
    """
    a = pd.Series(np.asarray(a, dtype=object))
    b = pd.Series(np.asarray(b, dtype=object))
    if len(a) == 0:
        return Resolution(
            pd.DataFrame({"identifier": pd.Series(dtype=object), "customer_id": pd.Series(dtype=object)}),
            _empty_merges(),
        )
    codes, uniques = pd.factorize(pd.concat([a, b], ignore_index=True), sort=True)
    n = len(uniques)
    src, dst = codes[: len(a)], codes[len(a) :]
    # Imported here: the CLI imports this module at start-up and scipy.sparse.csgraph is slow to load.
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    ids = pd.Series(uniques, dtype=object)
    is_customer = ids.str.startswith(CUSTOMER_PREFIX).to_numpy()
    frame = pd.DataFrame({"identifier": ids, "component": component, "is_customer": is_customer})
    # uniques are sorted, so the first customer id per component is the smallest
    survivors = (
        frame[frame["is_customer"]].groupby("component")["identifier"].first().str.slice(len(CUSTOMER_PREFIX))
    )
    fallback = frame.groupby("component")["identifier"].first()
    owner = survivors.reindex(fallback.index).fillna(fallback)
    frame["customer_id"] = owner.reindex(frame["component"]).to_numpy()
    own_value = np.where(is_customer, ids.str.slice(len(CUSTOMER_PREFIX)), ids)
    mapping = frame.loc[frame["customer_id"].to_numpy() != own_value, ["identifier", "customer_id"]]
    merges = _merges(frame, a, b)
    return Resolution(mapping.reset_index(drop=True), merges)


def _empty_merges() -> pd.DataFrame:
    return pd.DataFrame(
        {c: pd.Series(dtype=object) for c in ("customer_id", "merged_customer_id", "identifiers", "rule")}
    )


def _merges(frame: pd.DataFrame, a: pd.Series, b: pd.Series) -> pd.DataFrame:
    """For each customer id that lost its own identity, what linked it to the survivor."""
    cust = frame[frame["is_customer"]]
    cust = cust[cust["identifier"].str.slice(len(CUSTOMER_PREFIX)) != cust["customer_id"]]
    if cust.empty:
        return _empty_merges()
    # identifiers adjacent to each customer id
    links = pd.concat([pd.DataFrame({"c": a, "o": b}), pd.DataFrame({"c": b, "o": a})])
    links = links[
        links["c"].isin(set(frame.loc[frame["is_customer"], "identifier"]))
        & ~links["o"].str.startswith(CUSTOMER_PREFIX)
    ]
    shared_by = links.groupby("o")["c"].nunique()
    shared = links[links["o"].map(shared_by) >= 2]
    per_customer = shared.groupby("c")["o"].agg(lambda s: sorted(set(s)))
    rows = []
    for ident, survivor in zip(cust["identifier"], cust["customer_id"], strict=True):
        via = per_customer.get(ident, [])
        if via:
            kinds = sorted({identifier_kind(v) for v in via})
            rule = "shared " + " and ".join(kinds)
        else:
            via = []
            rule = "linked through other identifiers"
        rows.append((survivor, ident[len(CUSTOMER_PREFIX) :], ";".join(via), rule))
    return pd.DataFrame(rows, columns=["customer_id", "merged_customer_id", "identifiers", "rule"])
