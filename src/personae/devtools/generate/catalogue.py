"""The retailer: its geography, stores and product catalogue.

Everything customers do refers to these, so they are drawn first and kept as arrays the
other modules index into. The catalogue is organised for fast vectorised picking: within
each (category, team) *bucket* products are sorted by price, so "a customer who likes
expensive things" is simply a high quantile into the bucket.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from personae.devtools.generate import columns as col
from personae.devtools.generate import vocabulary as voc

#: whether each category code is one where fans buy team merchandise
IS_TEAM_CATEGORY = np.array([c in voc.TEAM_CATEGORIES for c in voc.CATEGORY_NAMES])


@dataclass(frozen=True)
class Geography:
    """Cities flattened from ``vocabulary.GEOGRAPHY`` (index = city code)."""

    regions: tuple[str, ...]
    city_names: tuple[str, ...]
    city_region: np.ndarray
    city_zip: tuple[str, ...]
    city_area_code: np.ndarray
    city_weight: np.ndarray

    @classmethod
    def build(cls) -> Geography:
        regions, names, region_of, zips, areas, weights = [], [], [], [], [], []
        for r, (region, cities) in enumerate(voc.GEOGRAPHY):
            regions.append(region)
            for name, zip3, area, weight in cities:
                names.append(name)
                region_of.append(r)
                zips.append(zip3)
                areas.append(area)
                weights.append(weight)
        w = np.array(weights)
        return cls(
            tuple(regions), tuple(names), np.array(region_of), tuple(zips), np.array(areas), w / w.sum()
        )


@dataclass(frozen=True)
class Stores:
    """Physical stores. ``region_stores[region_start[r]:region_start[r + 1]]`` are region r's."""

    city: np.ndarray
    region: np.ndarray
    table: pa.Table
    region_start: np.ndarray
    region_stores: np.ndarray
    city_start: np.ndarray
    city_stores: np.ndarray
    ids: pa.Array

    def __len__(self) -> int:
        return len(self.city)

    def visited(
        self, u: np.ndarray, home: np.ndarray, region: np.ndarray, loyalty: float = 0.85
    ) -> np.ndarray:
        """The store a visit goes to: the home store with chance ``loyalty``, else one in
        the region (``u`` are two columns of uniforms, one per choice)."""
        count = self.region_start[region + 1] - self.region_start[region]
        pos = np.minimum((u[:, 0] * count).astype(np.int64), count - 1)
        in_region = self.region_stores[self.region_start[region] + pos]
        return np.where((home >= 0) & (u[:, 1] < loyalty), home, in_region)


@dataclass(frozen=True)
class Catalogue:
    """Products, stores and the lookups used to pick products fast.

    Attributes:
        category: category code of each product (index into ``vocabulary.CATEGORIES``).
        price: list price of each product.
        team: team code of team merchandise, -1 otherwise.
        bucket_start, bucket_size: ``[category, team + 1]`` -> slice of ``bucket_items``;
            team slot 0 holds the category's products that are not team merchandise.
        bucket_items: product indices grouped by bucket, each bucket sorted by price.
        category_weight: how popular each category is (demand share).
    """

    geography: Geography
    stores: Stores
    category: np.ndarray
    price: np.ndarray
    team: np.ndarray
    bucket_start: np.ndarray
    bucket_size: np.ndarray
    bucket_items: np.ndarray
    category_weight: np.ndarray
    product_ids: pa.Array
    products_table: pa.Table

    def pick(self, categories: np.ndarray, teams: np.ndarray, quantile: np.ndarray) -> np.ndarray:
        """Products of ``categories`` at price ``quantile`` (team merchandise if ``teams`` >= 0).

        Falls back to the category's ordinary products when a team has no item there.
        """
        slot = np.where(teams >= 0, teams + 1, 0)
        size = self.bucket_size[categories, slot]
        slot = np.where(size > 0, slot, 0)
        size = self.bucket_size[categories, slot]
        pos = np.minimum((np.clip(quantile, 0.0, 1.0) * size).astype(np.int64), size - 1)
        return self.bucket_items[self.bucket_start[categories, slot] + pos]


def _scaled(n_customers: int, low: int, high: int) -> int:
    """Grow from ``low`` towards ``high`` with the square root of the customer base."""
    return round(low + (high - low) * min(1.0, n_customers / 1_000_000) ** 0.5)


def build_stores(rng: np.random.Generator, n_customers: int, geo: Geography) -> Stores:
    """20 to 60 stores: the biggest cities get one first, then more by population."""
    n = _scaled(n_customers, 20, 60)
    order = np.argsort(-geo.city_weight, kind="stable")
    first = order[: min(n, len(order))]
    extra = rng.choice(len(geo.city_names), size=max(0, n - len(first)), p=geo.city_weight)
    city = np.sort(np.concatenate([first, extra]), kind="stable")
    region = geo.city_region[city]
    nth = np.zeros(n, dtype=np.int64)  # how many stores of the same city came before
    for i in range(1, n):
        nth[i] = nth[i - 1] + 1 if city[i] == city[i - 1] else 0
    suffix_order = rng.permutation(len(voc.STORE_SUFFIXES))
    names = [
        f"{geo.city_names[c]} {voc.STORE_SUFFIXES[suffix_order[k % len(suffix_order)]]}"
        for c, k in zip(city, nth, strict=True)
    ]
    area = np.clip(np.round(rng.lognormal(np.log(1500), 0.6, n)), 300, 5000)
    ids = col.ids("S", np.arange(1, n + 1), col.id_width(3, n))
    table = pa.table(
        {
            "store_id": ids,
            "name": pa.array(names, pa.string()),
            "region": col.lookup(geo.regions, region),
            "city": col.lookup(geo.city_names, city),
            "floor_area_sqm": col.floats(area, 0),
        }
    )
    region_stores = np.argsort(region, kind="stable")
    region_start = np.searchsorted(region[region_stores], np.arange(len(geo.regions) + 1))
    city_stores = np.argsort(city, kind="stable")
    city_start = np.searchsorted(city[city_stores], np.arange(len(geo.city_names) + 1))
    return Stores(city, region, table, region_start, region_stores, city_start, city_stores, ids)


def _prices(rng: np.random.Generator, category: np.ndarray, team: np.ndarray) -> np.ndarray:
    """Category-dependent lognormal list prices ending in .99 (or .49/.99 when cheap)."""
    median = np.array([c[2] for c in voc.CATEGORIES])[category]
    sigma = np.array([c[3] for c in voc.CATEGORIES])[category]
    raw = rng.lognormal(np.log(median), sigma) * np.where(team >= 0, 1.3, 1.0)
    cheap = raw < 10
    price = np.where(cheap, np.maximum(np.floor(raw * 2) / 2, 1.0) - 0.01, np.floor(raw) + 0.99)
    return np.round(price, 2)


def _tags(
    rng: np.random.Generator, category: np.ndarray, team: np.ndarray, price_rank: np.ndarray
) -> tuple[list[str], np.ndarray]:
    """Tag vocabulary and a ``(products, 4)`` code matrix (-1 = no tag)."""
    teams = [f"team:{t}" for t in voc.TEAM_NAMES]
    sports = ("basketball", "baseball", "football")
    lifestyle = ("premium", "eco", "bestseller", "new", "kids", "organic")
    vocab = [*teams, *sports, *lifestyle]
    code = {name: i for i, name in enumerate(vocab)}
    n = len(category)
    tags = np.full((n, 4), -1, dtype=np.int64)
    is_team = team >= 0
    tags[is_team, 0] = team[is_team]
    sport_of_team = np.array([code[t[1]] for t in voc.TEAMS])
    tags[is_team, 1] = sport_of_team[team[is_team]]
    cats = np.array(voc.CATEGORY_NAMES)[category]
    family = np.isin(cats, ("toys", "baby")) | (np.isin(cats, ("apparel", "shoes")) & (rng.random(n) < 0.1))
    tags[~is_team & family, 1] = code["kids"]
    tags[:, 2] = np.where(price_rank >= 0.85, code["premium"], -1)
    eco = rng.random(n) < 0.12
    natural = np.isin(cats, ("grocery", "beauty", "baby"))
    tags[eco, 3] = np.where(natural[eco], code["organic"], code["eco"])
    marketing = rng.random(n)
    free = tags[:, 3] < 0
    tags[free & (marketing < 0.08), 3] = code["bestseller"]
    tags[free & (marketing > 0.92), 3] = code["new"]
    return vocab, tags


def build_catalogue(rng: np.random.Generator, n_customers: int) -> Catalogue:
    """About 500 (small bases) to 2000 (a million customers) products, plus the stores."""
    geo = Geography.build()
    stores = build_stores(rng, n_customers, geo)
    n_products = _scaled(n_customers, 500, 2000)
    shares = np.array([c[1] for c in voc.CATEGORIES])
    per_cat = np.maximum(np.round(shares / shares.sum() * n_products).astype(int), 10)
    category = np.repeat(np.arange(len(per_cat)), per_cat)
    n = len(category)
    team = np.full(n, -1, dtype=np.int64)
    team_share = {"apparel": 0.25, "sports": 0.3, "shoes": 0.1}
    team_weight = np.array([t[2] for t in voc.TEAMS])
    team_weight = team_weight / team_weight.sum()
    for c, name in enumerate(voc.CATEGORY_NAMES):
        if name not in team_share:
            continue
        members = np.flatnonzero(category == c)
        k = max(len(voc.TEAMS), round(team_share[name] * len(members)))
        chosen = rng.choice(members, size=k, replace=False)
        # every team gets at least one item, the rest follow popularity
        assigned = np.concatenate(
            [np.arange(len(voc.TEAMS)), rng.choice(len(voc.TEAMS), k - len(voc.TEAMS), p=team_weight)]
        )
        team[np.sort(chosen)] = assigned
    price = _prices(rng, category, team)
    # price rank within category (0 = cheapest) for "premium" tags and bucket ordering
    order = np.lexsort((price, category))
    rank = np.empty(n)
    starts = np.searchsorted(category[order], np.arange(len(per_cat) + 1))
    for c in range(len(per_cat)):
        lo, hi = starts[c], starts[c + 1]
        rank[order[lo:hi]] = np.arange(hi - lo) / max(hi - lo - 1, 1)
    tag_vocab, tag_codes = _tags(rng, category, team, rank)
    names, brands = [], []
    for i in range(n):  # a few thousand products: a plain loop is clearer than vectorising
        cat = voc.CATEGORY_NAMES[category[i]]
        brand = voc.BRANDS[cat][int(rng.integers(len(voc.BRANDS[cat])))]
        if team[i] >= 0:  # licensed team merchandise: named after the team
            items = voc.TEAM_ITEMS[cat]
            names.append(f"{voc.TEAM_NAMES[team[i]]} {items[int(rng.integers(len(items)))]}")
        else:
            nouns = voc.PRODUCT_NOUNS[cat]
            adjective = voc.ADJECTIVES[int(rng.integers(len(voc.ADJECTIVES)))]
            names.append(f"{brand} {adjective} {nouns[int(rng.integers(len(nouns)))]}")
        brands.append(brand)
    product_ids = col.ids("P", np.arange(1, n + 1), col.id_width(5, n))
    table = pa.table(
        {
            "product_id": product_ids,
            "name": pa.array(names, pa.string()),
            "category": col.lookup(voc.CATEGORY_NAMES, category),
            "brand": pa.array(brands, pa.string()),
            "price": col.floats(price),
            "tags": col.list_column(tag_vocab, tag_codes),
        }
    )
    # buckets: (category, team slot) sorted by price
    slot = team + 1
    n_slots = len(voc.TEAMS) + 1
    key = category * n_slots + slot
    by_bucket = np.lexsort((price, key))
    bounds = np.searchsorted(key[by_bucket], np.arange(len(per_cat) * n_slots + 1))
    bucket_start = bounds[:-1].reshape(len(per_cat), n_slots)
    bucket_size = np.diff(bounds).reshape(len(per_cat), n_slots)
    return Catalogue(
        geo,
        stores,
        category,
        price,
        team,
        bucket_start,
        bucket_size,
        by_bucket,
        shares / shares.sum(),
        product_ids,
        table,
    )
