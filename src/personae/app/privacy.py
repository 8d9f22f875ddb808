"""Serving data-protection rights on a store: access, erasure, retention, pseudonymised exports.

Application layer over :mod:`personae.privacy` (what identifies a person, what erasure does
to each table) and :mod:`personae.store.maintenance` (the store operations). Every operation is
recorded in the audit log.

* **Access** (:func:`access_report`): everything held on the person, table by table, with the
  segments they are in and why.
* **Erasure** (:func:`erase_customer`): the person's rows leave every table in one transaction
  (their orders stay as anonymous revenue under a token), every mention of them in anyone
  else's text (event properties, extra columns, comments, rejected lines, payloads, the audit
  log) is masked, keyed hashes of their identifiers become tombstones so re-ingesting an old
  file does not bring them back, and the database file is rewritten so that no byte of their
  data remains in it.
* **Retention** (:func:`apply_retention`): raw events older than N days are purged; derived
  tables (traits, segments, CLV) are kept.
* **Pseudonymisation** (:func:`pseudonymised_traits`): the traits with a stable keyed pseudonym
  instead of the customer id and without direct identifiers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from personae.app import audit
from personae.app.customers import resolve_customer_id
from personae.app.export import plain
from personae.app.tombstones import database_secret
from personae.errors import InputError
from personae.privacy.policy import (
    CUSTOMER_ID_COLUMNS,
    DIRECT_IDENTIFIERS,
    IDENTIFIER_COLUMNS,
    TEXT_SCRUBBED_TABLES,
    Subject,
    anonymous_token,
    erasure_plan,
    mask_text,
    pseudonym,
    tombstone_hash,
)
from personae.store import Store
from personae.store.maintenance import (
    anonymise_matching,
    delete_before,
    delete_matching,
    delete_text_matching,
    mask_text_columns,
    rewrite_file,
    rows_matching,
    table_columns,
    text_columns,
)

#: The order in which an access report lists tables (the rest follow alphabetically).
ACCESS_ORDER = (
    "customers",
    "identity_map",
    "identity_links",
    "identity_merges",
    "consents",
    "orders",
    "events",
    "surveys",
    "texts",
    "traits",
    "affinities",
    "clv",
    "segment_snapshots",
    "segment_changes",
)
#: Tables whose text is never masked: the erasure's own ledger and secrets (nothing in them
#: is a person's text), the schema's bookkeeping.
NOT_MASKED = ("privacy_secret", "erasure_identifiers", "_personae_schema", "service_journal")
#: Tables holding fitted models, whose vocabularies keep single words of the texts they learned
#: from: the person's name parts are masked there too (see ``name_part_masks``).
MODEL_TABLES = ("voice_models", "cluster_models")
#: Bookkeeping columns left out of an access report (they say nothing about the person).
_BOOKKEEPING = ("_row_key", "_row_hash", "_ingested_at")


# -- who is the person ---------------------------------------------------------------------------
def find_subject(store: Store, given: str, *, default_country_code: str = "1") -> Subject:
    """The person behind any of their ids or identifiers, with every form the store holds."""
    cid = resolve_customer_id(store, given, default_country_code=default_country_code)
    m = store.table("identity_map")
    idents = set(store.execute(m.filter(m.customer_id == cid).select("identifier"))["identifier"])
    if ":" in cid:  # a prospect: its id is its identifier
        idents.add(cid)
    else:
        idents.add(f"customer_id:{cid}")
    # links name identifiers that may not be in the map (e.g. blocked ones are not, by design)
    links = store.table("identity_links")
    linked = store.execute(
        links.filter(links.identifier_a.isin(list(idents)) | links.identifier_b.isin(list(idents)))
    )
    idents |= set(linked["identifier_a"]) | set(linked["identifier_b"])
    source_ids = {i.split(":", 1)[1] for i in idents if i.startswith("customer_id:")}
    names: list[str] = []
    c = store.table("customers")
    rows = store.execute(
        c.filter(c.customer_id.isin(list(source_ids | {cid}))).select(
            *[k for k in ("first_name", "last_name", "email", "phone", "loyalty_id") if k in c.columns]
        )
    )
    for r in rows.to_dict("records"):
        # a full name only when both parts are known (a first name alone names nobody)
        if _text(r.get("first_name")) and _text(r.get("last_name")):
            names.append(f"{str(r['first_name']).strip()} {str(r['last_name']).strip()}")
        # the email, phone and loyalty id as stored (the identity map holds normalised forms)
        for kind in ("email", "phone", "loyalty_id"):
            if kind not in r:
                continue
            if _text(r[kind]):
                idents.add(f"{kind}:{r[kind]}")
    return Subject.of(cid, idents, names)


def _text(v: object) -> bool:
    return isinstance(v, str) and bool(v.strip())


# -- right of access -----------------------------------------------------------------------------
def access_report(store: Store, subject: Subject, *, actor: str, channel: str = "cli") -> dict[str, Any]:
    """Everything held on the person, as JSON-ready data (and an audit entry saying so)."""
    tables = table_columns(store)
    held: dict[str, list[dict[str, Any]]] = {}
    order = [t for t in ACCESS_ORDER if t in tables] + sorted(t for t in tables if t not in ACCESS_ORDER)
    plan = {a.table: a for a in erasure_plan(tables)}
    for name in order:
        action = plan[name]
        if action.action not in ("delete", "anonymise"):
            continue
        rows = rows_matching(store, name, action.match_columns, subject.ids)
        if rows.num_rows:
            keep = [c for c in rows.column_names if c not in _BOOKKEEPING]
            held[name] = [{k: _json_value(v) for k, v in r.items()} for r in rows.select(keep).to_pylist()]
    report = {
        "customer_id": subject.customer_id,
        "identifiers": sorted(subject.identifiers),
        "generated_at": datetime.now().isoformat(timespec="seconds"),
        "segments": segments_with_reasons(store, subject.customer_id),
        "data": held,
        "audit": [
            {k: plain(v) for k, v in r.items()}
            for r in audit.entries(store, customer_id=subject.customer_id).to_dict("records")
        ],
    }
    audit.record(
        store,
        actor=actor,
        channel=channel,
        action="access export",
        customer_id=subject.customer_id,
        detail=f"{sum(len(v) for v in held.values())} rows from {len(held)} tables",
    )
    return report


def _json_value(v: Any) -> Any:
    if isinstance(v, str) and v[:1] in "{[":
        try:
            return json.loads(v)
        except ValueError:
            return v
    return plain(v)


def _day(v: Any) -> str | None:
    return None if v is None or pd.isna(v) else pd.Timestamp(v).date().isoformat()


def segments_with_reasons(store: Store, customer_id: str) -> list[dict[str, Any]]:
    """The segments the person is in at the latest snapshot, each with the rule and the values
    of the traits the rule reads — why they are in it."""
    if not store.has_table("segment_snapshots") or not store.has_table("segment_runs"):
        return []
    snaps = store.table("segment_snapshots")
    mine = store.execute(snaps.filter(snaps.customer_id == customer_id))
    if mine.empty:
        return []
    latest = mine["as_of"].max()
    names = sorted(set(mine.loc[mine["as_of"] == latest, "segment"]))
    runs = store.table("segment_runs")
    rules = store.execute(runs.filter(runs.segment.isin(names) & (runs.as_of == latest)))
    rule_of = dict(zip(rules["segment"], rules["rule"], strict=False))
    traits: dict[str, Any] = {}
    if store.has_table("traits"):
        t = store.table("traits")
        found = store.execute(t.filter(t.customer_id == customer_id))
        if len(found):
            traits = {str(k): v for k, v in found.iloc[0].to_dict().items()}
    changes = store.table("segment_changes")
    entered = store.execute(
        changes.filter((changes.customer_id == customer_id) & (changes.change == "entered"))
        .group_by("segment")
        .aggregate(entered=changes.as_of.max())
    )
    entered_at = dict(zip(entered["segment"], entered["entered"], strict=False))
    # no recorded entry (they were in it at the first snapshot): since their first snapshot
    for name, first in mine.groupby("segment")["as_of"].min().items():
        entered_at.setdefault(str(name), first)
    out = []
    for name in names:
        rule = str(rule_of.get(name) or "")
        used = [f for f in traits if f != "customer_id" and re.search(rf"\b{re.escape(f)}\b", rule)]
        out.append(
            {
                "segment": name,
                "as_of": _day(latest),
                "entered_at": _day(entered_at.get(name)),
                "rule": rule,
                "because": {f: plain(traits[f]) for f in used},
            }
        )
    return out


# -- right to erasure ----------------------------------------------------------------------------
def erase_customer(
    store: Store,
    subject: Subject,
    *,
    reason: str | None,
    actor: str,
    channel: str = "cli",
    tombstones: bool = True,
) -> dict[str, Any]:
    """Remove the person from every table, then rewrite the file (see the module docstring).

    All table changes happen in one transaction: on any error nothing is erased. The rewrite
    that follows only copies live data; if it fails, the person is already gone from every
    table and running the erasure again (it finds the tombstone) completes the wipe.
    """
    secret = database_secret(store)
    erased_at = datetime.now()
    token = anonymous_token(secret, subject.customer_id, erased_at.isoformat())
    affected: dict[str, int] = {}
    with store.transaction():
        for action in erasure_plan(table_columns(store)):
            if action.action == "delete":
                n = delete_matching(store, action.table, action.match_columns, subject.ids)
            elif action.action == "anonymise":
                n = anonymise_matching(
                    store, action.table, action.match_columns, subject.ids, token, action.clear_columns
                )
            elif action.action == "scrub_text":
                # a rejected line is the person's own when it holds one of their customer ids;
                # a line that only mentions them is someone else's: masked below, not lost
                patterns = subject.key_patterns if action.table in TEXT_SCRUBBED_TABLES else subject.patterns
                n = delete_text_matching(store, action.table, action.match_columns, patterns)
            else:
                continue
            if n:
                affected[action.table] = n
        # the audit log keeps what happened, under the token instead of the person's id
        anonymise_matching(store, "audit_log", ["customer_id"], subject.ids, token)
        masked = mask_mentions(store, subject)
        # the reason and the log say what was done, not to whom: a reason naming the person
        # ("request from ann@example.org") is masked like everything else
        reason = mask_text(reason, subject.masks) if reason else reason
        if tombstones:
            hashes = sorted({tombstone_hash(secret, i) for i in subject.identifiers})
            store.append(
                "erasure_identifiers",
                pa.table(
                    {
                        "hash": pa.array(hashes, pa.string()),
                        "erased_at": pa.array([erased_at] * len(hashes), pa.timestamp("us")),
                    }
                ),
            )
        store.append(
            "erasures",
            pa.table(
                {
                    "erased_at": pa.array([erased_at], pa.timestamp("us")),
                    "token": pa.array([token], pa.string()),
                    "reason": pa.array([reason], pa.string()),
                    "actor": pa.array([actor], pa.string()),
                    "rows_affected": pa.array([sum(affected.values())], pa.int64()),
                    "detail": pa.array(
                        [json.dumps({**affected, "masked": masked}, sort_keys=True)], pa.string()
                    ),
                }
            ),
        )
        audit.record(
            store, actor=actor, channel=channel, action="erase", customer_id=token, detail=reason or None
        )
    rewrite_file(store)
    return {
        "erased": True,
        "token": token,
        "rows": affected,
        "masked": masked,
        "tombstones": len(subject.identifiers) if tombstones else 0,
        "erased_at": erased_at.isoformat(timespec="seconds"),
    }


def mask_mentions(store: Store, subject: Subject) -> dict[str, int]:
    """Mask the person's identifiers wherever anyone's text mentions them; values masked per
    table. Every text column of every table but :data:`NOT_MASKED` is searched — JSON
    properties, extra columns, comments, voice texts, rejected lines and reasons, tracked
    messages, webhook payloads, activation content, audit details — so a table a future
    feature adds is covered too. What is searched for: :func:`personae.privacy.policy.masks_for`.
    """
    if not subject.masks:
        return {}
    out: dict[str, int] = {}
    for table, columns in text_columns(store).items():
        if table in NOT_MASKED:
            continue
        masks = subject.model_masks if table in MODEL_TABLES else subject.masks
        specs = [(m.pattern, m.replacement, m.json_number) for m in masks]
        n = sum(mask_text_columns(store, table, columns, specs).values())
        if n:
            out[table] = n
    return out


# -- retention -----------------------------------------------------------------------------------
def apply_retention(
    store: Store, days: int, *, today: date | None = None, actor: str, dry_run: bool = False
) -> dict[str, Any]:
    """Purge raw events older than ``days`` days; derived tables stay as they are."""
    if days < 1:
        raise InputError(f"retention of {days} days: give at least 1 day")
    cutoff = datetime.combine((today or date.today()) - timedelta(days=days), datetime.min.time())
    events = store.table("events")
    old = int(store.scalar(events.filter(events.occurred_at < cutoff).count()))
    report: dict[str, Any] = {"cutoff": cutoff.isoformat(sep=" "), "events_purged": old, "dry_run": dry_run}
    if dry_run or not old:
        return report
    with store.transaction():
        delete_before(store, "events", "occurred_at", cutoff)
        audit.record(
            store,
            actor=actor,
            action="retention purge",
            detail=f"{old} events before {cutoff.date().isoformat()}",
        )
    rewrite_file(store)
    return report


# -- pseudonymised exports -----------------------------------------------------------------------
def pseudonymise(table: pa.Table, secret: str) -> pa.Table:
    """``table`` with a keyed pseudonym for every customer id and no direct identifiers.

    Direct identifiers (names, email, phone, device and loyalty ids) are dropped; the birth
    date becomes a birth year, a postcode keeps its first three characters (the district) and
    coordinates (the place traits, a profile's own) are rounded to 0.1° — about 11 km, a
    district too: a home's exact point identifies a person as well as a name does.
    The same customer always gets the same pseudonym in this database, so exports can be
    joined with each other, but not with anything outside it.
    """
    out = table
    for name in out.column_names:
        if name in DIRECT_IDENTIFIERS or name in IDENTIFIER_COLUMNS:
            out = out.drop_columns([name])
        elif name in CUSTOMER_ID_COLUMNS:
            values = out.column(name).to_pylist()
            pseudo = pa.array([None if v is None else pseudonym(secret, str(v)) for v in values], pa.string())
            out = out.set_column(out.column_names.index(name), name, pseudo)
    if "birth_date" in out.column_names:
        i = out.column_names.index("birth_date")
        out = out.set_column(i, "birth_year", pc.year(out.column("birth_date")))
    if "postcode" in out.column_names:
        i = out.column_names.index("postcode")
        out = out.set_column(i, "postcode_district", pc.utf8_slice_codeunits(out.column("postcode"), 0, 3))
    for name in ("location_latitude", "location_longitude", "latitude", "longitude"):
        if name in out.column_names:
            i = out.column_names.index(name)
            out = out.set_column(i, name, pc.round(out.column(name).cast(pa.float64()), 1))
    return out


def pseudonymised_traits(store: Store, *, actor: str, columns: Iterable[str] | None = None) -> pa.Table:
    """The traits table, pseudonymised (see :func:`pseudonymise`)."""
    t = store.table("traits")
    if columns:
        t = t.select(*columns)
    table = pseudonymise(store.to_arrow(t), database_secret(store))
    audit.record(store, actor=actor, action="pseudonymised export", detail=f"traits, {table.num_rows} rows")
    return table
