"""Next best actions against the store: audiences, decisions, message previews, activation.

Application layer. Audiences are the playbooks' rules compiled with the segment engine (one
batch query for all playbooks); the recent messages that caps and cooldowns count are the
``activations`` personae recorded — treated **and held-out** customers alike, so a control
group is exactly as available to other playbooks as its treatment group (a held-out customer
is not held out again at every run, and a treated one in cooldown is not the only one to fall
through to the next playbook) — plus the ``email_sent``/``sms_sent`` events of other systems.
The decision itself is :func:`personae.personalize.decide.decide`, the same for one customer
(``actions next``) and for a whole audience (``activate``); consent is checked inside it by
:mod:`personae.privacy.consent`.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa

from personae.app import recommend
from personae.app.export import plain
from personae.app.segments.library import all_definitions, segment_library
from personae.app.segments.run import batch_sources
from personae.config.personalize import PersonalizeSettings
from personae.coverage import Coverage
from personae.errors import InputError, NotFoundError
from personae.personalize.decide import Decision, Sent, decide
from personae.personalize.messages import incentive_offer, render
from personae.personalize.playbooks import Playbook, PlaybookBook, parse_playbooks
from personae.privacy import consent
from personae.segments.batch import compile_segments
from personae.segments.check import check_rule
from personae.store import Store

_MESSAGE_EVENTS = {"email_sent": "email", "sms_sent": "sms", "push_sent": "push"}


def load_book(settings: PersonalizeSettings) -> PlaybookBook:
    """The configured playbooks file, or the one shipped with personae."""
    if settings.playbooks_file is not None:
        path = Path(settings.playbooks_file)
        if not path.is_file():
            raise InputError(f"playbooks file {path} does not exist", hint="fix personalize.playbooks_file")
        return parse_playbooks(path.read_text(encoding="utf-8"), str(path))
    text = resources.files("personae.personalize").joinpath("playbooks.yaml").read_text(encoding="utf-8")
    return parse_playbooks(text, "playbooks.yaml (shipped)")


def audiences(store: Store, book: PlaybookBook, customer_id: str | None = None) -> pd.DataFrame:
    """``customer_id`` plus one boolean column per playbook: is the customer in its audience?"""
    as_of = recommend.traits_as_of(store)
    _, library, _ = segment_library(store)
    names = set(all_definitions(store))
    extra = {f"\x00playbook:{p.name}": check_rule(p.audience, segments=names) for p in book.playbooks}
    compiled = compile_segments(list(extra), {**library, **extra}, batch_sources(store, as_of))
    t = compiled.table
    if customer_id is not None:
        t = t.filter(t.customer_id == ibis.literal(customer_id))
    cols = {p.name: t[compiled.columns[f"\x00playbook:{p.name}"]].fill_null(False) for p in book.playbooks}
    return store.execute(t.select("customer_id", **cols))


def recent_messages(
    store: Store, as_of: date, days: int, customers: list[str] | None = None
) -> dict[str, list[Sent]]:
    """Messages each customer received in the ``days`` up to ``as_of`` (activations and events)."""
    since = as_of - timedelta(days=days)
    out: dict[str, list[Sent]] = defaultdict(list)
    a = store.table("activations")
    a = a.filter((a.as_of > ibis.date(since.isoformat())) & (a.as_of <= ibis.date(as_of.isoformat())))
    if customers is not None:
        a = a.filter(a.customer_id.isin(customers))
    for r in store.rows(a.select("customer_id", "channel", "as_of", "playbook", "group")):
        out[r["customer_id"]].append(
            Sent(r["channel"], r["as_of"], r["playbook"], held_out=r["group"] == "holdout")
        )
    if store.has_table("events"):
        e = store.resolved("events")
        lo = ibis.timestamp(f"{since + timedelta(days=1)} 00:00:00")
        hi = ibis.timestamp(f"{as_of + timedelta(days=1)} 00:00:00")
        e = e.filter(e.type.isin(list(_MESSAGE_EVENTS)) & (e.occurred_at >= lo) & (e.occurred_at < hi))
        if customers is not None:
            e = e.filter(e.customer_id.isin(customers))
        for r in store.rows(e.select("customer_id", "type", "occurred_at")):
            out[r["customer_id"]].append(Sent(_MESSAGE_EVENTS[r["type"]], r["occurred_at"].date()))
    return out


def _lookback(book: PlaybookBook) -> int:
    caps = [c.days for c in book.rules.caps.values()]
    return max([*caps, *(p.cooldown_days for p in book.playbooks), 1])


def _traits(store: Store, customers: list[str] | None) -> pd.DataFrame:
    t = store.table("traits")
    if customers is not None:
        t = t.filter(t.customer_id.isin(customers))
    return store.execute(t).set_index("customer_id", drop=False)


def decide_many(
    store: Store, settings: PersonalizeSettings, customer_id: str | None = None
) -> tuple[PlaybookBook, date, list[Decision], pd.DataFrame]:
    """Decisions for every customer in some playbook's audience (or for one customer)."""
    book = load_book(settings)
    as_of = recommend.traits_as_of(store)
    aud = audiences(store, book, customer_id)
    if customer_id is not None and aud.empty:
        raise NotFoundError(
            f"no customer {customer_id!r} in the traits", hint="check the id, or run `personae build`"
        )
    names = [p.name for p in book.playbooks]
    aud = aud[aud[names].any(axis=1)] if customer_id is None else aud
    ids = aud["customer_id"].astype(str).tolist()
    traits = _traits(store, ids)
    sent = recent_messages(store, as_of, _lookback(book), ids)
    decisions = []
    for row in aud.itertuples(index=False):
        cid = str(row.customer_id)
        eligible = {n for n in names if bool(getattr(row, n))}
        tr = {str(k): plain(v) for k, v in traits.loc[cid].items()} if cid in traits.index else {}
        decisions.append(
            decide(book, cid, tr, eligible, sent.get(cid, []), as_of, salt=settings.holdout_seed)
        )
    return book, as_of, decisions, traits


def next_action(store: Store, settings: PersonalizeSettings, customer_id: str) -> dict[str, Any]:
    """The decision for one customer with every playbook's status and reason."""
    _, _, decisions, _ = decide_many(store, settings, customer_id)
    return decisions[0].as_dict()


# -- content --------------------------------------------------------------------------------------
def _cart_items(store: Store, as_of: date, customers: list[str], days: int = 7) -> dict[str, list[str]]:
    """Products added to the cart in the last ``days`` and not ordered since, newest first."""
    e = store.resolved("events")
    lo = ibis.timestamp(f"{as_of - timedelta(days=days - 1)} 00:00:00")
    hi = ibis.timestamp(f"{as_of + timedelta(days=1)} 00:00:00")
    e = e.filter(
        (e.type == "add_to_cart")
        & e.product_id.notnull()
        & (e.occurred_at >= lo)
        & (e.occurred_at < hi)
        & e.customer_id.isin(customers)
    )
    adds = store.execute(e.group_by(["customer_id", "product_id"]).aggregate(at=e.occurred_at.max()))
    o = store.resolved("orders")
    o = o.filter(o.customer_id.isin(customers) & (o.ordered_at >= lo) & (o.ordered_at < hi))
    bought = store.execute(o.group_by(["customer_id", "product_id"]).aggregate(at=o.ordered_at.max()))
    merged = adds.merge(bought, on=["customer_id", "product_id"], how="left", suffixes=("", "_o"))
    merged = merged[merged["at_o"].isna() | (merged["at_o"] < merged["at"])].sort_values(
        "at", ascending=False
    )
    return {str(k): list(v) for k, v in merged.groupby("customer_id")["product_id"]}


def _other_channel(preferred: Any) -> str:
    return "store" if preferred in ("web", "app", "marketplace", "phone", None) else "web shop"


def build_messages(
    store: Store,
    book: PlaybookBook,
    playbook: Playbook,
    decisions: list[Decision],
    traits: pd.DataFrame,
    settings: PersonalizeSettings,
    as_of: date,
) -> list[dict[str, Any]]:
    """One rendered message per decision (customer), with the items and the offer."""
    ids = [d.customer_id for d in decisions]
    item_lists: dict[str, list[dict[str, Any]]] = {c: [] for c in ids}
    if playbook.items != "none" and ids:
        ctx = recommend.fit_context(store, settings.recommend)
        cat = ctx.catalogue
        where = {str(p): i for i, p in enumerate(cat.item_ids)}
        if playbook.items == "cart":
            for cid, prods in _cart_items(store, as_of, ids).items():
                item_lists[cid] = [
                    {
                        "product_id": p,
                        "name": str(cat.names[where[p]]) if p in where else p,
                        "reason": "in your basket",
                    }
                    for p in prods[: playbook.n_items or None]
                ]
        else:
            idx = np.array([recommend.position(ctx, c) for c in ids])
            for b, start in enumerate(range(0, len(idx), 5_000)):
                part = idx[start : start + 5_000]
                groups: dict[str | None, list[int]] = defaultdict(list)
                for j, _i in enumerate(part):
                    key = None
                    if playbook.items == "browsed_category":
                        key = (
                            traits.loc[ids[start + j]].get("browse_abandoned_category")
                            if ids[start + j] in traits.index
                            else None
                        )
                    groups[key if isinstance(key, str) else None].append(j)
                del b
                for key, js in groups.items():
                    allowed = None if key is None else (cat.category == key)
                    ranked = recommend.rank_rows(ctx, part[js], playbook.n_items, allowed)
                    for r, j in enumerate(js):
                        item_lists[ids[start + j]] = [
                            {
                                "product_id": str(cat.item_ids[it]),
                                "name": str(cat.names[it]),
                                "category": str(cat.category[it]),
                                "reason": str(ranked.reasons[r, c]),
                            }
                            for c, it in enumerate(ranked.items[r])
                            if it >= 0
                        ]
    out = []
    for d in decisions:
        step = d.chosen
        channel = step.channel if step is not None and step.channel else playbook.channels[0]
        tr = (
            {str(k): plain(v) for k, v in traits.loc[d.customer_id].items()}
            if d.customer_id in traits.index
            else {}
        )
        occasion = (
            "birthday"
            if (tr.get("days_until_birthday") is not None and tr.get("days_until_birthday", 99) <= 7)
            else "anniversary"
        )
        context = {
            **{
                k: tr.get(k)
                for k in ("first_name", "last_name", "customer_id", "preferred_channel", "region")
            },
            "customer_id": d.customer_id,
            "items": item_lists.get(d.customer_id, []),
            "incentive": incentive_offer(playbook.incentive, playbook.name, d.customer_id, as_of),
            "category": tr.get("browse_abandoned_category") or "",
            "other_channel": _other_channel(tr.get("preferred_channel")),
            "occasion": occasion,
            "channel": channel,
            "playbook": playbook.name,
        }
        msg = render(playbook, channel, context)
        out.append(
            {
                "customer_id": d.customer_id,
                "channel": channel,
                **msg,
                "items": context["items"],
                "incentive": context["incentive"],
            }
        )
    return out


def preview(
    store: Store, settings: PersonalizeSettings, playbook_name: str, customer_id: str
) -> dict[str, Any]:
    """The message ``playbook_name`` would send ``customer_id`` now, with the decision.

    Rendering is refused when the customer has not consented to the purposes the message
    needs on any of the playbook's channels (a preview shows real personal data).
    """
    book, as_of, decisions, traits = decide_many(store, settings, customer_id)
    pb = book.get(playbook_name)
    d = decisions[0]
    tr = {str(k): plain(v) for k, v in traits.loc[customer_id].items()} if customer_id in traits.index else {}
    channel = next(
        (c for c in pb.channels if consent.check(tr, consent.purposes_for(c, personal=pb.personal)).allowed),
        None,
    )
    if channel is None:
        consent.require(
            tr, consent.purposes_for(pb.channels[0], personal=pb.personal), what=f"a {pb.name} message"
        )
    step = next(s for s in d.steps if s.playbook == pb.name)
    d_for = Decision(
        customer_id, as_of, [type(step)(pb.name, step.status, step.reason, step.channel or channel)]
    )
    msg = build_messages(store, book, pb, [d_for], traits, settings, as_of)[0]
    return {"playbook": pb.name, "as_of": as_of.isoformat(), "status": step.status, "why": step.reason, **msg}


# -- activation -----------------------------------------------------------------------------------
def activate(
    store: Store, settings: PersonalizeSettings, playbook_name: str, out: Path, fmt: str | None = None
) -> dict[str, Any]:
    """Write the playbook's audience with personalised content and record treated and held-out customers.

    Only customers whose decision is this playbook are exported (consent, caps, cooldowns and
    priority applied); its control group is recorded in ``activations`` but not exported.
    """
    fmt = fmt or ("jsonl" if out.suffix.lower() in (".jsonl", ".json") else "csv")
    if fmt not in ("csv", "jsonl"):
        raise InputError(f"--format {fmt!r}: use csv or jsonl")
    book, as_of, decisions, traits = decide_many(store, settings)
    pb = book.get(playbook_name)
    mine = [d for d in decisions if d.chosen is not None and d.chosen.playbook == pb.name]
    treated = [d for d in mine if d.chosen is not None and d.chosen.status == "chosen"]
    held = [d for d in mine if d.chosen is not None and d.chosen.status == "held_out"]
    mine_steps = [s for d in decisions for s in d.steps if s.playbook == pb.name]
    suppressed = sum(1 for s in mine_steps if s.status == "suppressed")
    causes: dict[str, int] = {"held out as the control group (measured, not contacted)": len(held)}
    for s in mine_steps:
        if s.status == "suppressed":
            causes[s.cause or "suppressed"] = causes.get(s.cause or "suppressed", 0) + 1
        elif s.status == "outranked":
            causes["given a higher-priority playbook"] = causes.get("given a higher-priority playbook", 0) + 1
    audience = sum(1 for s in mine_steps if s.status != "not_eligible")
    messages = build_messages(store, book, pb, treated, traits, settings, as_of)
    _write(out, fmt, messages, pb)
    run_id = uuid.uuid4().hex[:12]
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = [
        {
            "run_id": run_id,
            "playbook": pb.name,
            "customer_id": m["customer_id"],
            "group": "treatment",
            "channel": m["channel"],
            "as_of": as_of,
            "activated_at": now,
            "content": json.dumps({"subject": m["subject"], "body": m["body"]}),
        }
        for m in messages
    ] + [
        {
            "run_id": run_id,
            "playbook": pb.name,
            "customer_id": d.customer_id,
            "group": "holdout",
            "channel": d.chosen.channel if d.chosen else None,
            "as_of": as_of,
            "activated_at": now,
            "content": None,
        }
        for d in held
    ]
    if rows:
        schema = pa.schema(
            [
                ("run_id", pa.string()),
                ("playbook", pa.string()),
                ("customer_id", pa.string()),
                ("group", pa.string()),
                ("channel", pa.string()),
                ("as_of", pa.date32()),
                ("activated_at", pa.timestamp("us")),
                ("content", pa.string()),
            ]
        )
        with store.transaction():
            store.append("activations", pa.Table.from_pylist(rows, schema=schema))
    return {
        "playbook": pb.name,
        "run_id": run_id,
        "as_of": as_of.isoformat(),
        "exported": len(messages),
        "held_out": len(held),
        "suppressed": suppressed,
        "file": str(out),
        "format": fmt,
        "left_out": Coverage.of(audience, causes).as_json(),
    }


def _write(out: Path, fmt: str, messages: list[dict[str, Any]], pb: Playbook) -> None:
    if fmt == "jsonl":
        text = "".join(json.dumps({"playbook": pb.name, **m}, default=str) + "\n" for m in messages)
        out.write_text(text, encoding="utf-8")
        return
    df = pd.DataFrame(
        [
            {
                "customer_id": m["customer_id"],
                "playbook": pb.name,
                "channel": m["channel"],
                "subject": m["subject"],
                "body": m["body"],
                "product_ids": ";".join(i["product_id"] for i in m["items"]),
                "incentive_code": m["incentive"].get("code", ""),
                "valid_until": m["incentive"].get("valid_until", ""),
            }
            for m in messages
        ],
        columns=[
            "customer_id",
            "playbook",
            "channel",
            "subject",
            "body",
            "product_ids",
            "incentive_code",
            "valid_until",
        ],
    )
    df.to_csv(out, index=False)
