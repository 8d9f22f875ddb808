"""Identity stitching as events arrive: the same resolution as ingest, one component at a time.

File ingest re-resolves every stored link after each file (:func:`personae.app.ingest.linking.
resolve_all`). A live service cannot afford that per request, and does not need to: identity
resolution is per connected component (the survivor, the mapping and the merges of a component
depend only on its own links). So this index keeps the link graph in memory (union-find) and,
when new links join components, resolves the links of the changed components only, with
:func:`personae.identity.resolve.resolve_links` (the same answer as
:func:`~personae.identity.resolve.resolve`, without pandas). The result is identical to a full
re-resolution — a test compares the two.

Pure: the caller stores what :meth:`IdentityIndex.link` returns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pandas as pd

from personae.identity.resolve import CUSTOMER_PREFIX, resolve_links


def own_value(identifier: str) -> str:
    """The resolved id of an identifier nobody else absorbed (``customer_id:C1`` → ``C1``).

    Example:
        >>> own_value("customer_id:C1"), own_value("email:ann@example.com")
        ('C1', 'email:ann@example.com')
    """
    return identifier[len(CUSTOMER_PREFIX) :] if identifier.startswith(CUSTOMER_PREFIX) else identifier


@dataclass
class Relinked:
    """What new links changed in the identity map: delete the stored rows of ``identifiers``,
    insert the rows of ``mapping`` (only rows that changed: an unchanged row is not rewritten)."""

    identifiers: list[str] = field(default_factory=list)
    mapping: list[tuple[str, str]] = field(default_factory=list)
    merges: pd.DataFrame | None = None
    new_edges: list[tuple[str, str]] = field(default_factory=list)
    #: resolved id before → after, for every identifier whose customer changed
    moved: dict[str, tuple[str, str]] = field(default_factory=dict)


class IdentityIndex:
    """The identifier graph (union-find) and the identity map, in memory.

    Args:
        edges: every stored link ``(identifier_a, identifier_b)``.
        mapping: the stored identity map (identifier → customer id, where it differs).
        known_merges: ``(customer_id, merged_customer_id)`` pairs already recorded.
    """

    def __init__(
        self,
        edges: Iterable[tuple[str, str]] = (),
        mapping: Mapping[str, str] | None = None,
        known_merges: Iterable[tuple[str, str]] = (),
    ) -> None:
        self._parent: dict[str, str] = {}
        self._members: dict[str, set[str]] = {}
        self._edges: dict[str, list[tuple[str, str]]] = {}
        self._known: set[tuple[str, str]] = set()
        self._owner: dict[str, str] = dict(mapping or {})
        self._merges: set[tuple[str, str]] = set(known_merges)
        for a, b in edges:
            self._add_edge(a, b)

    def resolved(self, identifier: str) -> str:
        """The unified customer id of an identifier (itself when unknown or unabsorbed)."""
        return self._owner.get(identifier) or own_value(identifier)

    def identifiers_of(self, customer_id: str) -> list[str]:
        """Every identifier in the customer's component (empty when none is linked)."""
        own = customer_id if ":" in customer_id else CUSTOMER_PREFIX + customer_id
        if own not in self._parent:
            return []
        return sorted(self._members[self._find(own)])

    def link(self, pairs: Iterable[tuple[str, str]]) -> Relinked:
        """Add links; re-resolve the components they touched."""
        out = Relinked()
        touched: set[str] = set()
        for a, b in pairs:
            if a == b or (a, b) in self._known:
                continue
            self._add_edge(a, b)
            out.new_edges.append((a, b))
            touched.add(a)
        if not touched:
            return out
        roots = {self._find(t) for t in touched}
        # ONE resolution over the links of every touched component (resolution is per component,
        # so the union gives each its own result), in plain Python: resolve()'s pandas fixed
        # cost, once per component, was a third of the writer's time when every other message
        # was an identify. resolve_links gives resolve()'s answer (a property test).
        edges = [e for root in roots for e in self._edges[root]]
        resolved, merge_rows = resolve_links([e[0] for e in edges], [e[1] for e in edges])
        for root in roots:
            members = self._members[root]
            before = {i: self.resolved(i) for i in members}
            stored = {i: self._owner.pop(i) for i in members if i in self._owner}
            for ident in members:
                if ident in resolved:
                    self._owner[ident] = resolved[ident]
            # only the map rows that changed are rewritten (the map grows with every device)
            for ident in sorted(members):
                old_row, new_row = stored.get(ident), self._owner.get(ident)
                if old_row == new_row:
                    continue
                if old_row is not None:
                    out.identifiers.append(ident)
                if new_row is not None:
                    out.mapping.append((ident, new_row))
            for ident, old in before.items():
                new = self.resolved(ident)
                if new != old:
                    out.moved[ident] = (old, new)
        fresh = [r for r in merge_rows if (r[0], r[1]) not in self._merges]
        if fresh:
            out.merges = pd.DataFrame(
                fresh, columns=["customer_id", "merged_customer_id", "identifiers", "rule"]
            )
            self._merges.update((r[0], r[1]) for r in fresh)
        return out

    # union-find ---------------------------------------------------------------------------------
    def _add_edge(self, a: str, b: str) -> None:
        self._known.add((a, b))
        ra, rb = self._root_of(a), self._root_of(b)
        if ra != rb:
            if len(self._members[ra]) < len(self._members[rb]):
                ra, rb = rb, ra
            self._parent[rb] = ra
            self._members[ra] |= self._members.pop(rb)
            self._edges[ra].extend(self._edges.pop(rb))
        self._edges[ra].append((a, b))

    def _root_of(self, ident: str) -> str:
        if ident not in self._parent:
            self._parent[ident] = ident
            self._members[ident] = {ident}
            self._edges[ident] = []
            return ident
        return self._find(ident)

    def _find(self, ident: str) -> str:
        root = ident
        while self._parent[root] != root:
            root = self._parent[root]
        while self._parent[ident] != root:
            self._parent[ident], ident = root, self._parent[ident]
        return root


def knows(index: IdentityIndex, identifier: str) -> bool:
    """Whether the index has seen ``identifier`` in a link or the map."""
    return identifier in index._parent or identifier in index._owner
