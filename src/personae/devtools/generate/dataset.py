"""``generate_dataset``: the synthetic omnichannel retailer, end to end.

Order of work: the catalogue and stores, the people and their identifiers (written at
once: a million rows fit in memory), then the activity of people in chunks (consents,
orders, events, surveys) streamed to the files, so memory stays flat however many
customers are asked for.

Determinism: every module draws from its own generator, a child of the seed keyed by
the module (and the chunk), so the same arguments give byte-identical files and changing
one module's draws does not shift any other module's data. Nothing reads the clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import numpy as np

from personae.devtools.generate import columns as col
from personae.devtools.generate.behaviour import draw_behaviour
from personae.devtools.generate.catalogue import build_catalogue
from personae.devtools.generate.consent import draw_consents
from personae.devtools.generate.customers import customers_table, truth_table
from personae.devtools.generate.eventlog import EventProperties
from personae.devtools.generate.experience import draw_surveys
from personae.devtools.generate.groups import GROUPS
from personae.devtools.generate.identities import DUPLICATE_SHARE, draw_identities
from personae.devtools.generate.population import draw_population
from personae.devtools.generate.purchases import draw_purchases
from personae.devtools.generate.seasonality import Timeline
from personae.devtools.generate.writer import Format, TableWriter, write_table
from personae.errors import InputError

Progress = Callable[[str, float], None]

#: people per chunk of activity; fixed, because the chunking is part of the random streams
CHUNK_PEOPLE = 50_000
MIN_CUSTOMERS = 50
KINDS = ("customers", "orders", "events", "products", "stores", "surveys", "consents")
# module keys of the child random generators (never renumber: it would change the data)
_CATALOGUE, _POPULATION, _IDENTITIES, _CUSTOMERS = 1, 2, 3, 4
_CONSENT, _PURCHASES, _BEHAVIOUR, _EXPERIENCE = 5, 6, 7, 8
_VOICE = 9
#: generous upper bound of events per person, to size event ids
_EVENTS_PER_PERSON = 200


def _rng(seed: int, module: int, chunk: int = 0) -> np.random.Generator:
    """The generator of one module (and chunk): a child of ``seed``, independent of others."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(module, chunk)))


def _check(n_customers: int, seed: int, fmt: str, years: float) -> None:
    if n_customers < MIN_CUSTOMERS:
        raise InputError(
            f"n_customers must be at least {MIN_CUSTOMERS}, got {n_customers}",
            hint="every behavioural group and identity case needs a few people",
        )
    if seed < 0:
        raise InputError(f"seed must be a non-negative integer, got {seed}")
    if fmt not in ("csv", "parquet"):
        raise InputError(f"unknown format {fmt!r}", hint="use csv or parquet")
    if not 1.5 <= years <= 20:
        raise InputError(
            f"years must be between 1.5 and 20, got {years}",
            hint="lapsed customers need more than a year of history",
        )


def generate_dataset(
    n_customers: int,
    seed: int,
    out_dir: Path,
    fmt: Format = "csv",
    end: dt.date = dt.date(2026, 6, 30),
    years: float = 3.0,
    progress: Progress | None = None,
) -> dict[str, Path]:
    """Write a synthetic retail data set and return the path of each file by kind.

    Args:
        n_customers: rows of the customers file (about 1% are second profiles of people
            who already have one).
        seed: the random seed; same arguments give byte-identical files.
        out_dir: directory to write to (created if missing).
        fmt: ``"csv"`` or ``"parquet"`` for the canonical tables; ``truth.csv`` is CSV.
        end: last day of the data.
        years: length of the history in years.
        progress: called as ``progress(step, fraction_done)``.

    Returns:
        ``{kind: path}`` for customers, orders, events, products, stores, surveys,
        consents and ``truth`` (``customer_id,group``: each profile's latent group).
    """
    _check(n_customers, seed, fmt, years)
    report = progress or (lambda step, fraction: None)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ext = "csv" if fmt == "csv" else "parquet"
    paths = {kind: out_dir / f"{kind}.{ext}" for kind in KINDS}
    paths["truth"] = out_dir / "truth.csv"
    timeline = Timeline.ending(end, years)

    report("catalogue", 0.0)
    cat = build_catalogue(_rng(seed, _CATALOGUE), n_customers)
    write_table("products", cat.products_table, paths["products"], fmt)
    write_table("stores", cat.stores.table, paths["stores"], fmt)
    report("catalogue", 1.0)

    report("customers", 0.0)
    n_dup = max(2, round(DUPLICATE_SHARE * n_customers))
    n_people = n_customers - n_dup
    pop = draw_population(_rng(seed, _POPULATION), n_people, timeline, cat)
    ids = draw_identities(_rng(seed, _IDENTITIES), pop, timeline, n_customers, cat.geography.city_area_code)
    write_table("customers", customers_table(_rng(seed, _CUSTOMERS), pop, ids, cat), paths["customers"], fmt)
    write_table(
        "truth", truth_table(pop, ids), paths["truth"], "csv", {"customer_id": "string", "group": "string"}
    )
    report("customers", 1.0)

    props = EventProperties.build(timeline, len(cat.stores), cat.stores.ids)
    order_width = col.id_width(7, n_people * max(g.orders[1] for g in GROUPS))
    event_width = col.id_width(8, n_people * _EVENTS_PER_PERSON)
    response_width = col.id_width(7, n_people * 4)
    next_order = next_event = next_response = next_post = 1
    chunks = range(0, n_people, CHUNK_PEOPLE)
    with (
        TableWriter("orders", paths["orders"], fmt, background=True) as orders,
        TableWriter("events", paths["events"], fmt, background=True) as events,
        TableWriter("surveys", paths["surveys"], fmt, background=True) as surveys,
        TableWriter("consents", paths["consents"], fmt, background=True) as consents,
    ):
        for c, start in enumerate(chunks):
            report("activity", c / len(chunks))
            stop = min(start + CHUNK_PEOPLE, n_people)
            part, part_ids = pop.take(slice(start, stop)), ids.chunk(start, stop)
            granted = draw_consents(_rng(seed, _CONSENT, c), part, part_ids, timeline)
            consents.write(granted.table)
            bought = draw_purchases(
                _rng(seed, _PURCHASES, c), part, part_ids, cat, timeline, next_order, order_width
            )
            orders.write(bought.table)
            next_order += bought.n_orders
            lived = draw_behaviour(
                _rng(seed, _BEHAVIOUR, c),
                part,
                part_ids,
                cat,
                timeline,
                granted,
                bought,
                props,
                start,
                c,
                next_event,
                event_width,
                voice=_rng(seed, _VOICE, c),
                first_post_number=next_post,
            )
            events.write(lived.table)
            next_event += lived.table.num_rows - lived.posts
            next_post += lived.posts
            answers = draw_surveys(
                _rng(seed, _EXPERIENCE, c),
                part,
                part_ids,
                timeline,
                bought,
                lived,
                next_response,
                response_width,
                granted,
            )
            surveys.write(answers)
            next_response += answers.num_rows
        if next_event > 10**event_width:  # pragma: no cover - the bound is generous
            raise RuntimeError("event ids outgrew their width; raise _EVENTS_PER_PERSON")
    report("activity", 1.0)
    report("done", 1.0)
    return paths
