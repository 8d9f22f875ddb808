"""Which columns identify a person, and what erasure does to each table.

Erasure must reach every table, including the ones future features add, so the plan is made
from the columns a table has rather than from a list of table names: any table with a column
that holds a customer id or an identifier is covered the day it is created. The few tables
that need more than "delete the person's rows" are named here:

* ``orders`` — kept, re-keyed to an anonymous token, so revenue by day, product, store and
  channel (anonymous aggregates) stays true; every column that could point back to the person
  is cleared.
* ``rejects`` — rejected lines keep their raw text: a line holding one of the person's customer
  ids is theirs and is deleted; any other line that mentions them (their email, phone, loyalty
  id or name in someone else's row) is kept with the mention masked, like all other text.
* any other table with no column naming a person but free text that may (a dead-lettered
  webhook's ``payload``, the old ``webhook_outbox``): rows whose text mentions the person are
  deleted, as for rejects.
* the audit log — append-only, but the erased person's id in it is replaced by the token
  (the log then still proves *that* data was read and erased, not whose).
* the erasure ledger itself and the privacy secret are never touched.

Other people's rows are not deleted, but they may *mention* the person — B's event properties
carry A's email, a survey comment names A, a rejected line holds A's phone. Every text column of
every table (but the ledger and the secret) is searched for the person's identifiers and each
mention is replaced by :data:`MASK` (see :func:`masks_for` for what is searched and why).
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
DIRECT_IDENTIFIERS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "anonymous_id",
    "device_id",
    "loyalty_id",
    "handle",
)
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
    #: how the person is masked in other people's free text (see :func:`masks_for`)
    masks: tuple[Mask, ...] = ()
    #: and in fitted models' vocabularies (see :func:`name_part_masks`)
    model_masks: tuple[Mask, ...] = ()

    @property
    def key_patterns(self) -> tuple[str, ...]:
        """Patterns of the person's customer ids alone, as whole words: a rejected line holding
        one is the person's own (deleted); other rejected lines that only *mention* them (a
        friend's email in someone else's event) are masked instead, so nobody else's line is
        lost."""
        return tuple(sorted(word_pattern(i) for i in self.source_ids | {self.customer_id} if len(i) >= 2))

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
        names = tuple(n for n in full_names if n)
        masks = masks_for(idents, names)
        return cls(
            customer_id, source_ids, idents, tuple(sorted(patterns)), masks, masks + name_part_masks(names)
        )


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


#: What replaces the person's identifiers in other people's text.
MASK = "[erased]"
#: A number in JSON (after ``:``, ``[`` or ``,``, before ``,``, ``}`` or ``]``) cannot become
#: the text ``[erased]`` without breaking the document: there it becomes ``null``.
MASK_NUMBER = "null"

#: Country calling codes of one and two digits (ITU-T E.164); every other code has three.
#: Needed to split an E.164 number into its country code and the national number a text
#: writes (``+33612345678`` is ``06 12 34 56 78`` in France).
_CC_1 = frozenset("17")
_CC_2 = frozenset(
    [
        "20",
        "27",
        "30",
        "31",
        "32",
        "33",
        "34",
        "36",
        "39",
        "40",
        "41",
        "43",
        "44",
        "45",
        "46",
        "47",
        "48",
        "49",
        "51",
        "52",
        "53",
        "54",
        "55",
        "56",
        "57",
        "58",
        "60",
        "61",
        "62",
        "63",
        "64",
        "65",
        "66",
        "81",
        "82",
        "84",
        "86",
        "90",
        "91",
        "92",
        "93",
        "94",
        "95",
        "98",
    ]
)
#: Punctuation a file or a person puts inside a phone number: anything but letters and digits.
_GAP = "[^0-9A-Za-z]{0,3}"
#: What may not touch an identifier on either side (else it is part of another word).
_WORD_EDGE = "[^A-Za-z0-9_]"
_EMAIL_EDGE = "[^A-Za-z0-9._%+-]"
#: Names too generic to mask anywhere they appear (placeholders some files carry).
_PLACEHOLDER_NAMES = frozenset({"test user", "john doe", "jane doe", "first last", "n a", "unknown unknown"})


@dataclass(frozen=True)
class Mask:
    """One way the person appears in free text, and what replaces it there.

    ``pattern`` is matched case-insensitively and uses only the regular-expression features
    RE2 (DuckDB's engine) and Python's ``re`` share; it has the form ``(before)core(after)``,
    and ``replacement`` keeps the two boundary groups (``\\1[erased]\\2``). RE2 has no
    look-around, so a boundary character is consumed: applying a mask twice catches two
    mentions separated by one character. ``json_number`` masks are for a bare number in a
    JSON document (replaced by :data:`MASK_NUMBER`), used only where ``[erased]`` would make a
    valid document invalid.
    """

    kind: str
    pattern: str
    replacement: str = rf"\1{MASK}\2"
    json_number: bool = False


def _national(digits: str) -> tuple[str, str]:
    """An E.164 number's digits as (country code, national number); ('', digits) when the
    number had no country code (kept as its digits by the ingest)."""
    for size, codes in ((1, _CC_1), (2, _CC_2)):
        if digits[:size] in codes:
            return digits[:size], digits[size:]
    return digits[:3], digits[3:]


def phone_masks(value: str) -> list[Mask]:
    """Masks for a phone number in any punctuation, with or without its country code or
    a national trunk ``0``.

    Example:
        >>> m = phone_masks("+14155550100")
        >>> [mask_text(t, m) for t in ("+1 (415) 555-0100", "415.555.0100", "call 4155550100!")]
        ['[erased]', '[erased]', 'call [erased]!']
        >>> mask_text("order 41555501009", m), mask_text('{"tel": 14155550100}', m, json=True)
        ('order 41555501009', '{"tel": null}')
        >>> mask_text("0612345678 or +33 6 12 34 56 78", phone_masks("+33612345678"))
        '[erased] or [erased]'
    """
    digits = re.sub(r"\D", "", value)
    if len(digits) < 7:
        return []  # too short to tell from any other number in a text
    cc, national = _national(digits) if value.startswith("+") and len(digits) >= 10 else ("", digits)
    core = _GAP.join(national)
    prefix = ""
    if cc:
        prefix = rf"(?:(?:\+|00)?{cc}{_GAP})?(?:\(?0\)?{_GAP})?"
    text = Mask("phone", rf"(^|[^0-9]){prefix}{core}([^0-9]|$)")
    number = Mask(
        "phone", rf"((?:^|[:\[,])\s*)(?:{cc})?{national}(\s*(?:[,}}\]]|$))", rf"\1{MASK_NUMBER}\2", True
    )
    return [number, text]


def _distinctive(value: str) -> bool:
    """An id worth searching for in text: long enough not to be a count, a price or a word."""
    v = value.strip()
    return len(v) >= 8 if v.isdigit() else len(v) >= 5


def handle_masks(handle: str) -> list[Mask]:
    """Masks for a social user name: always as a mention (``@jane_q``, any case); bare only
    when it holds a digit, ``_`` or ``.`` and has 5 characters or more — a bare ``sarah`` or
    ``bestshop`` would mask other people's words.

    Example:
        >>> m = handle_masks("jane_q77")
        >>> mask_text("@Jane_Q77 said so; so did jane_q77. jane_q770 did not", m)
        '[erased] said so; so did [erased]. jane_q770 did not'
        >>> mask_text("@sarah: thanks sarah", handle_masks("sarah"))
        '[erased]: thanks sarah'
    """
    value = handle.strip().lstrip("@")
    if not value:
        return []
    core = re.escape(value)
    out = [Mask("handle", rf"(^|[^A-Za-z0-9_])@{core}([^A-Za-z0-9_]|$)")]
    if len(value) >= 5 and re.search(r"[0-9_.]", value):
        out.append(Mask("handle", rf"(^|[^A-Za-z0-9_@]){core}([^A-Za-z0-9_]|$)"))
    return out


def name_masks(full_name: str) -> list[Mask]:
    """Masks for a full name, "First Last" and "Last, First", any punctuation between.

    The rule (docs/privacy.md): a name is searched for only when both a first and a last
    name are known, each has at least two letters and together at least seven, and it is not
    a placeholder — a first name alone, or "Li Wu", would mask other people's words.

    Example:
        >>> m = name_masks("Ann  Lee-Smith")
        >>> mask_text("Ann Lee-Smith helped; lee-smith, ann too. Annie Lee-Smith not.", m)
        '[erased] helped; [erased] too. Annie Lee-Smith not.'
        >>> name_masks("Li Wu"), name_masks("Ann")
        ([], [])
    """
    parts = full_name.split()
    letters = [re.sub(r"[\W\d_]", "", p) for p in parts]
    if len(parts) < 2 or any(len(x) < 2 for x in letters) or sum(map(len, letters)) < 7:
        return []
    if " ".join(x.lower() for x in letters) in _PLACEHOLDER_NAMES:
        return []
    sep = "[^A-Za-z0-9]{1,3}"
    forward = sep.join(re.escape(p) for p in parts)
    backward = sep.join(re.escape(p) for p in [parts[-1], *parts[:-1]])
    return [Mask("name", rf"(^|{_WORD_EDGE})(?:{forward}|{backward})({_WORD_EDGE}|$)")]


def name_part_masks(full_names: Iterable[str]) -> tuple[Mask, ...]:
    """Masks for each part of a distinctive full name alone, for a fitted model's vocabulary
    (a voice model learns single words: "quackenbush" from comments naming the person). Each
    part gets its own replacement (``[erased1]``, ``[erased2]``…), so a vocabulary keeps its
    words distinct and the model still loads. Only for model state: in people's text a first
    or last name alone masks other people's words."""
    parts = sorted({p.lower() for n in full_names if name_masks(n) for p in n.split()})
    return tuple(
        Mask("name", rf"(^|{_WORD_EDGE}){re.escape(p)}({_WORD_EDGE}|$)", rf"\1[erased{i}]\2")
        for i, p in enumerate(parts, 1)
    )


def masks_for(identifiers: Iterable[str], full_names: Iterable[str] = ()) -> tuple[Mask, ...]:
    """How the person is found in other people's free text, and masked there.

    * every **email**, case-insensitively, as a whole address;
    * every **phone** in any punctuation, with or without its country code (:func:`phone_masks`);
    * **loyalty, device and anonymous ids** that are distinctive (at least 5 characters, or
      8 digits): a short one would mask counts, prices and words;
    * a social **handle** as a mention (``@jane_q``), and bare only when it cannot be a word
      (:func:`handle_masks`);
    * the **full name** under the rule of :func:`name_masks`.

    Customer ids are not searched for in other people's text: they are the shop's keys
    (``42`` in CDNOW), often a plain number, and name nobody once the person is gone.

    Example:
        >>> m = masks_for(["email:ann@x.org", "loyalty_id:L-77812", "customer_id:42"], ["Ann Lindqvist"])
        >>> mask_text("ANN@X.org, card L-77812, Ann Lindqvist, 42 items", m)
        '[erased], card [erased], [erased], 42 items'
    """
    out: list[Mask] = []
    for ident in sorted(set(identifiers)):
        kind, _, value = ident.partition(":")
        value = value.strip()
        if not value:
            continue
        if kind == "email" and "@" in value:
            out.append(Mask("email", rf"(^|{_EMAIL_EDGE}){re.escape(value)}({_EMAIL_EDGE}|$)"))
        elif kind == "phone":
            out.extend(phone_masks(value))
        elif kind == "handle":
            out.extend(handle_masks(value))
        elif kind in ("loyalty_id", "device_id", "anonymous_id") and _distinctive(value):
            out.append(Mask(kind, rf"(^|{_WORD_EDGE}){re.escape(value)}({_WORD_EDGE}|$)"))
            if value.isdigit():
                out.append(
                    Mask(kind, rf"((?:^|[:\[,])\s*){value}(\s*(?:[,}}\]]|$))", rf"\1{MASK_NUMBER}\2", True)
                )
    for name in sorted(set(full_names)):
        out.extend(name_masks(name))
    unique = {(m.pattern, m.replacement): m for m in out}
    return tuple(unique.values())


def mask_text(text: str, masks: Iterable[Mask], *, json: bool = False) -> str:
    """``text`` with every mention masked — what the store does in SQL, for one string (the
    erasure's own reason, tests). ``json``: the text is a JSON document, where
    a bare number becomes ``null``."""
    masks = list(masks)
    for m in masks:
        if m.json_number and not json:
            continue
        for _ in range(2):  # a consumed boundary hides an adjacent second mention
            text = re.sub(m.pattern, m.replacement, text, flags=re.IGNORECASE)
    return text


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
