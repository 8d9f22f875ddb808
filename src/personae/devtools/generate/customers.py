"""The customers table (one row per profile) and the ground-truth table.

Joins the people (``population``) to their identifiers (``identities``) and adds what
customers tell a retailer about themselves: psychographic interests that echo their real
favourite categories and team, and zero-party preferences such as clothing size. Duplicate
profiles carry much less: typically a store sign-up with only a name and one contact.
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from personae import schema
from personae.devtools.generate import columns as col
from personae.devtools.generate import vocabulary as voc
from personae.devtools.generate.catalogue import Catalogue
from personae.devtools.generate.groups import GROUP_NAMES
from personae.devtools.generate.identities import Identities
from personae.devtools.generate.population import JOIN_CHANNELS, NO_DATE, Population


def _interests(rng: np.random.Generator, pop: Population) -> np.ndarray:
    """``(n, 4)`` interest codes: one per favourite category, the team's sport, a hobby."""
    n = len(pop)
    code = {name: i for i, name in enumerate(voc.INTERESTS)}
    by_cat = np.array([[code[i] for i in voc.CATEGORY_INTERESTS[c]] for c in voc.CATEGORY_NAMES])
    pick = rng.integers(0, 2, size=(n, 3))
    from_fav = np.where(pop.fav_cats >= 0, by_cat[np.maximum(pop.fav_cats, 0), pick], -1)
    sport = np.array([code[t[1]] for t in voc.TEAMS])
    from_team = np.where(pop.team >= 0, sport[np.maximum(pop.team, 0)], -1)
    extra_vocab = np.array([code[i] for i in voc.EXTRA_INTERESTS])
    extra = np.where(rng.random(n) < 0.3, rng.choice(extra_vocab, n), -1)
    codes = np.sort(np.column_stack([from_fav[:, :2], from_team, extra]), axis=1)
    codes[:, 1:][codes[:, 1:] == codes[:, :-1]] = -1  # drop repeats
    codes[rng.random(n) < 0.18] = -1  # never filled in
    return codes


def _preferences(rng: np.random.Generator, pop: Population) -> pa.Array:
    """Zero-party preferences as JSON objects, built once per distinct combination."""
    n = len(pop)
    clothes = np.isin(pop.fav_cats, [voc.CATEGORY_NAMES.index(c) for c in ("apparel", "shoes")]).any(axis=1)
    sw = np.array(voc.SIZE_WEIGHTS)
    size = np.where(clothes | (rng.random(n) < 0.3), rng.choice(len(sw), n, p=sw / sw.sum()), -1)
    freq = np.where(
        rng.random(n) < 0.7, rng.choice(len(voc.NEWSLETTER_FREQUENCIES), n, p=[0.35, 0.35, 0.2, 0.1]), -1
    )
    contact = np.where(
        rng.random(n) < 0.4, rng.choice(len(voc.CONTACT_PREFERENCES), n, p=[0.55, 0.15, 0.2, 0.1]), -1
    )
    team = np.where(rng.random(n) < 0.6, pop.team, -1)
    combos = np.column_stack([size, freq, contact, team])
    combos[rng.random(n) < 0.3] = -1
    unique, inverse = np.unique(combos, axis=0, return_inverse=True)
    texts: list[str] = []
    for s, f, c, t in unique:
        prefs: dict[str, str] = {}
        if s >= 0:
            prefs["size"] = voc.SIZES[s]
        if f >= 0:
            prefs["newsletter_frequency"] = voc.NEWSLETTER_FREQUENCIES[f]
        if c >= 0:
            prefs["preferred_contact"] = voc.CONTACT_PREFERENCES[c]
        if t >= 0:
            prefs["favourite_team"] = voc.TEAM_NAMES[t]
        texts.append(json.dumps(prefs))
    empty = np.asarray((unique < 0).all(axis=1))
    index = np.where(empty[inverse.ravel()], -1, inverse.ravel())
    return col.lookup(texts, index)


def _postcodes(rng: np.random.Generator, city: np.ndarray, cat: Catalogue) -> pa.Array:
    zip3 = col.lookup(cat.geography.city_zip, city)
    tail = col.fixed_width([(rng.integers(0, 100, len(city)), 2)], len(city))
    return pc.binary_join_element_wise(zip3, tail, "")


def customers_table(rng: np.random.Generator, pop: Population, ids: Identities, cat: Catalogue) -> pa.Table:
    """All profiles (main and duplicate) ordered by customer id."""
    n = len(pop)
    geo = cat.geography
    null = pa.nulls(n, pa.string())
    postcode = _postcodes(rng, pop.city, cat)
    main = {
        "customer_id": ids.customer_id,
        "created_at": col.timestamps(pop.join_s),
        "first_name": ids.first_name,
        "last_name": ids.last_name,
        "email": ids.email,
        "phone": ids.phone,
        "loyalty_id": ids.loyalty_id,
        "birth_date": col.dates(pop.birth_day, pop.birth_day != NO_DATE),
        "gender": col.lookup(schema.GENDERS, pop.gender),
        "occupation": col.lookup(voc.OCCUPATIONS, pop.occupation),
        "income_band": col.lookup(voc.INCOME_BANDS, pop.income_band),
        "country": pa.array([voc.COUNTRY] * n, pa.string()),
        "region": col.lookup(geo.regions, pop.region),
        "city": col.lookup(geo.city_names, pop.city),
        "postcode": postcode,
        "home_store_id": col.lookup(cat.stores.ids, pop.home_store),
        "join_channel": col.lookup(JOIN_CHANNELS, pop.join_channel),
        "interests": col.list_column(voc.INTERESTS, _interests(rng, pop)),
        "preferences": _preferences(rng, pop),
    }
    # a second profile: usually made at a till or on the phone, with little filled in
    dup_channel = rng.choice([2, 3, 1, 0], size=n, p=[0.6, 0.2, 0.1, 0.1])
    keep_birth = rng.random(n) < 0.5
    dup = {
        "customer_id": ids.dup_customer_id,
        "created_at": col.timestamps(ids.dup_created_s),
        "first_name": ids.first_name,
        "last_name": ids.last_name,
        "email": ids.dup_email,
        "phone": ids.dup_phone,
        "loyalty_id": null,
        "birth_date": col.dates(pop.birth_day, (pop.birth_day != NO_DATE) & keep_birth),
        "gender": main["gender"],
        "occupation": null,
        "income_band": null,
        "country": main["country"],
        "region": main["region"],
        "city": main["city"],
        "postcode": pc.if_else(rng.random(n) < 0.7, postcode, pa.scalar(None, pa.string())),
        "home_store_id": main["home_store_id"],
        "join_channel": col.lookup(JOIN_CHANNELS, dup_channel),
        "interests": pa.nulls(n, main["interests"].type),
        "preferences": null,
    }
    # the columns the generator writes (later ones such as age stay out: same seed, same bytes)
    names = [c.name for c in schema.TABLES["customers"].columns if not c.late]
    dup_people = pa.array(np.flatnonzero(ids.has_dup))
    main_t = pa.table({k: main[k] for k in names})
    dup_t = pa.table({k: dup[k] for k in names}).take(dup_people)
    table = pa.concat_tables([main_t, dup_t]).combine_chunks()
    numbers = np.concatenate([ids.customer_number, ids.dup_number[ids.has_dup]])
    return table.take(pa.array(np.argsort(numbers, kind="stable")))


def truth_table(pop: Population, ids: Identities) -> pa.Table:
    """``customer_id, group`` for every profile; duplicates carry their person's group."""
    numbers = np.concatenate([ids.customer_number, ids.dup_number[ids.has_dup]])
    groups = np.concatenate([pop.group, pop.group[ids.has_dup]])
    order = np.argsort(numbers, kind="stable")
    return pa.table(
        {
            "customer_id": col.ids("C", numbers[order], ids.id_width),
            "group": col.lookup(GROUP_NAMES, groups[order]),
        }
    )
