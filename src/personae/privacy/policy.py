"""Which columns identify a person, and what erasure does to each table.

Erasure must reach every table, including the ones future features add, so the plan is made
from the columns a table has rather than from a list of table names: any table with a column
that holds a customer id or an identifier is covered the day it is created. The few tables
that need more than "delete the person's rows" are named here:

* ``orders`` — kept, re-keyed to an anonymous token, so revenue by day, product, store and
  channel (anonymous aggregates) stays true; every column that could point back to the person
  is cleared.
* ``rejects`` — rejected lines keep their raw text, which may hold the person's email, phone or
  name anywhere in it: rows whose text contains any of the person's identifiers are deleted.
* any other table with no column naming a person but free text that may (a dead-lettered
  webhook's ``payload``, the old ``webhook_outbox``): rows whose text mentions the person are
  deleted, as for rejects.
* the audit log — append-only, but the erased person's id in it is replaced by the token
  (the log then still proves *that* data was read and erased, not whose).
* the erasure ledger itself and the privacy secret are never touched.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

#: Columns holding a customer id (unified or as it came in the file).
CUSTOMER_ID_COLUMNS = ("customer_id", "source_customer_id", "merged_customer_id", "user_id")
#: Columns holding typed identifiers such as ``email:jane@example.com``.
IDENTIFIER_COLUMNS = ("_identity", "identifier", "identifier_a", "identifier_b")
#: Columns holding raw identifier values or names (PII) in canonical and derived tables.
DIRECT_IDENTIFIERS = ("first_name", "last_name", "email", "phone", "anonymous_id", "device_id", "loyalty_id")
#: Free-text columns that can carry anything a person wrote or a file held.
FREE_TEXT_COLUMNS = ("raw", "comment", "text", "properties_extra", "properties", "identifiers", "payload")

#: Tables whose rows survive erasure, re-keyed to the anonymous token.
ANONYMISED_TABLES = ("orders",)
#: Tables whose rows are matched on their free text (they have no customer column to match on).
TEXT_SCRUBBED_TABLES = ("rejects",)
#: Tables erasure leaves alone (bookkeeping of the erasure itself).
UNTOUCHED_TABLES = ("erasures", "erasure_identifiers", "privacy_secret", "_personae_schema", "audit_log")

Action = Literal["delete", "anonymise", "scrub_text", "keep"]


@dataclass(frozen=True)
class Subject:
    """One person, as every form in which the store may hold them.

    Attributes:
        customer_id: the unified (surviving) customer id.
        source_ids: every customer id that was merged into it, including itself.
        identifiers: typed identifiers (``email:…``, ``phone:…``, ``customer_id:…``).
        patterns: case-insensitive regular expressions that find the person in free text:
            each identifier value as a whole word, a phone's digits in any punctuation, and
            the full name.
    """

    customer_id: str
    source_ids: frozenset[str]
    identifiers: frozenset[str]
    patterns: tuple[str, ...] = ()

    @property
    def ids(self) -> frozenset[str]:
        """Values a customer-id column may hold for this person (prospect ids included)."""
        return self.source_ids | {self.customer_id} | self.identifiers

    @classmethod
    def of(
        cls, customer_id: str, identifiers: Iterable[str], full_names: Iterable[str | None] = ()
    ) -> Subject:
        """Build a subject from the unified id, its identifiers and the names on its profiles."""
        idents = frozenset(i for i in identifiers if i)
        source_ids = frozenset(
            {customer_id} | {i.split(":", 1)[1] for i in idents if i.startswith("customer_id:")}
        )
        patterns: set[str] = set()
        for ident in sorted(idents | {f"customer_id:{customer_id}"}):
            kind, _, value = ident.partition(":")
            if len(value) < 2:
                continue
            if kind == "phone":
                patterns.add(phone_pattern(value))
            patterns.add(word_pattern(value))
        for name in full_names:
            parts = (name or "").split()
            if len(parts) >= 2:
                patterns.add(r"[^A-Za-z0-9_]*".join(re.escape(p) for p in parts))
        return cls(customer_id, source_ids, idents, tuple(sorted(patterns)))


def word_pattern(value: str) -> str:
    """``value`` as a whole word: ``C1`` finds ``"C1",`` but not ``C10``.

    Example:
        >>> bool(re.search(word_pattern("C1"), '{"customer_id": "C1", "n": 2}'))
        True
        >>> bool(re.search(word_pattern("C1"), '{"customer_id": "C10"}'))
        False
    """
    return rf"(^|[^A-Za-z0-9_]){re.escape(value)}([^A-Za-z0-9_]|$)"


def phone_pattern(e164: str) -> str:
    """The last ten digits of a phone number, whatever punctuation a file put between them.

    Example:
        >>> bool(re.search(phone_pattern("+15551234567"), "call 555.123.4567 after 6"))
        True
        >>> bool(re.search(phone_pattern("+15551234567"), "order 15551234567890"))
        False
    """
    digits = re.sub(r"\D", "", e164)[-10:]
    return r"(^|\D)" + r"\D{0,3}".join(digits) + r"(\D|$)"


@dataclass(frozen=True)
class TableAction:
    """What erasure does to one table, and on which columns."""

    table: str
    action: Action
    match_columns: tuple[str, ...] = ()
    clear_columns: tuple[str, ...] = ()


def erasure_plan(tables: Mapping[str, Iterable[str]]) -> list[TableAction]:
    """The action for every table, from its columns (see the module docstring).

    Example:
        >>> for action in erasure_plan({
        ...     "orders": ["order_id", "customer_id", "email", "amount"],
        ...     "events": ["event_id", "customer_id", "properties"],
        ...     "rejects": ["raw", "reason"],
        ...     "products": ["product_id", "name"],
        ... }):
        ...     print(action.table, action.action, action.match_columns, action.clear_columns)
        events delete ('customer_id',) ()
        orders anonymise ('customer_id',) ('email',)
        products keep () ()
        rejects scrub_text ('raw',) ()
    """
    plan = []
    for name in sorted(tables):
        columns = tuple(tables[name])
        keys = tuple(c for c in columns if c in CUSTOMER_ID_COLUMNS or c in IDENTIFIER_COLUMNS)
        if name in UNTOUCHED_TABLES:
            plan.append(TableAction(name, "keep"))
        elif name in TEXT_SCRUBBED_TABLES:
            text = tuple(c for c in columns if c in FREE_TEXT_COLUMNS)
            plan.append(TableAction(name, "scrub_text", text))
        elif name in ANONYMISED_TABLES and keys:
            clear = tuple(c for c in columns if c in DIRECT_IDENTIFIERS or c in FREE_TEXT_COLUMNS)
            plan.append(TableAction(name, "anonymise", keys, clear))
        elif keys:
            plan.append(TableAction(name, "delete", keys))
        elif text := tuple(c for c in columns if c in FREE_TEXT_COLUMNS):
            # no column names the person, but free text may (e.g. a dead-lettered webhook's
            # payload): rows that mention them go
            plan.append(TableAction(name, "scrub_text", text))
        else:
            plan.append(TableAction(name, "keep"))
    return plan


def pseudonym(secret: str, customer_id: str) -> str:
    """A stable pseudonymous id: the same customer always gets the same one in this database,
    and it cannot be reversed or recomputed without the database's secret.

    Example:
        >>> pseudonym("s3cret", "C1")
        'p_35d655535f56a073cde2'
        >>> pseudonym("another secret", "C1")
        'p_eaffa344d58a0fcd6683'
    """
    digest = hmac.new(secret.encode(), customer_id.encode(), hashlib.sha256).hexdigest()
    return "p_" + digest[:20]


def tombstone_hash(secret: str, identifier: str) -> str:
    """What the erasure ledger keeps of an identifier: a keyed hash, never the identifier.

    Example:
        >>> tombstone_hash("s3cret", "email:ann@example.com")
        '981acea8f454bf632dea76fcd7538bf416184251c40569e6d5ba344e6f2a29b1'
        >>> len(tombstone_hash("s3cret", "C1")), tombstone_hash("s3cret", "C1") == pseudonym("s3cret", "C1")
        (64, False)
    """
    return hmac.new(secret.encode(), b"tombstone\0" + identifier.encode(), hashlib.sha256).hexdigest()


def anonymous_token(secret: str, customer_id: str, erased_at: str) -> str:
    """The id erased rows are re-keyed to: unlinkable to the person (keyed, salted with time).

    Example:
        >>> anonymous_token("s3cret", "C1", "2024-05-01T12:00:00")
        'erased:6f7876928f218cb4'
        >>> anonymous_token("s3cret", "C1", "2024-05-02T09:30:00")
        'erased:d448834003ba168a'
    """
    digest = hmac.new(secret.encode(), f"erased\0{customer_id}\0{erased_at}".encode(), hashlib.sha256)
    return "erased:" + digest.hexdigest()[:16]
